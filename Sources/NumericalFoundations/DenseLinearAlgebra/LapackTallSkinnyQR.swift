import _LinearAlgebraShims
#if canImport(Glibc)
import Glibc
#endif

/// Householder QR of a tall, skinny matrix A (rows ≫ columns) by blocks of rows — "TSQR" with a
/// flat reduction tree (Demmel, Grigori, Hoemmen, Langou, "Communication-optimal parallel and
/// sequential QR and LU factorizations", SIAM J. Sci. Comput. 34, 2012):
///
///     A = [A_1; …; A_p],  A_i = Q_i R_i  (dgeqrf of each block, while it sits in cache, blocks in parallel)
///     [R_1; …; R_p] = Q_top R            (dgeqrf of the small stacked matrix)
///     Q = diag(Q_1, …, Q_p) Q_top
///
/// Like LAPACK's dgeqrf it is backward stable (every step is a Householder QR), but it streams A
/// through memory once instead of once per column: LAPACK's unblocked panel factorization of an
/// n × 14 matrix reads and writes all of it ~14 times, which makes it memory-bound for n ≈ 10⁶.
///
/// The factorization overwrites A in place with the blocks' Householder vectors; Q is applied from
/// them (`applyQ`), never formed. The caller keeps A's storage alive and unchanged while it uses
/// this value.
public struct TallSkinnyQR: Sendable {
    public let rows: Int
    public let columns: Int
    /// Leading dimension of the factored storage.
    public let leadingDimension: Int
    /// First row of each block, plus `rows` at the end.
    public let blockStarts: [Int]
    /// Householder scalars of each block (min(block rows, columns) each).
    let blockTau: [[Double]]
    /// Offsets of each block's R_i rows in the stacked matrix, plus its total row count at the end.
    let stackedOffsets: [Int]
    /// The stacked [R_1; …; R_p] after its own QR (R above the diagonal, reflectors below).
    let stacked: ColumnMajorMatrix
    let stackedTau: [Double]
    /// The triangular factor, min(rows, columns) × columns.
    public let r: ColumnMajorMatrix

    /// Default rows per block: ≈ 256 KiB of float64 per block, half of this machine's 512 KiB L2,
    /// and never fewer rows than columns (a block shorter than wide would gain nothing).
    public static func defaultBlockRows(columns: Int) -> Int {
        max(2 * max(columns, 1), 32_768 / max(columns, 1))
    }

    /// Factors the rows × columns matrix at `matrix` (column-major, leading dimension ≥ rows) in
    /// place. Blocks are factored concurrently on all cores when `concurrent`.
    public init(factoringInPlace matrix: UnsafeMutablePointer<Double>, rows: Int, columns: Int, leadingDimension: Int,
                blockRows: Int? = nil, concurrent: Bool = true) throws {
        let routine = "dgeqrf (TSQR)"
        guard rows >= 1, columns >= 1, leadingDimension >= rows else {
            throw LapackError.invalidShape(routine: routine, message: "a \(rows) × \(columns) matrix with leading dimension \(leadingDimension)")
        }
        let (starts, offsets) = Self.blockLayout(rows: rows, columns: columns, blockRows: blockRows)
        let blocks = try Self.factorBlocks(matrix, columns: columns, leadingDimension: leadingDimension, starts: starts, offsets: offsets,
                                           concurrent: concurrent)
        let (top, topTau) = try Self.factorStacked(blocks.stacked, rows: offsets[starts.count - 1], columns: columns)
        let k = min(rows, columns)
        var triangle = ColumnMajorMatrix(rows: k, columns: columns)
        for j in 0..<columns { for i in 0..<min(j + 1, k) { triangle[i, j] = top[i, j] } }

        self.rows = rows
        self.columns = columns
        self.leadingDimension = leadingDimension
        blockStarts = starts
        blockTau = blocks.tau
        stackedOffsets = offsets
        stacked = top
        stackedTau = topTau
        r = triangle
    }

    /// The first row of each block (then `rows`), and the offset of each block's R_i in the stacked
    /// matrix (then its row count).
    private static func blockLayout(rows: Int, columns: Int, blockRows: Int?) -> (starts: [Int], offsets: [Int]) {
        let height = max(blockRows ?? Self.defaultBlockRows(columns: columns), 1)
        var starts = Array(stride(from: 0, to: rows, by: height))
        // A last block shorter than the matrix is wide joins the block before it.
        if starts.count > 1 && rows - starts.last! < columns { starts.removeLast() }
        starts.append(rows)
        let blockCount = starts.count - 1
        var offsets = [0]
        for b in 0..<blockCount { offsets.append(offsets[b] + min(starts[b + 1] - starts[b], columns)) }
        return (starts, offsets)
    }

