import _LinearAlgebraShims
import NumericalFoundations
import Numerics

/// Dynamic mode decomposition of a snapshot matrix (formulation.md §5, F9–F13).
///
/// Layout: n × m float64, column-major, one snapshot per column (`SnapshotBuffer`, or a
/// `ColumnMajorMatrix` with `rows` = n, `columns` = m). X = [w_1 … w_{m−1}], X' = [w_2 … w_m] (F9).
///
/// Both SVD paths reduce everything to m × m matrices after a single O(n m²) pass over the
/// snapshots — one Householder QR of [w_1 … w_m] (default) or one Gram matrix [w_1 … w_m]ᵀ[w_1 … w_m]
/// (the paper's method of snapshots) — because X and X' share m − 2 columns: their factors are
/// column blocks of the factor of the whole snapshot matrix. No n × n matrix is ever formed.
public enum DMD {
    /// Decomposes a copy of `snapshots` (n × m, one snapshot per column); the matrix is not modified
    /// and the model owns its storage. Non-finite entries are rejected.
    public static func decompose(_ snapshots: ColumnMajorMatrix, options: DMDOptions = DMDOptions()) throws -> DMDModel {
        guard snapshots.columns >= 2 else { throw DMDError.tooFewSnapshots(count: snapshots.columns) }
        guard snapshots.rows >= 1 else { throw DMDError.invalidShape("snapshots need at least one entry, got a 0 × \(snapshots.columns) matrix") }
        let buffer = try SnapshotBuffer(dimension: snapshots.rows, capacity: snapshots.columns)
        try snapshots.withUnsafeBufferPointer { values in
            for j in 0..<snapshots.columns {
                try buffer.append(UnsafeBufferPointer(rebasing: values[(j * snapshots.rows)..<((j + 1) * snapshots.rows)]))
            }
        }
        return try decompose(consuming: buffer, options: options)
    }

    /// Decomposes the snapshots in `buffer` (its `count` ≥ 2 columns) in place: the QR path
    /// overwrites the storage with Householder reflectors, so no second n × m array is needed.
    /// Afterwards (also after an error) the buffer is marked decomposed and must be `clear()`ed
    /// before it takes snapshots again; the model stays valid until that `clear()`.
    public static func decompose(consuming buffer: SnapshotBuffer, options: DMDOptions = DMDOptions()) throws -> DMDModel {
        try options.validate()
        guard !buffer.isDecomposed else { throw DMDError.bufferConsumed }
        guard buffer.count >= 2 else { throw DMDError.tooFewSnapshots(count: buffer.count) }
        buffer.markDecomposed()
        switch options.svdMethod {
        case .householderQR: return try decomposeByHouseholderQR(buffer, options)
        case .methodOfSnapshots: return try decomposeByMethodOfSnapshots(buffer, options)
        }
    }

    /// r = #{i : σ_i / σ_0 > tolerance} (F10; σ descending), capped by `maximumRank`; 0 when σ_0 = 0.
    public static func truncationRank(singularValues σ: [Double], tolerance: Double, maximumRank: Int? = nil) -> Int {
        guard let largest = σ.first, largest > 0 else { return 0 }
        var r = 0
        while r < σ.count && σ[r] / largest > tolerance { r += 1 }
        if let maximumRank { r = min(r, maximumRank) }
        return r
    }

    /// λ^s on the principal branch, |λ|^s e^{i s arg λ} (exact powers for integer s up to rounding),
    /// with 0^0 = 1 and 0^s = 0; nil when the result overflows.
    static func power(_ lambda: Complex<Double>, _ s: Double) -> Complex<Double>? {
        if s == 0 { return Complex(1) }
        let length = lambda.length
        if length == 0 { return .zero }
        let modulus = Double.pow(length, s)
        let phase = s * lambda.phase
        guard modulus.isFinite, phase.isFinite else { return nil }
        return Complex(modulus * Double.cos(phase), modulus * Double.sin(phase))
    }

    // MARK: QR path (default)

