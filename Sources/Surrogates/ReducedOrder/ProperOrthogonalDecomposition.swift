import NumericalFoundations

/// Proper orthogonal decomposition of a set of fields (the snapshot POD of Hesthaven & Ubbiali,
/// J. Comput. Phys. 363 (2018) 55–78, the POD step of POD-NN; Guo & Hesthaven, CMAME 341 (2018)
/// 807–826, the POD step of POD-GPR): with Y the n × P matrix of training fields (one sample per row), ȳ its row mean
/// and Y_c = Y − 1ȳᵀ, the thin SVD Y_cᵀ = U Σ Vᵀ gives orthonormal modes Φ = U[:, 0..<r] (P × r)
/// and the reduced coefficients C = Y_c Φ (n × r); a field is approximated by y ≈ ȳ + Φ c.
///
/// The rank r is the smallest with Σ_{i<r} σ_i² ≥ (1 − tol) Σ_i σ_i² (the relative "energy"
/// criterion of both papers), capped by `maxRank`, and at least 1.
///
/// Generic: the fields are whatever the caller passes (raw c3, log-transformed, standardised);
/// applying and inverting any output transform is the caller's business.
///
/// Modes have a deterministic sign (the entry of largest magnitude is positive), so results do not
/// depend on the sign conventions of the LAPACK build.
public struct ProperOrthogonalDecomposition: Sendable, Equatable {
    /// P, the length of a field.
    public let pointCount: Int
    /// r, the number of retained modes.
    public let rank: Int
    /// ȳ, P values.
    public let mean: [Double]
    /// Φ, P × r row-major (column k is mode k).
    public let modes: [Double]
    /// All min(n, P) singular values of the centred training fields, descending.
    public let singularValues: [Double]
    /// The tolerance r was chosen with.
    public let energyTolerance: Double

    /// The POD of `count` fields of `pointCount` values each (row-major `count × pointCount`).
    /// - Parameters:
    ///   - energyTolerance: tol in [0, 1): keep the smallest r with captured energy ≥ (1 − tol).
    ///   - maxRank: upper cap on r (nil: no cap beyond min(n, P)).
    public init(fields: [Double], count: Int, pointCount: Int, energyTolerance: Double, maxRank: Int? = nil) throws {
        guard count >= 1, pointCount >= 1 else {
            throw ReducedOrderModelError.insufficientData("POD needs at least one field of at least one point, got \(count) × \(pointCount)")
        }
        try requireMatrix(fields, rows: count, columns: pointCount, name: "the POD training fields")
        guard energyTolerance >= 0, energyTolerance < 1 else {
            throw ReducedOrderModelError.invalidOption("the POD energy tolerance must lie in [0, 1), got \(energyTolerance)")
        }
        if let maxRank, maxRank < 1 {
            throw ReducedOrderModelError.invalidOption("the POD maximum rank must be at least 1, got \(maxRank)")
        }
        let n = count, p = pointCount
        var mean = [Double](repeating: 0, count: p)
        for i in 0..<n { for j in 0..<p { mean[j] += fields[i * p + j] } }
        for j in 0..<p { mean[j] /= Double(n) }
        var centred = fields
        for i in 0..<n { for j in 0..<p { centred[i * p + j] -= mean[j] } }
        // Row-major n × P is column-major P × n: the SVD of Y_cᵀ, whose left singular vectors are the modes.
        let a = try ColumnMajorMatrix(rows: p, columns: n, columnMajor: centred)
        let svd = try mappingLapackErrors { try SingularValueDecomposition(a) }
        let sigma = svd.singularValues
        let r = Self.rank(singularValues: sigma, energyTolerance: energyTolerance, maxRank: maxRank)
        var modes = [Double](repeating: 0, count: p * r)
        for k in 0..<r {
            var largest = 0.0, sign = 1.0
            for i in 0..<p where abs(svd.u[i, k]) > largest { largest = abs(svd.u[i, k]); sign = svd.u[i, k] < 0 ? -1 : 1 }
            for i in 0..<p { modes[i * r + k] = sign * svd.u[i, k] }
        }
        self.pointCount = p
        self.rank = r
        self.mean = mean
        self.modes = modes
        self.singularValues = sigma
        self.energyTolerance = energyTolerance
    }

    /// A decomposition from stored parts (a model folder); shapes are checked.
    public init(mean: [Double], modes: [Double], rank: Int, singularValues: [Double], energyTolerance: Double) throws {
        guard rank >= 1, !mean.isEmpty else {
            throw ReducedOrderModelError.shapeMismatch("a POD needs rank ≥ 1 and at least one point, got rank \(rank) and \(mean.count) points")
        }
        try requireMatrix(modes, rows: mean.count, columns: rank, name: "the POD modes")
        try requireMatrix(mean, rows: 1, columns: mean.count, name: "the POD mean")
        self.pointCount = mean.count
        self.rank = rank
        self.mean = mean
        self.modes = modes
        self.singularValues = singularValues
        self.energyTolerance = energyTolerance
    }

    /// The smallest r ≥ 1 with Σ_{i<r} σ_i² ≥ (1 − tol) Σ σ_i², capped by `maxRank` and by the number of values.
    public static func rank(singularValues sigma: [Double], energyTolerance: Double, maxRank: Int? = nil) -> Int {
        let cap = min(maxRank ?? Int.max, sigma.count)
        if cap <= 1 { return 1 }
        let total = sigma.reduce(0) { $0 + $1 * $1 }
        guard total > 0 else { return 1 }
        let target = (1 - energyTolerance) * total
        var cumulative = 0.0
        for (i, s) in sigma.enumerated() {
            cumulative += s * s
            if cumulative >= target { return min(i + 1, cap) }
        }
        return cap
    }

    /// The fraction of the training fields' energy Σσ² that the retained r modes capture.
    public var capturedEnergyFraction: Double {
        let total = singularValues.reduce(0) { $0 + $1 * $1 }
        guard total > 0 else { return 1 }
        return singularValues.prefix(rank).reduce(0) { $0 + $1 * $1 } / total
    }

    /// C = (Y − 1ȳᵀ) Φ: the r coefficients of each of `count` fields (row-major count × P → count × r).
    public func coefficients(of fields: [Double], count: Int) throws -> [Double] {
        try requireMatrix(fields, rows: count, columns: pointCount, name: "the fields to project")
        var centred = fields
        for i in 0..<count { for j in 0..<pointCount { centred[i * pointCount + j] -= mean[j] } }
        var c = [Double](repeating: 0, count: count * rank)
        Double.gemm(.none, .none, m: count, n: rank, k: pointCount, alpha: 1, a: centred, lda: pointCount,
                    b: modes, ldb: rank, beta: 0, c: &c, ldc: rank)
        return c
    }

    /// Y = 1ȳᵀ + C Φᵀ: fields from `count` rows of r coefficients (count × r → count × P).
    public func reconstruct(coefficients: [Double], count: Int) throws -> [Double] {
        guard coefficients.count == count * rank else {
            throw ReducedOrderModelError.shapeMismatch("\(coefficients.count) coefficients are not \(count) rows of the POD's \(rank)")
        }
        var y = [Double](repeating: 0, count: count * pointCount)
        for i in 0..<count { for j in 0..<pointCount { y[i * pointCount + j] = mean[j] } }
        Double.gemm(.none, .transpose, m: count, n: pointCount, k: rank, alpha: 1, a: coefficients, lda: rank,
                    b: modes, ldb: rank, beta: 1, c: &y, ldc: pointCount)
        return y
    }
}
