import NumericalFoundations

/// The snapshot matrix [w_1 … w_m] of one layer (F9), preallocated once: n × m float64 values in
/// column-major order, one snapshot per column (snapshot j occupies entries j·n ..< (j+1)·n).
///
/// Algorithm 1 appends the layer's parameters after every epoch (one conversion copy from Float
/// or Double), decomposes when `isFull`, and clears. `DMD.decompose(consuming:)` factorizes this
/// storage in place (no second n × m copy), so a decomposed buffer must be `clear()`ed before it
/// takes new snapshots; a model stays usable until then.
///
/// Not thread-safe: one buffer belongs to one layer and is used by one thread at a time
/// (`DMD.forEachLayerConcurrently` runs different layers' buffers in parallel).
public final class SnapshotBuffer: @unchecked Sendable {
    /// n, the length of one snapshot (the layer's parameter count).
    public let dimension: Int
    /// m, the number of snapshots the buffer holds when full.
    public let capacity: Int
    /// Snapshots appended since the last `clear()`.
    public private(set) var count = 0
    /// True once a decomposition has used (and, on the QR path, overwritten) the storage.
    public private(set) var isDecomposed = false
    /// Changes at every `clear()`; a model remembers the generation it was computed from.
    public private(set) var generation: UInt64 = 0

    let storage: UnsafeMutablePointer<Double>

    /// Allocates (and zeroes) n × m float64 values.
    public init(dimension: Int, capacity: Int) throws {
        guard dimension >= 1 else { throw DMDError.invalidShape("a snapshot needs at least one entry, got dimension \(dimension)") }
        guard capacity >= 2 else { throw DMDError.tooFewSnapshots(count: capacity) }
        let (total, overflow) = dimension.multipliedReportingOverflow(by: capacity)
        guard !overflow, total <= Int.max / 8 else {
            throw DMDError.invalidShape("\(dimension) × \(capacity) snapshot values do not fit in memory")
        }
        self.dimension = dimension
        self.capacity = capacity
        storage = .allocate(capacity: total)
        storage.initialize(repeating: 0, count: total)
    }

    deinit { storage.deallocate() }

    public var isFull: Bool { count == capacity }

    /// Bytes of snapshot storage (n · m · 8).
    public var storageBytes: Int { dimension * capacity * MemoryLayout<Double>.stride }

    /// Forgets every snapshot (the storage is kept) and invalidates models computed from it.
    public func clear() {
        count = 0
        isDecomposed = false
        generation &+= 1
    }

    /// Appends one snapshot given as consecutive pieces whose lengths add up to n (e.g. a layer's
    /// weight matrix followed by its bias vector), converting to float64. A NaN or ±∞ entry is an
    /// error and leaves the buffer as it was.
    public func append<T: BinaryFloatingPoint>(segments: [UnsafeBufferPointer<T>]) throws {
        guard !isDecomposed else { throw DMDError.bufferConsumed }
        guard count < capacity else { throw DMDError.bufferFull(capacity: capacity) }
        let total = segments.reduce(0) { $0 + $1.count }
        guard total == dimension else {
            throw DMDError.invalidShape("a snapshot of this buffer has \(dimension) entries, got \(total)")
        }
        let column = storage + count * dimension
        var offset = 0
        var poison = 0.0
        for segment in segments {
            poison += convert(segment, into: column + offset)
            offset += segment.count
        }
        // poison is Σ x·0: 0 for finite input, NaN as soon as one entry is NaN or ±∞.
        if !poison.isFinite {
            let index = (0..<dimension).first { !column[$0].isFinite } ?? 0
            throw DMDError.nonFiniteSnapshot(snapshot: count, entry: index, value: "\(column[index])")
        }
        count += 1
    }

    /// Appends one snapshot of n entries (see `append(segments:)`).
    public func append<T: BinaryFloatingPoint>(_ snapshot: UnsafeBufferPointer<T>) throws {
        try append(segments: [snapshot])
    }

    public func append(_ snapshot: [Double]) throws {
        try snapshot.withUnsafeBufferPointer { try append(segments: [$0]) }
    }

    public func append(_ snapshot: [Float]) throws {
        try snapshot.withUnsafeBufferPointer { try append(segments: [$0]) }
    }

    /// Snapshot j (0-based) as stored, a copy. Only meaningful before a decomposition.
    public func snapshot(_ j: Int) throws -> [Double] {
        guard j >= 0, j < count else { throw DMDError.invalidShape("snapshot \(j) requested, the buffer holds \(count)") }
        guard !isDecomposed else { throw DMDError.bufferConsumed }
        return Array(UnsafeBufferPointer(start: storage + j * dimension, count: dimension))
    }

