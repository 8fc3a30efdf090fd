import XCTest
import _TestSupport
import NumericalFoundations
@testable import Surrogates
import Numerics

/// The per-layer snapshot buffer of Algorithm 1, its life cycle with models, typed outputs, and
/// the concurrent DMD of several layers.
final class SnapshotBufferTests: XCTestCase {
    func testAppendConvertsFloatExactlyAndConcatenatesSegments() throws {
        let buffer = try SnapshotBuffer(dimension: 5, capacity: 3)
        XCTAssertEqual(buffer.storageBytes, 5 * 3 * 8)
        let floats: [Float] = [0.1, -2.5, 3e-8, 7, 1e30]
        try buffer.append(floats)
        // Float → Double is exact, so the stored values are the Float values exactly.
        XCTAssertEqual(try buffer.snapshot(0), floats.map(Double.init))
        let weights: [Float] = [1, 2, 3], biases: [Float] = [4, 5]
        try weights.withUnsafeBufferPointer { w in
            try biases.withUnsafeBufferPointer { b in try buffer.append(segments: [w, b]) }
        }
        XCTAssertEqual(try buffer.snapshot(1), [1, 2, 3, 4, 5])
        try buffer.appendInPlace { column in for i in 0..<5 { column[i] = Double(10 * i) } }
        XCTAssertTrue(buffer.isFull)
        XCTAssertEqual(buffer.count, 3)
        XCTAssertThrowsError(try buffer.append([Double](repeating: 0, count: 5))) { error in
            XCTAssertEqual(error as? DMDError, .bufferFull(capacity: 3))
        }
        let matrix = try buffer.matrix()
        XCTAssertEqual(matrix.rows, 5); XCTAssertEqual(matrix.columns, 3)
        XCTAssertEqual(matrix.column(2), [0, 10, 20, 30, 40])
    }

    func testBadSnapshotsLeaveTheBufferUnchanged() throws {
        let buffer = try SnapshotBuffer(dimension: 4, capacity: 2)
        XCTAssertThrowsError(try buffer.append([Float](repeating: 1, count: 3))) { error in
            guard case .invalidShape = error as? DMDError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try buffer.append([1, 2, Float.nan, 4])) { error in
            XCTAssertEqual(error as? DMDError, .nonFiniteSnapshot(snapshot: 0, entry: 2, value: "nan"))
        }
        XCTAssertThrowsError(try buffer.append([1, 2, 3, -Double.infinity])) { error in
            XCTAssertEqual(error as? DMDError, .nonFiniteSnapshot(snapshot: 0, entry: 3, value: "-inf"))
        }
        XCTAssertThrowsError(try buffer.appendInPlace { $0[1] = .nan })
        XCTAssertEqual(buffer.count, 0)
        // A writer that checks finiteness itself: believed when it says finite, and when it says not,
        // the buffer finds and names the entry.
        XCTAssertThrowsError(try buffer.appendInPlaceCheckedByWriter { c in for i in 0..<4 { c[i] = i == 2 ? .infinity : 1 }; return false }) { error in
            XCTAssertEqual(error as? DMDError, .nonFiniteSnapshot(snapshot: 0, entry: 2, value: "inf"))
        }
        XCTAssertEqual(buffer.count, 0)
        try buffer.appendInPlaceCheckedByWriter { c in for i in 0..<4 { c[i] = Double(i) }; return true }
        XCTAssertEqual(try buffer.snapshot(0), [0, 1, 2, 3])
        buffer.clear()
        try buffer.append([1.0, 2, 3, 4])
        XCTAssertEqual(buffer.count, 1)
        XCTAssertThrowsError(try SnapshotBuffer(dimension: 0, capacity: 3))
        XCTAssertThrowsError(try SnapshotBuffer(dimension: 3, capacity: 1)) { error in
            XCTAssertEqual(error as? DMDError, .tooFewSnapshots(count: 1))
        }
    }

    /// Algorithm 1's cycle: fill, decompose in place, extrapolate, clear, fill again. A model of a
    /// cleared buffer refuses to extrapolate; a decomposed buffer refuses new snapshots until cleared.
    func testLifeCycleWithModels() throws {
        let system = LinearSystem(dimension: 120, modes: [polar(0.97, 0.5), Complex(0.8)], seed: 31)
        let m = 4
        let buffer = try SnapshotBuffer(dimension: 120, capacity: m)
        for k in 0..<m { try buffer.append(system.state(k)) }
        let reference = try DMD.decompose(system.snapshots(m))
        let model = try DMD.decompose(consuming: buffer)
        XCTAssertTrue(buffer.isDecomposed)
        // Same arithmetic as decomposing a copy: identical results.
        XCTAssertEqual(model.eigenvalues, reference.eigenvalues)
        XCTAssertEqual(try model.extrapolated(steps: 9), try reference.extrapolated(steps: 9))
        XCTAssertThrowsError(try buffer.append(system.state(0))) { XCTAssertEqual($0 as? DMDError, .bufferConsumed) }
        XCTAssertThrowsError(try DMD.decompose(consuming: buffer)) { XCTAssertEqual($0 as? DMDError, .bufferConsumed) }
        XCTAssertThrowsError(try buffer.snapshot(0)) { XCTAssertEqual($0 as? DMDError, .bufferConsumed) }
        buffer.clear()
        XCTAssertEqual(buffer.count, 0)
        XCTAssertThrowsError(try model.extrapolated(steps: 9)) { XCTAssertEqual($0 as? DMDError, .snapshotsCleared) }
        XCTAssertThrowsError(try model.modes(.exact)) { XCTAssertEqual($0 as? DMDError, .snapshotsCleared) }
        for k in m..<(2 * m) { try buffer.append(system.state(k)) }
        let next = try DMD.decompose(consuming: buffer)
        XCTAssertLessThan(relativeError(try next.extrapolated(steps: 5), system.state(2 * m - 1 + 5)), 1e-10)
        XCTAssertThrowsError(try DMD.decompose(consuming: try SnapshotBuffer(dimension: 3, capacity: 3))) {
            XCTAssertEqual($0 as? DMDError, .tooFewSnapshots(count: 0))
        }
    }

