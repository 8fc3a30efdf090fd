/// How one DMD is computed (formulation.md §5, F10–F13) and the two safeguards that act on a
/// single layer. Defaults are the paper-faithful choices of `configs/paper.toml`.
public struct DMDOptions: Sendable, Equatable {
    /// The thin SVD of X = [w_1 … w_{m−1}] (F10). Both cost O(n m²) and never form an n × n matrix.
    public enum SVDMethod: String, Codable, Sendable, CaseIterable {
        /// Householder QR of the n × m snapshot matrix, then the SVD of the small R. Backward
        /// stable: σ_i is accurate to ≈ ε σ_0 (default).
        case householderQR = "qr"
        /// The paper's method of snapshots: eigen-decomposition of XᵀX = V Σ² Vᵀ. Squares the
        /// condition number, so σ_i below ≈ √ε σ_0 ≈ 1.5e-8 σ_0 is noise.
        case methodOfSnapshots = "gram"
    }

    /// Which DMD modes (F12) are fitted to w_m and extrapolated.
    public enum ModeKind: String, Codable, Sendable, CaseIterable {
        /// Φ = X' V_r Σ_r⁻¹ Y (exact DMD, the config's default).
        case exact
        /// Φ = U_r Y (projected DMD).
        case projected
    }

    public var svdMethod: SVDMethod
    public var modes: ModeKind
    /// Keep the r leading singular values with σ_i / σ_0 > tolerance (F10; paper: 1e-10).
    public var tolerance: Double
    /// An upper bound on r on top of the tolerance (nil: no bound).
    public var maximumRank: Int?
    /// Safeguard (a): eigenvalues with |λ| > 1 are replaced by λ/|λ| before they are raised to the
    /// power s, so no mode grows. The reported `eigenvalues` stay the computed ones.
    public var clampEigenvaluesToUnitCircle: Bool
    /// Safeguard (b): w ← w_m + ω (w_dmd − w_m); 1 is the plain DMD jump, 0 no jump.
    public var relaxation: Double

    public init(svdMethod: SVDMethod = .householderQR, modes: ModeKind = .exact, tolerance: Double = 1e-10,
                maximumRank: Int? = nil, clampEigenvaluesToUnitCircle: Bool = false, relaxation: Double = 1) {
        self.svdMethod = svdMethod
        self.modes = modes
        self.tolerance = tolerance
        self.maximumRank = maximumRank
        self.clampEigenvaluesToUnitCircle = clampEigenvaluesToUnitCircle
        self.relaxation = relaxation
    }

    /// Rejects values that have no meaning: a tolerance outside [0, 1] or NaN (tolerance 1 keeps no
    /// mode: every jump is the identity), a rank bound below 1, a non-finite relaxation factor.
    public func validate() throws {
        guard tolerance.isFinite, tolerance >= 0, tolerance <= 1 else {
            throw DMDError.invalidOption("tolerance must be a number in [0, 1], got \(tolerance)")
        }
        if let maximumRank, maximumRank < 1 {
            throw DMDError.invalidOption("maximum rank must be at least 1 (or unset), got \(maximumRank)")
        }
        guard relaxation.isFinite else {
            throw DMDError.invalidOption("relaxation factor ω must be finite, got \(relaxation)")
        }
    }
}