    /// Householder QR [w_1 … w_m] = Q R (2 n m² flops, in place, by cache-sized row blocks in
    /// parallel: `TallSkinnyQR`). Then X = Q R[:, 0..<p] and X' = Q R[:, 1..<m], so the thin SVD of X
    /// is Q times the SVD of the small R₁ = R[:, 0..<p] (F10), Ã = U₁ᵀ R₂ V Σ⁻¹ (F11) and
    /// w_m = Q R[:, m−1] — all in the k = min(n, m) coordinates of Q.
    static func decomposeByHouseholderQR(_ buffer: SnapshotBuffer, _ options: DMDOptions) throws -> DMDModel {
        let n = buffer.dimension, m = buffer.count, p = m - 1, k = min(n, m)
        let qr = try lapack { try TallSkinnyQR(factoringInPlace: buffer.storage, rows: n, columns: m, leadingDimension: n) }
        let r = qr.r
        let r1 = r.submatrix(rows: 0..<k, columns: 0..<p)
        let r2 = r.submatrix(rows: 0..<k, columns: 1..<m)
        let lastSnapshot = r.column(m - 1)
        let svd = try lapack { try SingularValueDecomposition(r1) }
        let σ = svd.singularValues
        let rank = truncationRank(singularValues: σ, tolerance: options.tolerance, maximumRank: options.maximumRank)
        if rank == 0 {
            return identityModel(buffer, options, singularValues: σ, basis: .householder(qr), coordinateCount: k, lastSnapshot: lastSnapshot)
        }
        let ur = svd.u.submatrix(rows: 0..<k, columns: 0..<rank)
        let vr = svd.vt.submatrix(rows: 0..<rank, columns: 0..<p).transposed
        // T = R₂ V_r Σ_r⁻¹ (k × r): the coordinates of X' V_r Σ_r⁻¹, whose product with Y gives the exact modes.
        var t = try lapack { try r2.multiplied(by: vr) }
        for j in 0..<rank { for i in 0..<k { t[i, j] /= σ[j] } }
        let reduced = try lapack { try ur.multiplied(by: t, transposingSelf: true) }  // (F11) Ã = U_rᵀ X' V_r Σ_r⁻¹
        return try finish(buffer, options, singularValues: σ, rank: rank, reducedOperator: reduced,
                          basis: .householder(qr), projectedBasis: ur, exactBasis: t,
                          fitMetric: nil, lastSnapshot: lastSnapshot)
    }

    // MARK: Method of snapshots (the paper's)

