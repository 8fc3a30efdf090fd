import DMD
import Dispatch
import NeuralNetwork

/// One selected layer's part of Algorithm 1: its snapshot buffer (n × m float64, F9), the float64
/// vector the extrapolation (F13) is written into, and — for the guarded jump — the exact float64
/// image of w_m to restore. All allocated once; a jump allocates nothing of size n.
final class LayerState {
    let layer: Int
    let dimension: Int
    let buffer: SnapshotBuffer
    let scratch: UnsafeMutableBufferPointer<Double>
    let backup: UnsafeMutableBufferPointer<Double>?

    init(layer: Int, dimension: Int, capacity: Int, withBackup: Bool) throws {
        self.layer = layer
        self.dimension = dimension
        buffer = try SnapshotBuffer(dimension: dimension, capacity: capacity)
        scratch = .allocate(capacity: dimension)
        scratch.initialize(repeating: 0)
        if withBackup {
            let b = UnsafeMutableBufferPointer<Double>.allocate(capacity: dimension)
            b.initialize(repeating: 0)
            backup = b
        } else {
            backup = nil
        }
    }

    deinit {
        scratch.deallocate()
        backup?.deallocate()
    }

    /// Appends the layer's parameters (weights then bias, as the network stores them) as the next
    /// column of the buffer, converting to float64 straight into it (no intermediate copy).
    func appendSnapshot(from trainer: TrainerAccess, threads: Int) throws {
        try buffer.appendInPlace { column in
            trainer.readParameters(ofLayer: layer) { parameters in
                ParameterCopy.widen(parameters, into: column, threads: threads)
            }
        }
    }

    /// Writes `scratch` into the network (rounded once to its precision). Returns false when a value
    /// does not fit that precision (it became ±∞); the parameters are then written regardless.
    func assignScratch(to trainer: TrainerAccess, threads: Int) -> Bool {
        trainer.modifyParameters(ofLayer: layer) { parameters in
            ParameterCopy.narrow(UnsafeBufferPointer(scratch), into: parameters, threads: threads)
        }
    }

    /// Keeps the exact float64 image of the current parameters (w_m) for `restoreBackup`.
    func saveBackup(from trainer: TrainerAccess, threads: Int) {
        guard let backup else { return }
        trainer.readParameters(ofLayer: layer) { ParameterCopy.widen($0, into: backup, threads: threads) }
    }

    /// Puts w_m back bit for bit (float32 → float64 → float32 is the identity).
    func restoreBackup(to trainer: TrainerAccess, threads: Int) {
        guard let backup else { return }
        _ = trainer.modifyParameters(ofLayer: layer) { ParameterCopy.narrow(UnsafeBufferPointer(backup), into: $0, threads: threads) }
    }
}

/// Conversions between the network's parameters and float64, split over the cores for large layers
/// (they are memory-bound: two cores move about twice the bytes of one on this machine).
enum ParameterCopy {
    /// Below this many values one thread does the copy (a thread hand-off costs a few microseconds).
    static let parallelThreshold = 1 << 17

    static func chunks(_ count: Int, _ threads: Int, _ body: (Range<Int>) -> Void) {
        let parts = count >= parallelThreshold ? max(1, threads) : 1
        if parts == 1 { body(0..<count); return }
        DispatchQueue.concurrentPerform(iterations: parts) { c in body((count * c / parts)..<(count * (c + 1) / parts)) }
    }

    static func widen(_ source: ParameterBuffer, into destination: UnsafeMutableBufferPointer<Double>, threads: Int) {
        precondition(source.count == destination.count, "parameter copy: \(source.count) values into \(destination.count)")
        switch source {
        case .float32(let p):
            chunks(p.count, threads) { range in for i in range { destination[i] = Double(p[i]) } }
        case .float64(let p):
            chunks(p.count, threads) { range in
                (destination.baseAddress! + range.lowerBound).update(from: p.baseAddress! + range.lowerBound, count: range.count)
            }
        }
    }

    /// Returns true when every written value is finite.
    static func narrow(_ source: UnsafeBufferPointer<Double>, into destination: ParameterBuffer, threads: Int) -> Bool {
        precondition(source.count == destination.count, "parameter copy: \(source.count) values into \(destination.count)")
        let threadCount = source.count >= parallelThreshold ? max(1, threads) : 1
        let finite = UnsafeMutableBufferPointer<Bool>.allocate(capacity: threadCount)
        finite.initialize(repeating: true)
        defer { finite.deallocate() }
        let parts = threadCount
        func run(_ body: (Range<Int>) -> Bool) {
            if parts == 1 { finite[0] = body(0..<source.count); return }
            DispatchQueue.concurrentPerform(iterations: parts) { c in
                finite[c] = body((source.count * c / parts)..<(source.count * (c + 1) / parts))
            }
        }
        // The largest exponent field written: all ones only for ±∞ or NaN (an overflow in the rounding).
        // An integer max-reduction, which the compiler vectorises (a floating-point sum would not be).
        switch destination {
        case .float32(let p):
            run { range in
                var exponent: UInt32 = 0
                for i in range { let x = Float(source[i]); p[i] = x; exponent = max(exponent, x.bitPattern & 0x7f80_0000) }
                return exponent != 0x7f80_0000
            }
        case .float64(let p):
            run { range in
                var exponent: UInt64 = 0
                for i in range { let x = source[i]; p[i] = x; exponent = max(exponent, x.bitPattern & 0x7ff0_0000_0000_0000) }
                return exponent != 0x7ff0_0000_0000_0000
            }
        }
        return finite.allSatisfy { $0 }
    }
}
