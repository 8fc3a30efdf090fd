import NumericalFoundations

/// The parameters one DMD of Algorithm 1 sees: one selected layer (the paper: a DMD per layer), or
/// every selected layer as one vector (`dmd.scope = "network"`), the layers' parameters (weights then
/// bias, as the network stores them) concatenated in layer order. It owns the snapshot buffer
/// (n × m float64, F9), the float64 vector the extrapolation (F13) is written into, and — for the
/// guarded jump and for a DMD of the updates — the exact float64 image of w_m. All allocated once; a
/// jump allocates nothing of size n.
final class ParameterBlock {
    /// 0-based weight layers in the block, ascending, and where each starts in the block's vector.
    let layers: [Int]
    let offsets: [Int]
    let counts: [Int]
    /// n: the block's parameter count.
    let dimension: Int
    /// The history's name of the block: "L<k>" for one layer, "all" for the network scope.
    let label: String
    let buffer: SnapshotBuffer
    let scratch: UnsafeMutableBufferPointer<Double>
    let backup: UnsafeMutableBufferPointer<Double>?

    init(layers: [Int], layout: NetworkLayout, label: String, capacity: Int, withBackup: Bool) throws {
        self.layers = layers
        self.label = label
        counts = layers.map { layout.parameterCount(ofLayer: $0) }
        var offsets: [Int] = [], total = 0
        for c in counts { offsets.append(total); total += c }
        self.offsets = offsets
        dimension = total
        buffer = try SnapshotBuffer(dimension: total, capacity: capacity)
        scratch = .allocate(capacity: total)
        scratch.initialize(repeating: 0)
        if withBackup {
            let b = UnsafeMutableBufferPointer<Double>.allocate(capacity: total)
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

    /// "layer k" or "layers 0, 1, 2, 3 (one DMD)", for messages.
    var description: String {
        layers.count == 1 ? "layer \(layers[0])" : "layers \(layers.map(String.init).joined(separator: ", ")) (one DMD)"
    }

    /// The layer and its own 0-based parameter index of the block's entry `entry`.
    func locate(_ entry: Int) -> (layer: Int, index: Int) {
        let i = offsets.lastIndex { $0 <= entry } ?? 0
        return (layers[i], entry - offsets[i])
    }

    /// The part of a block-sized vector that belongs to the block's i-th layer.
    private func segment(_ vector: UnsafeMutableBufferPointer<Double>, _ i: Int) -> UnsafeMutableBufferPointer<Double> {
        UnsafeMutableBufferPointer(rebasing: vector[offsets[i]..<(offsets[i] + counts[i])])
    }

    /// Appends the block's parameters as the next column of the buffer, converting to float64 straight
    /// into it (no intermediate copy).
    func appendSnapshot(from trainer: TrainerAccess, threads: Int) throws {
        // The finiteness check rides in the conversion's pass (one read of the parameters, split over
        // the cores) instead of a second, single-threaded pass over the float64 column.
        try buffer.appendInPlaceCheckedByWriter { column in
            var finite = true
            for (i, layer) in layers.enumerated() {
                finite = trainer.readParameters(ofLayer: layer) { ParameterCopy.widen($0, into: segment(column, i), threads: threads) } && finite
            }
            return finite
        }
    }

    /// Writes `scratch` into the network (rounded once to its precision). Returns false when a value
    /// does not fit that precision (it became ±∞); the parameters are then written regardless.
    func assignScratch(to trainer: TrainerAccess, threads: Int) -> Bool {
        var fits = true
        for (i, layer) in layers.enumerated() {
            let values = UnsafeBufferPointer(segment(scratch, i))
            fits = trainer.modifyParameters(ofLayer: layer) { ParameterCopy.narrow(values, into: $0, threads: threads) } && fits
        }
        return fits
    }

    /// Keeps the exact float64 image of the current parameters (w_m) for `restoreBackup` and `addBackupToScratch`.
    func saveBackup(from trainer: TrainerAccess, threads: Int) {
        guard let backup else { return }
        for (i, layer) in layers.enumerated() {
            trainer.readParameters(ofLayer: layer) { ParameterCopy.widen($0, into: segment(backup, i), threads: threads) }
        }
    }

    /// Puts w_m back bit for bit (float32 → float64 → float32 is the identity).
    func restoreBackup(to trainer: TrainerAccess, threads: Int) {
        guard let backup else { return }
        for (i, layer) in layers.enumerated() {
            let values = UnsafeBufferPointer(segment(backup, i))
            _ = trainer.modifyParameters(ofLayer: layer) { ParameterCopy.narrow(values, into: $0, threads: threads) }
        }
    }

    /// scratch ← w_m + scratch: a DMD of the updates predicts w_{m+s} − w_m (`DMDModel.accumulate`).
    func addBackupToScratch(threads: Int) {
        guard let backup else { preconditionFailure("a DMD of the updates needs the block's copy of w_m") }
        ParameterCopy.chunks(dimension, threads) { range in for i in range { scratch[i] += backup[i] } }
    }
}

/// Conversions between the network's parameters and float64, split over the cores for large layers
/// (they are memory-bound: two cores move about twice the bytes of one on this machine).
enum ParameterCopy {
    /// Below this many values one thread does the copy (a thread hand-off costs a few microseconds).
    static let parallelThreshold = 1 << 17

    static func chunks(_ count: Int, _ threads: Int, _ body: (Range<Int>) -> Void) {
        ParallelWork.forEachRange(count: count, threads: threads, grain: grain(threads), body)
    }

    /// The grain that makes `ParallelWork` split a copy into `threads` ranges exactly when it has at
    /// least `parallelThreshold` values.
    static func grain(_ threads: Int) -> Int { parallelThreshold / max(threads, 1) }

    /// `body` on the ranges of `chunks`; true when every range reports true (all values finite).
    static func allChunks(count: Int, threads: Int, _ body: (Range<Int>) -> Bool) -> Bool {
        let finite = UnsafeMutableBufferPointer<Bool>.allocate(capacity: max(1, threads))
        finite.initialize(repeating: true)
        defer { finite.deallocate() }
        ParallelWork.forEachChunk(count: count, threads: threads, grain: grain(threads)) { c, range in finite[c] = body(range) }
        return finite.allSatisfy { $0 }
    }

    /// Returns true when every value is finite (checked in the same pass, as `narrow` does).
    @discardableResult
    static func widen(_ source: ParameterBuffer, into destination: UnsafeMutableBufferPointer<Double>, threads: Int) -> Bool {
        precondition(source.count == destination.count, "parameter copy: \(source.count) values into \(destination.count)")
        func run(_ body: (Range<Int>) -> Bool) -> Bool { allChunks(count: source.count, threads: threads, body) }
        // The largest exponent field read: all ones only for ±∞ or NaN. An integer max-reduction,
        // which the compiler vectorises alongside the conversion.
        switch source {
        case .float32(let p):
            return run { range in
                var exponent: UInt32 = 0
                for i in range { let x = p[i]; destination[i] = Double(x); exponent = max(exponent, x.bitPattern & 0x7f80_0000) }
                return exponent != 0x7f80_0000
            }
        case .float64(let p):
            return run { range in
                var exponent: UInt64 = 0
                for i in range { let x = p[i]; destination[i] = x; exponent = max(exponent, x.bitPattern & 0x7ff0_0000_0000_0000) }
                return exponent != 0x7ff0_0000_0000_0000
            }
        }
    }

    /// Returns true when every written value is finite.
    static func narrow(_ source: UnsafeBufferPointer<Double>, into destination: ParameterBuffer, threads: Int) -> Bool {
        precondition(source.count == destination.count, "parameter copy: \(source.count) values into \(destination.count)")
        func run(_ body: (Range<Int>) -> Bool) -> Bool { allChunks(count: source.count, threads: threads, body) }
        // The largest exponent field written: all ones only for ±∞ or NaN (an overflow in the rounding).
        // An integer max-reduction, which the compiler vectorises (a floating-point sum would not be).
        switch destination {
        case .float32(let p):
            return run { range in
                var exponent: UInt32 = 0
                for i in range { let x = Float(source[i]); p[i] = x; exponent = max(exponent, x.bitPattern & 0x7f80_0000) }
                return exponent != 0x7f80_0000
            }
        case .float64(let p):
            return run { range in
                var exponent: UInt64 = 0
                for i in range { let x = source[i]; p[i] = x; exponent = max(exponent, x.bitPattern & 0x7ff0_0000_0000_0000) }
                return exponent != 0x7ff0_0000_0000_0000
            }
        }
    }
}