    /// K = [w_1 … w_m]ᵀ[w_1 … w_m] (n m² flops, dsyrk). XᵀX = K[0..<p, 0..<p] = V Σ² Vᵀ gives the thin
    /// SVD of X with U = X V Σ⁻¹ (F10, the paper's method of snapshots); then
    /// Ã = Σ_r⁻¹ V_rᵀ (XᵀX') V_r Σ_r⁻¹ with XᵀX' = K[0..<p, 1..<m] (F11). Modes are kept as
    /// combinations of the snapshot columns: projected Φ = X (V_r Σ_r⁻¹ Y), exact Φ = X' (V_r Σ_r⁻¹ Y).
    static func decomposeByMethodOfSnapshots(_ buffer: SnapshotBuffer, _ options: DMDOptions) throws -> DMDModel {
        let n = buffer.dimension, m = buffer.count, p = m - 1
        var gram = ColumnMajorMatrix(rows: m, columns: m)
        gram.withUnsafeMutableBufferPointer { g in
            cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, Int32(m), Int32(n), 1.0, buffer.storage, Int32(n), 0.0, g.baseAddress, Int32(m))
        }
        for j in 0..<m { for i in (j + 1)..<m { gram[i, j] = gram[j, i] } }
        guard gram.firstNonFiniteEntry == nil else {
            throw DMDError.nonFiniteResult("the Gram matrix of the snapshots overflowed (entries beyond ≈1e154 in magnitude)")
        }
        let eigen = try lapack { try SymmetricEigendecomposition(gram.submatrix(rows: 0..<p, columns: 0..<p)) }
        // Descending order; rounding can make the eigenvalues of a semidefinite matrix slightly negative.
        let order = Array((0..<p).reversed())
        let σ = order.map { max(eigen.eigenvalues[$0], 0).squareRoot() }
        let rank = truncationRank(singularValues: σ, tolerance: options.tolerance, maximumRank: options.maximumRank)
        let lastSnapshot = (0..<m).map { $0 == m - 1 ? 1.0 : 0.0 }
        if rank == 0 {
            return identityModel(buffer, options, singularValues: σ, basis: .snapshotColumns, coordinateCount: m, lastSnapshot: lastSnapshot)
        }
        // S = V_r Σ_r⁻¹ (p × r).
        var s = ColumnMajorMatrix(rows: p, columns: rank)
        for j in 0..<rank { for i in 0..<p { s[i, j] = eigen.eigenvectors[i, order[j]] / σ[j] } }
        let crossGram = gram.submatrix(rows: 0..<p, columns: 1..<m)  // XᵀX'
        let reduced = try lapack { try s.multiplied(by: crossGram.multiplied(by: s), transposingSelf: true) }  // (F11)
        var projectedBasis = ColumnMajorMatrix(rows: m, columns: rank)  // [S; 0]: X S = U_r
        var exactBasis = ColumnMajorMatrix(rows: m, columns: rank)      // [0; S]: X' S
        for j in 0..<rank {
            for i in 0..<p {
                projectedBasis[i, j] = s[i, j]
                exactBasis[i + 1, j] = s[i, j]
            }
        }
        // ‖[w_1 … w_m] y‖² = yᵀ K y = ‖C y‖² with C = D^{1/2} Wᵀ from K = W D Wᵀ: the least-squares fit
        // of b (F12) in snapshot coordinates, without touching the n-sized data again.
        let full = try lapack { try SymmetricEigendecomposition(gram) }
        var metric = ColumnMajorMatrix(rows: m, columns: m)
        for i in 0..<m {
            let root = max(full.eigenvalues[i], 0).squareRoot()
            for j in 0..<m { metric[i, j] = root * full.eigenvectors[j, i] }
        }
        return try finish(buffer, options, singularValues: σ, rank: rank, reducedOperator: reduced,
                          basis: .snapshotColumns, projectedBasis: projectedBasis, exactBasis: exactBasis,
                          fitMetric: metric, lastSnapshot: lastSnapshot)
    }

    // MARK: Common small-space steps

    /// Relative singular-value cutoff of the amplitude least-squares problem (F12).
    public static let amplitudeFitCutoff = 1e-12

    /// Eigen-decomposition of Ã (F11), the modes' coordinates (F12) and the least-squares amplitudes
    /// min ‖M (G b − t)‖ (M = identity on the QR path, the Gram square root otherwise).
    static func finish(_ buffer: SnapshotBuffer, _ options: DMDOptions, singularValues σ: [Double], rank: Int,
                       reducedOperator: ColumnMajorMatrix, basis: DMDModel.Basis,
                       projectedBasis: ColumnMajorMatrix, exactBasis: ColumnMajorMatrix,
                       fitMetric: ColumnMajorMatrix?, lastSnapshot t: [Double]) throws -> DMDModel {
        guard reducedOperator.firstNonFiniteEntry == nil else {
            throw DMDError.nonFiniteResult("the reduced operator Ã overflowed; σ_r / σ_0 = \(σ[rank - 1] / σ[0]) is too small for the tolerance \(options.tolerance)")
        }
        let eigen = try lapack { try GeneralEigendecomposition(reducedOperator) }
        // Sort by decreasing |λ|, conjugate pairs adjacent (positive imaginary part first).
        let order = (0..<rank).sorted { a, b in
            let la = eigen.eigenvalues[a], lb = eigen.eigenvalues[b]
            if la.length != lb.length { return la.length > lb.length }
            if la.real != lb.real { return la.real > lb.real }
            return la.imaginary > lb.imaginary
        }
        let lambdas = order.map { eigen.eigenvalues[$0] }
        var y = ComplexColumnMajorMatrix(rows: rank, columns: rank)
        for (jj, j) in order.enumerated() { for i in 0..<rank { y[i, jj] = eigen.eigenvectors[i, j] } }
        let projected = try lapack { try ComplexColumnMajorMatrix(projectedBasis).multiplied(by: y) }
        let exact = try lapack { try ComplexColumnMajorMatrix(exactBasis).multiplied(by: y) }
        let modes = options.modes == .exact ? exact : projected
        var fitMatrix = modes
        var fitTarget = t.map { Complex($0) }
        if let metric = fitMetric {
            fitMatrix = try lapack { try ComplexColumnMajorMatrix(metric).multiplied(by: modes) }
            fitTarget = try lapack { try metric.multiplied(by: t) }.map { Complex($0) }
        }
        guard fitMatrix.isFinite else { throw DMDError.nonFiniteResult("the DMD modes overflowed") }
        // Minimum-norm solution; singular values of the fit matrix below 1e-12 σ_max count as zero,
        // i.e. modes that are linearly dependent to working precision share their amplitude instead
        // of receiving two huge opposite ones.
        let fit = try lapack { try Lapack.leastSquares(fitMatrix, fitTarget, relativeCutoff: amplitudeFitCutoff) }
        guard fit.solution.allSatisfy({ $0.real.isFinite && $0.imaginary.isFinite }) else {
            throw DMDError.nonFiniteResult("the amplitudes b overflowed")
        }
        return DMDModel(buffer: buffer, options: options, singularValues: σ, rank: rank, reducedOperator: reducedOperator,
                        eigenvalues: lambdas, eigenvectors: y, amplitudes: fit.solution, amplitudeFitRank: fit.rank,
                        basis: basis, projectedCoordinates: projected, exactCoordinates: exact, lastSnapshotCoordinates: t)
    }

    /// Rank 0 (X = 0): no dynamics; every extrapolation returns w_m.
    static func identityModel(_ buffer: SnapshotBuffer, _ options: DMDOptions, singularValues: [Double], basis: DMDModel.Basis,
                              coordinateCount: Int, lastSnapshot: [Double]) -> DMDModel {
        DMDModel(buffer: buffer, options: options, singularValues: singularValues, rank: 0,
                 reducedOperator: ColumnMajorMatrix(rows: 0, columns: 0), eigenvalues: [],
                 eigenvectors: ComplexColumnMajorMatrix(rows: 0, columns: 0), amplitudes: [], amplitudeFitRank: 0,
                 basis: basis, projectedCoordinates: ComplexColumnMajorMatrix(rows: coordinateCount, columns: 0),
                 exactCoordinates: ComplexColumnMajorMatrix(rows: coordinateCount, columns: 0), lastSnapshotCoordinates: lastSnapshot)
    }
}