    /// Stage 1: each block's QR in place; its R_i goes into the stacked matrix (column-major,
    /// returned with each block's reflector scalars). Blocks write disjoint rows of the storage and
    /// of the stacked matrix, so they need no lock.
    private static func factorBlocks(_ matrix: UnsafeMutablePointer<Double>, columns: Int, leadingDimension: Int,
                                     starts: [Int], offsets: [Int], concurrent: Bool) throws -> (stacked: [Double], tau: [[Double]]) {
        let blockCount = starts.count - 1
        let stackedRows = offsets[blockCount]
        let stackedStorage = UnsafeMutablePointer<Double>.allocate(capacity: stackedRows * columns)
        stackedStorage.initialize(repeating: 0, count: stackedRows * columns)
        defer { stackedStorage.deallocate() }
        let tauStorage = UnsafeMutablePointer<Double>.allocate(capacity: stackedRows)
        tauStorage.initialize(repeating: 0, count: stackedRows)
        defer { tauStorage.deallocate() }
        let failures = UnsafeMutablePointer<LapackError?>.allocate(capacity: blockCount)
        failures.initialize(repeating: nil, count: blockCount)
        defer { failures.deinitialize(count: blockCount); failures.deallocate() }
        let chunks = concurrent ? min(blockCount, 4 * max(1, Self.processorCount)) : 1
        let factorChunk = { (chunk: Int) in
            for b in stride(from: chunk, to: blockCount, by: chunks) {
                let top = starts[b], blockHeight = starts[b + 1] - starts[b], k = min(blockHeight, columns)
                do {
                    try Lapack.householderQRInPlace(rows: blockHeight, columns: columns, matrix: matrix + top,
                                                    leadingDimension: leadingDimension, tau: tauStorage + offsets[b])
                } catch let error as LapackError {
                    failures[b] = error
                    continue
                } catch {
                    continue
                }
                for j in 0..<columns {
                    for i in 0..<min(j + 1, k) {
                        stackedStorage[offsets[b] + i + j * stackedRows] = matrix[top + i + j * leadingDimension]
                    }
                }
            }
        }
        // One BLAS thread per block call, also when the blocks run one after the other: the results
        // are then bitwise the same either way, and OpenBLAS's threading of a 2 000 × 14 dgeqrf costs
        // more than it saves.
        Lapack.withSingleThreadedBLAS {
            if chunks > 1 {
                ParallelWork.forEachItem(count: chunks, factorChunk)
            } else {
                factorChunk(0)
            }
        }
        for b in 0..<blockCount { if let error = failures[b] { throw error } }
        let stacked = Array(UnsafeBufferPointer(start: stackedStorage, count: stackedRows * columns))
        let tau = (0..<blockCount).map { b in Array(UnsafeBufferPointer(start: tauStorage + offsets[b], count: offsets[b + 1] - offsets[b])) }
        return (stacked, tau)
    }

    /// Stage 2: QR of the stacked R's (rows × columns, small), in place.
    private static func factorStacked(_ stackedValues: [Double], rows stackedRows: Int, columns: Int) throws
        -> (factors: ColumnMajorMatrix, tau: [Double]) {
        var top = try ColumnMajorMatrix(rows: stackedRows, columns: columns, columnMajor: stackedValues)
        var topTau = [Double](repeating: 0, count: min(stackedRows, columns))
        try top.withUnsafeMutableBufferPointer { t in
            try topTau.withUnsafeMutableBufferPointer { tb in
                try Lapack.householderQRInPlace(rows: stackedRows, columns: columns, matrix: t.baseAddress!,
                                                leadingDimension: stackedRows, tau: tb.baseAddress!)
            }
        }
        return (top, topTau)
    }

    public var blockCount: Int { blockStarts.count - 1 }

    /// The number of online cores (sysconf; this module does not import Foundation).
    static let processorCount: Int = {
        let count = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return count > 0 ? count : 1
    }()

    /// output (rows values) = Q [z; 0] for z of min(rows, columns) values; `factors` is the storage
    /// this value was computed from. Cost O(rows · columns), blocks in parallel when `concurrent`.
    public func applyQ(to z: [Double], factors: UnsafePointer<Double>, into output: UnsafeMutablePointer<Double>,
                       concurrent: Bool = true) throws {
        let k = min(rows, columns)
        guard z.count == k else {
            throw LapackError.invalidShape(routine: "dormqr (TSQR)", message: "Q [z; 0] needs z of \(k) values, got \(z.count)")
        }
        // t = Q_top [z; 0] (stacked coordinates), then each block: output_b = Q_b [t_b; 0].
        let stackedRows = stackedOffsets[blockCount]
        var t = [Double](repeating: 0, count: stackedRows)
        for i in 0..<k { t[i] = z[i] }
        try t.withUnsafeMutableBufferPointer { tb in
            try stacked.withUnsafeBufferPointer { sb in
                try stackedTau.withUnsafeBufferPointer { taub in
                    try Lapack.applyHouseholderQ(transposed: false, reflectorRows: stackedRows, reflectorCount: stackedTau.count,
                                                 reflectors: sb.baseAddress!, leadingDimension: stackedRows, tau: taub.baseAddress!,
                                                 to: tb.baseAddress!, cColumns: 1, cLeadingDimension: stackedRows)
                }
            }
        }
        try forEachBlock(concurrent: concurrent) { b in
            let top = blockStarts[b], height = blockStarts[b + 1] - top
            let target = output + top
            target.update(repeating: 0, count: height)
            for i in 0..<(stackedOffsets[b + 1] - stackedOffsets[b]) { target[i] = t[stackedOffsets[b] + i] }
            Self.applyReflectors(blockTau[b], reflectors: factors + top, leadingDimension: leadingDimension, height: height, to: target)
        }
    }