    /// The n × count snapshot matrix, a copy (for tests and small problems).
    public func matrix() throws -> ColumnMajorMatrix {
        guard !isDecomposed else { throw DMDError.bufferConsumed }
        return try ColumnMajorMatrix(rows: dimension, columns: count,
                                     columnMajor: Array(UnsafeBufferPointer(start: storage, count: dimension * count)))
    }

    /// Fills the next snapshot in place through `body` (no intermediate copy); the snapshot counts
    /// only if `body` returns normally and every entry it wrote is finite.
    public func appendInPlace(_ body: (UnsafeMutableBufferPointer<Double>) throws -> Void) throws {
        guard !isDecomposed else { throw DMDError.bufferConsumed }
        guard count < capacity else { throw DMDError.bufferFull(capacity: capacity) }
        let column = UnsafeMutableBufferPointer(start: storage + count * dimension, count: dimension)
        try body(column)
        if let index = column.firstIndex(where: { !$0.isFinite }) {
            throw DMDError.nonFiniteSnapshot(snapshot: count, entry: index, value: "\(column[index])")
        }
        count += 1
    }

    /// Replaces the snapshots x_1 … x_k by their k − 1 successive differences
    /// d_j = x_{j+1} − x_j (in place, one pass over the storage), for a DMD of the *updates* rather
    /// than of the states (docs/dmd.md, "DMD of the updates"). Needs k ≥ 3, so that at least two
    /// differences — one pair (X, X') of (F9) — remain.
    public func replaceWithDifferences() throws {
        guard !isDecomposed else { throw DMDError.bufferConsumed }
        guard count >= 3 else { throw DMDError.tooFewSnapshots(count: max(count - 1, 0)) }
        let n = dimension
        // d_j needs x_j and x_{j+1}; going left to right, x_{j+1} is still intact when d_j replaces x_j.
        for j in 0..<(count - 1) {
            let current = storage + j * n, next = storage + (j + 1) * n
            for i in 0..<n { current[i] = next[i] - current[i] }
        }
        count -= 1
    }

    /// As `appendInPlace(_:)`, for a `body` (the writer) that checks finiteness while it writes (e.g. in the same
    /// pass as a conversion, split over the cores) and returns whether every entry is finite: the
    /// buffer then skips its own pass over the column, and scans only to name the offending entry.
    public func appendInPlaceCheckedByWriter(_ body: (UnsafeMutableBufferPointer<Double>) throws -> Bool) throws {
        guard !isDecomposed else { throw DMDError.bufferConsumed }
        guard count < capacity else { throw DMDError.bufferFull(capacity: capacity) }
        let column = UnsafeMutableBufferPointer(start: storage + count * dimension, count: dimension)
        if try !body(column) {
            let index = column.firstIndex { !$0.isFinite } ?? 0
            throw DMDError.nonFiniteSnapshot(snapshot: count, entry: index, value: "\(column[index])")
        }
        count += 1
    }

    /// Marks the storage as used by a decomposition (see `DMD.decompose(consuming:)`).
    func markDecomposed() { isDecomposed = true }
}

/// Copies `source` into `destination` as float64 and returns Σ x·0 (NaN iff some x is not finite).
@inline(__always)
private func convert<T: BinaryFloatingPoint>(_ source: UnsafeBufferPointer<T>, into destination: UnsafeMutablePointer<Double>) -> Double {
    if T.self == Double.self {
        let doubles = UnsafeRawBufferPointer(source).bindMemory(to: Double.self)
        if let base = doubles.baseAddress { destination.update(from: base, count: doubles.count) }
        return finitenessPoison(UnsafeBufferPointer(start: destination, count: doubles.count))
    }
    if T.self == Float.self {
        let floats = UnsafeRawBufferPointer(source).bindMemory(to: Float.self)
        for i in 0..<floats.count { destination[i] = Double(floats[i]) }
        return finitenessPoison(UnsafeBufferPointer(start: destination, count: floats.count))
    }
    for i in 0..<source.count { destination[i] = Double(source[i]) }
    return finitenessPoison(UnsafeBufferPointer(start: destination, count: source.count))
}

/// Σ x·0 over the values with four independent partial sums (so the loop pipelines): 0 when every
/// value is finite, NaN otherwise (∞·0 and NaN·0 are NaN).
@inline(__always)
func finitenessPoison(_ values: UnsafeBufferPointer<Double>) -> Double {
    var a = 0.0, b = 0.0, c = 0.0, d = 0.0
    var i = 0
    let n = values.count
    while i + 4 <= n {
        a += values[i] * 0
        b += values[i + 1] * 0
        c += values[i + 2] * 0
        d += values[i + 3] * 0
        i += 4
    }
    while i < n { a += values[i] * 0; i += 1 }
    return a + b + c + d
}