    /// Float outputs get the float64 state rounded once; segment outputs split it in order.
    func testExtrapolationIntoFloatAndSegmentedParameters() throws {
        let system = LinearSystem(dimension: 50, modes: [polar(0.9, 0.7), Complex(0.6)], seed: 32)
        for method in DMDOptions.SVDMethod.allCases {
            let model = try DMD.decompose(system.snapshots(5), options: DMDOptions(svdMethod: method))
            let state = try model.extrapolated(steps: 12)
            var floats = [Float](repeating: 0, count: 50)
            try floats.withUnsafeMutableBufferPointer { try model.extrapolate(steps: 12, into: $0) }
            XCTAssertEqual(floats, state.map(Float.init))
            var weights = [Float](repeating: 0, count: 40), biases = [Float](repeating: 0, count: 10)
            try weights.withUnsafeMutableBufferPointer { w in
                try biases.withUnsafeMutableBufferPointer { b in try model.extrapolate(steps: 12, intoSegments: [w, b]) }
            }
            XCTAssertEqual(weights + biases, floats)
            var doubles = [Double](repeating: 0, count: 30), rest = [Double](repeating: 0, count: 20)
            try doubles.withUnsafeMutableBufferPointer { a in
                try rest.withUnsafeMutableBufferPointer { b in try model.extrapolate(steps: 12, intoSegments: [a, b]) }
            }
            XCTAssertEqual(doubles + rest, state)
            var wrong = [Float](repeating: 0, count: 49)
            XCTAssertThrowsError(try wrong.withUnsafeMutableBufferPointer { try model.extrapolate(steps: 12, into: $0) })
        }
    }

    /// Several layers at once give exactly the sequential results, in layer order, and one failing
    /// layer (a single snapshot) does not stop the others.
    func testConcurrentDecompositionOfSeveralLayers() throws {
        let sizes = [280, 8200, 20_000, 3000]
        let m = 6
        let systems = sizes.enumerated().map { LinearSystem(dimension: $1, modes: [polar(0.98, 0.2), Complex(0.9), Complex(-0.5)], seed: UInt64(40 + $0)) }
        var buffers: [SnapshotBuffer] = []
        for system in systems {
            let buffer = try SnapshotBuffer(dimension: system.dimension, capacity: m)
            for k in 0..<m { try buffer.append(system.state(k)) }
            buffers.append(buffer)
        }
        let failing = try SnapshotBuffer(dimension: 10, capacity: m)
        try failing.append([Double](repeating: 1, count: 10))
        let results = DMD.decomposeConcurrently(buffers + [failing])
        XCTAssertEqual(results.count, 5)
        for (layer, system) in systems.enumerated() {
            let model = try results[layer].get()
            XCTAssertEqual(model.dimension, system.dimension)
            let sequential = try DMD.decompose(system.snapshots(m))
            XCTAssertEqual(model.eigenvalues, sequential.eigenvalues, "layer \(layer)")
            XCTAssertEqual(try model.extrapolated(steps: 55), try sequential.extrapolated(steps: 55))
        }
        XCTAssertThrowsError(try results[4].get()) { XCTAssertEqual($0 as? DMDError, .tooFewSnapshots(count: 1)) }

        let squares = DMD.forEachLayerConcurrently(count: 9, cost: { Double($0 % 3) }) { layer -> Int in
            if layer == 5 { throw DMDError.invalidOption("layer 5") }
            return layer * layer
        }
        for (layer, result) in squares.enumerated() {
            if layer == 5 { XCTAssertThrowsError(try result.get()) } else { XCTAssertEqual(try result.get(), layer * layer) }
        }
        XCTAssertTrue(DMD.forEachLayerConcurrently(count: 0) { $0 }.isEmpty)

        // A dominant layer (cost 100 of 103 on 2 cores) runs first and alone, the rest after it; the
        // results stay in layer order and a failure of the dominant layer stops nothing else.
        let lock = NSLock()
        var started: [Int] = []
        let dominant = DMD.forEachLayerConcurrently(count: 4, cost: { $0 == 2 ? 100 : 1 }, cores: 2) { layer -> Int in
            lock.lock(); started.append(layer); lock.unlock()
            if layer == 2 { throw DMDError.invalidOption("layer 2") }
            return 10 * layer
        }
        XCTAssertEqual(started.first, 2, "the dominant layer starts first: \(started)")
        XCTAssertEqual(Set(started), [0, 1, 2, 3])
        XCTAssertThrowsError(try dominant[2].get())
        XCTAssertEqual(try [0, 1, 3].map { try dominant[$0].get() }, [0, 10, 30])
        // No dominant layer (the largest is 2 of 5 on 2 cores): all start together, as before.
        let balanced = DMD.forEachLayerConcurrently(count: 3, cost: { [2, 2, 1][$0] }, cores: 2) { $0 + 1 }
        XCTAssertEqual(try balanced.map { try $0.get() }, [1, 2, 3])
    }
}