    /// y ← Q y with Q = H_0 H_1 ⋯ H_{k−1}, H_j = I − τ_j v_j v_jᵀ in LAPACK's dgeqrf storage
    /// (v_j is 0 above row j, 1 at row j, and column j of `reflectors` below it), so H_{k−1} is
    /// applied first. Two BLAS-1 calls per reflector: for one vector this is much cheaper than
    /// dormqr, whose per-call overhead dominates on short blocks.
    static func applyReflectors(_ tau: [Double], reflectors: UnsafePointer<Double>, leadingDimension: Int, height: Int,
                                to y: UnsafeMutablePointer<Double>) {
        for j in stride(from: tau.count - 1, through: 0, by: -1) where tau[j] != 0 {
            let below = Int32(height - j - 1)
            let v = reflectors + (j + 1) + j * leadingDimension
            let projection = tau[j] * (y[j] + (below > 0 ? cblas_ddot(below, v, 1, y + j + 1, 1) : 0))
            y[j] -= projection
            if below > 0 { cblas_daxpy(below, -projection, v, 1, y + j + 1, 1) }
        }
    }

    /// The first min(rows, columns) entries of Qᵀ v for v of `rows` values (Q's thin part applied
    /// transposed). `factors` as in `applyQ`.
    public func applyQTransposed(to v: [Double], factors: UnsafePointer<Double>) throws -> [Double] {
        guard v.count == rows else {
            throw LapackError.invalidShape(routine: "dormqr (TSQR)", message: "Qᵀ v needs v of \(rows) values, got \(v.count)")
        }
        let stackedRows = stackedOffsets[blockCount]
        var t = [Double](repeating: 0, count: stackedRows)
        for b in 0..<blockCount {
            let top = blockStarts[b], height = blockStarts[b + 1] - top
            var part = Array(v[top..<(top + height)])
            try part.withUnsafeMutableBufferPointer { pb in
                try blockTau[b].withUnsafeBufferPointer { taub in
                    try Lapack.applyHouseholderQ(transposed: true, reflectorRows: height, reflectorCount: taub.count,
                                                 reflectors: factors + top, leadingDimension: leadingDimension, tau: taub.baseAddress!,
                                                 to: pb.baseAddress!, cColumns: 1, cLeadingDimension: height)
                }
            }
            for i in 0..<(stackedOffsets[b + 1] - stackedOffsets[b]) { t[stackedOffsets[b] + i] = part[i] }
        }
        try t.withUnsafeMutableBufferPointer { tb in
            try stacked.withUnsafeBufferPointer { sb in
                try stackedTau.withUnsafeBufferPointer { taub in
                    try Lapack.applyHouseholderQ(transposed: true, reflectorRows: stackedRows, reflectorCount: stackedTau.count,
                                                 reflectors: sb.baseAddress!, leadingDimension: stackedRows, tau: taub.baseAddress!,
                                                 to: tb.baseAddress!, cColumns: 1, cLeadingDimension: stackedRows)
                }
            }
        }
        return Array(t[0..<min(rows, columns)])
    }

    /// Runs `body` for every block, concurrently in a few chunks when asked; the first error is rethrown.
    private func forEachBlock(concurrent: Bool, _ body: (Int) throws -> Void) throws {
        let chunks = concurrent ? min(blockCount, 4 * max(1, Self.processorCount)) : 1
        if chunks <= 1 {
            try Lapack.withSingleThreadedBLAS { for b in 0..<blockCount { try body(b) } }
            return
        }
        let failures = UnsafeMutablePointer<Error?>.allocate(capacity: chunks)
        failures.initialize(repeating: nil, count: chunks)
        defer { failures.deinitialize(count: chunks); failures.deallocate() }
        Lapack.withSingleThreadedBLAS {
            ParallelWork.forEachItem(count: chunks) { chunk in
                do {
                    for b in stride(from: chunk, to: blockCount, by: chunks) { try body(b) }
                } catch {
                    failures[chunk] = error
                }
            }
        }
        for chunk in 0..<chunks { if let error = failures[chunk] { throw error } }
    }
}

