import NumericalFoundations
import Foundation

/// A reduced rank extrapolation that could not be made (too few or inconsistent snapshots, a
/// non-finite value, a failed factorisation).
public struct ExtrapolationError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ message: String) { description = message }
}

/// Reduced rank extrapolation (RRE; Sidi, Ford & Smith, "Acceleration of convergence of vector
/// sequences", SIAM J. Numer. Anal. 1986; Sidi, "Vector Extrapolation Methods
/// with Applications", SIAM 2017) in the regularised form of Scieur, d'Aspremont & Bach,
/// "Regularized Nonlinear Acceleration", NeurIPS 2016 (their Algorithm 1, RNA).
///
/// From snapshots x_0 … x_m (m ≥ 1) of a fixed-point iteration, with differences
/// U = [u_0 … u_{m−1}], u_i = x_{i+1} − x_i, the weights c solve
///     min_c ‖U c‖² + λ ‖c‖²   subject to   Σ_i c_i = 1,
/// and the extrapolation is x̂ = Σ_{i=0}^{m−1} c_i x_i (Scieur et al., Algorithm 1, output step).
///
/// - λ > 0: Scieur et al.'s closed form (their Algorithm 1): (UᵀU + λ I) z = 1,
///   c = z / Σ z, with λ = regularization · ‖UᵀU‖ (Frobenius norm, so the setting is scale free);
///   UᵀU + λ I is symmetric positive definite, solved by Cholesky (LAPACK dpotrf + dtrsm).
/// - λ = 0 (classical RRE): UᵀU is singular as soon as m exceeds the dimension (the exact case), so
///   the constraint is eliminated instead: c_{m−1} = 1 − Σ_{i<m−1} c_i turns the problem into the
///   least-squares problem min ‖Σ_{i<m−1} c_i (u_i − u_{m−1}) + u_{m−1}‖, solved minimum-norm by
///   LAPACK dgelsd (SVD; well defined for rank-deficient U).
///
/// For a linear iteration x_{k+1} = A x_k + b with I − A invertible and m ≥ n + 1 differences of
/// dimension n, some c with Σ c = 1 has U c = 0, and every such c gives x̂ = x* = (I − A)⁻¹ b exactly
/// (the finite-termination property of RRE, Sidi, Ford & Smith 1986), since
/// U c = (A − I) Σ c_i (x_i − x*) and Σ c_i x_i − x* = Σ c_i (x_i − x*) when Σ c = 1.
public enum ReducedRankExtrapolation {
    /// The weights c_0 … c_{m−1} (Σ c = 1) for snapshots x_0 … x_m (all of one length, finite).
    public static func coefficients(snapshots: [[Double]], regularization: Double) throws -> [Double] {
        let u = try differences(snapshots, regularization: regularization, method: "RRE")
        if u.count == 1 { return [1] }
        return regularization > 0 ? try regularizedCoefficients(u, regularization: regularization) : try exactCoefficients(u)
    }

    /// u_i = x_{i+1} − x_i, after checking the snapshots (≥ 2, one positive length, finite) and λ (finite, ≥ 0).
    private static func differences(_ snapshots: [[Double]], regularization: Double, method: String) throws -> [[Double]] {
        guard snapshots.count >= 2 else { throw ExtrapolationError("\(method) needs at least 2 snapshots, got \(snapshots.count)") }
        guard regularization.isFinite, regularization >= 0 else {
            throw ExtrapolationError("the \(method) regularisation must be finite and ≥ 0, got \(regularization)")
        }
        let n = snapshots[0].count
        guard n > 0, snapshots.allSatisfy({ $0.count == n }) else {
            throw ExtrapolationError("the \(method) snapshots must all have the same positive length (got \(snapshots.map(\.count)))")
        }
        for (j, x) in snapshots.enumerated() {
            if let i = x.firstIndex(where: { !$0.isFinite }) { throw ExtrapolationError("snapshot \(j) has the non-finite entry \(i): \(x[i])") }
        }
        return (0..<(snapshots.count - 1)).map { i in zip(snapshots[i + 1], snapshots[i]).map { $0 - $1 } }
    }

    /// x̂ = Σ_{i=0}^{m−1} c_i x_i for the weights of `coefficients(snapshots:regularization:)`.
    public static func extrapolate(snapshots: [[Double]], regularization: Double) throws -> [Double] {
        let c = try coefficients(snapshots: snapshots, regularization: regularization)
        return combine(snapshots, c)
    }

    /// The limit-point estimate of `method` from snapshots x_0 … x_m:
    /// - `.rre`: x̂ = Σ c_i x_i with the RRE/RNA weights above;
    /// - `.anderson`: Anderson acceleration, type II with mixing β = 1 over the whole window (Walker &
    ///   Ni, SIAM J. Numer. Anal. 2011, eq. 2.1 with depth m): the same weights (they minimise the
    ///   combined residual ‖Σ c_i (g(x_i) − x_i)‖ with g(x_i) = x_{i+1}), applied to the images,
    ///   x̂ = Σ c_i x_{i+1};
    /// - `.mpe`: minimal polynomial extrapolation (Cabay & Jackson 1976; Sidi 2017, ch. 1): the last
    ///   weight of the unnormalised polynomial fixed to 1, γ_{0…m−2} = argmin ‖Σ_{i<m−1} γ_i u_i + u_{m−1}‖²
    ///   (+ λ ‖γ‖² with λ = regularization · ‖VᵀV‖ when regularization > 0), c = γ / Σ γ, x̂ = Σ c_i x_i.
    /// All three return x* exactly for a linear iteration once m ≥ n + 1 (finite termination).
    public static func extrapolate(snapshots: [[Double]], method: WindowExtrapolation, regularization: Double) throws -> [Double] {
        let c = try coefficients(snapshots: snapshots, method: method, regularization: regularization)
        return combine(method == .anderson ? Array(snapshots.dropFirst()) : snapshots, c)
    }

    /// The weights of `method` (Σ c = 1), to be combined with x_0 … x_{m−1} (RRE, MPE) or x_1 … x_m (Anderson).
    public static func coefficients(snapshots: [[Double]], method: WindowExtrapolation, regularization: Double) throws -> [Double] {
        switch method {
        case .rre, .anderson: return try coefficients(snapshots: snapshots, regularization: regularization)
        case .mpe:
            let u = try differences(snapshots, regularization: regularization, method: "MPE")
            if u.count == 1 { return [1] }
            return try minimalPolynomialCoefficients(u, regularization: regularization)
        }
    }

    /// MPE's weights: min ‖V γ + u_{m−1}‖² (+ λ‖γ‖²), V = [u_0 … u_{m−2}], then γ_{m−1} = 1 and c = γ / Σ γ.
    private static func minimalPolynomialCoefficients(_ u: [[Double]], regularization: Double) throws -> [Double] {
        let m = u.count
        let last = u[m - 1]
        var gamma: [Double]
        if regularization > 0 {
            let v = Array(u.prefix(m - 1))
            gamma = try solveRegularizedGram(v, rightHandSide: v.map { -dot($0, last) }, regularization: regularization, name: "VᵀV")
        } else {
            let a = try ColumnMajorMatrix(columns: Array(u.prefix(m - 1)))
            let b = try ColumnMajorMatrix(columns: [last.map { -$0 }])
            let solution = try Lapack.leastSquares(a, b)
            gamma = (0..<(m - 1)).map { solution.solution[$0, 0] }
        }
        gamma.append(1)
        let sum = gamma.reduce(0, +)
        let scale = gamma.reduce(0) { $0 + abs($1) }
        guard sum.isFinite, abs(sum) > 1e-14 * scale else {
            throw ExtrapolationError("the MPE polynomial has Σ γ = \(sum): the iteration has an eigenvalue 1, no limit to extrapolate")
        }
        let c = gamma.map { $0 / sum }
        guard c.allSatisfy(\.isFinite) else { throw ExtrapolationError("the MPE weights are not finite") }
        return c
    }

    /// Σ c_i x_i.
    public static func combine(_ snapshots: [[Double]], _ c: [Double]) -> [Double] {
        var x = [Double](repeating: 0, count: snapshots[0].count)
        for (ci, xi) in zip(c, snapshots) {
            for k in x.indices { x[k] += ci * xi[k] }
        }
        return x
    }

    /// (UᵀU + λ I) z = 1, c = z / Σ z (Scieur et al. 2016, Algorithm 1).
    private static func regularizedCoefficients(_ u: [[Double]], regularization: Double) throws -> [Double] {
        let z = try solveRegularizedGram(u, rightHandSide: [Double](repeating: 1, count: u.count), regularization: regularization, name: "UᵀU")
        let sum = z.reduce(0, +)
        guard sum.isFinite, sum != 0 else { throw ExtrapolationError("the RRE system gave Σ z = \(sum): no normalisable weights") }
        let c = z.map { $0 / sum }
        guard c.allSatisfy(\.isFinite) else { throw ExtrapolationError("the RRE weights are not finite") }
        return c
    }

    /// z solving (VᵀV + λ I) z = r with λ = regularization · ‖VᵀV‖_F (scale free), VᵀV the Gram
    /// matrix of the vectors v_i; symmetric positive definite, so Cholesky (LAPACK dpotrf + dtrsm).
    private static func solveRegularizedGram(_ v: [[Double]], rightHandSide r: [Double], regularization: Double, name: String) throws -> [Double] {
        let k = v.count
        var gram = [Double](repeating: 0, count: k * k)   // row-major, symmetric
        for i in 0..<k {
            for j in 0...i { let d = dot(v[i], v[j]); gram[i * k + j] = d; gram[j * k + i] = d }
        }
        let norm = gram.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 0 else { throw ExtrapolationError("the snapshots are all equal (\(name) = 0): nothing to extrapolate") }
        let λ = regularization * norm
        for i in 0..<k { gram[i * k + i] += λ }
        var z = r
        let ok = try gram.withUnsafeMutableBufferPointer { g -> Bool in
            guard try Lapack.choleskyInPlace(order: k, matrix: g.baseAddress!, leadingDimension: k) else { return false }
            z.withUnsafeMutableBufferPointer { zb in
                Lapack.choleskySolveInPlace(order: k, factor: g.baseAddress!, leadingDimension: k, rightHandSides: zb.baseAddress!,
                                            columns: 1, bLeadingDimension: 1)
            }
            return true
        }
        guard ok else { throw ExtrapolationError("\(name) + λI (λ = \(λ)) is not numerically positive definite: raise the regularisation") }
        return z
    }

    private static func dot(_ a: [Double], _ b: [Double]) -> Double {
        a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in Double.dot(count: x.count, x: x.baseAddress!, incx: 1, y: y.baseAddress!, incy: 1) } }
    }

    /// λ = 0: the constraint eliminated, minimum-norm least squares (dgelsd).
    private static func exactCoefficients(_ u: [[Double]]) throws -> [Double] {
        let m = u.count
        let last = u[m - 1]
        let columns = (0..<(m - 1)).map { i in zip(u[i], last).map { $0 - $1 } }
        let a = try ColumnMajorMatrix(columns: columns)
        let b = try ColumnMajorMatrix(columns: [last.map { -$0 }])
        let solution = try Lapack.leastSquares(a, b)
        var c = (0..<(m - 1)).map { solution.solution[$0, 0] }
        c.append(1 - c.reduce(0, +))
        guard c.allSatisfy(\.isFinite) else { throw ExtrapolationError("the RRE weights are not finite") }
        return c
    }
}

/// Which limit-point estimate of a snapshot window (see `ReducedRankExtrapolation.extrapolate(snapshots:method:regularization:)`).
public enum WindowExtrapolation: String, Codable, Equatable, Sendable, CaseIterable {
    case rre, mpe, anderson
}

/// Settings of the RRE hook (which also runs MPE and Anderson on the same window).
public struct RRESettings: Codable, Equatable, Sendable {
    /// One weight vector per layer, or one for the concatenation of all layers.
    public enum Scope: String, Codable, Equatable, Sendable {
        case perLayer = "per_layer"
        case allLayers = "all_layers"
    }

    /// m: differences per window; the window holds m + 1 epoch snapshots and a jump happens every m epochs.
    public var differenceCount: Int
    /// λ relative to ‖UᵀU‖ (0 = classical RRE).
    public var regularization: Double
    public var scope: Scope
    /// Zero Adam's moments after a jump (false keeps them, like DMDAccelerator's default).
    public var resetAdamMoments: Bool
    public var method: WindowExtrapolation
    /// Keep a jump only if it lowers the training MSE (else the parameters go back to x_m, bit for
    /// bit): the rollback of DMD's guarded jump, for a nonconvex loss where the extrapolation can
    /// land anywhere.
    public var guarded: Bool

    public init(differenceCount: Int = 5, regularization: Double = 1e-8, scope: Scope = .perLayer, resetAdamMoments: Bool = false,
                method: WindowExtrapolation = .rre, guarded: Bool = false) {
        self.differenceCount = differenceCount
        self.regularization = regularization
        self.scope = scope
        self.resetAdamMoments = resetAdamMoments
        self.method = method
        self.guarded = guarded
    }

    public func validate() throws {
        guard differenceCount >= 1 else { throw DMDTrainingError("rre: m must be at least 1, got \(differenceCount)") }
        guard regularization.isFinite, regularization >= 0 else { throw DMDTrainingError("rre: the regularisation must be finite and ≥ 0, got \(regularization)") }
    }

    /// What a checkpoint must match to be resumed with these settings.
    public var fingerprint: String { "RREAccelerator " + canonicalJSON(self) }
}

/// Reduced rank extrapolation of the parameter trajectory as a `TrainingHook` (the RNA of Scieur,
/// d'Aspremont & Bach 2016, Algorithm 1, applied every m epochs like the DMD jump).
///
/// The window holds x_0 (the parameters at the start, or right after the previous jump) and the
/// parameters after each of the next m epochs; when it holds m + 1 snapshots the parameters are
/// replaced by `ReducedRankExtrapolation.extrapolate` of the window (per layer, or with one weight
/// vector for all layers), and the result becomes x_0 of the next window. Jumps therefore happen
/// at epochs m, 2m, 3m, …. A layer (or the whole network, for `.allLayers`) whose extrapolation
/// fails or is not finite keeps its parameters; the failure is counted in `rre_failures` and logged.
public final class RREAccelerator: TrainingHook {
    public let settings: RRESettings
    public let layout: NetworkLayout
    /// Epochs at which a jump happened (restored from checkpoints too).
    public private(set) var jumpEpochs: [Int] = []
    let log: (String) -> Void
    /// Per layer, the window's snapshots x_0 … (float64).
    private var window: [[[Double]]]
    private var restoredFromCheckpoint = false

    public init(settings: RRESettings, layout: NetworkLayout, log: @escaping (String) -> Void = { _ in }) throws {
        try settings.validate()
        self.settings = settings
        self.layout = layout
        self.log = log
        window = Array(repeating: [], count: layout.layerCount)
    }

    /// Snapshots in the current window (x_0 included).
    public var snapshotsHeld: Int { window.first?.count ?? 0 }

    // MARK: TrainingHook

    public var historyColumns: [String] {
        ["rre_jump", "rre_snapshots_held", "rre_max_abs_weight", "rre_failures", "rre_seconds"] + (settings.guarded ? ["rre_accepted"] : [])
    }

    public var checkpointFingerprint: String { settings.fingerprint }

    public func trainingWillStart(_ trainer: TrainerAccess) throws {
        guard trainer.layout == layout else {
            throw DMDTrainingError("the RRE hook was built for the network \(layout), the trainer has \(trainer.layout)")
        }
        if !restoredFromCheckpoint || snapshotsHeld == 0 { takeSnapshot(trainer) }
    }

    public func afterEpoch(_ trainer: TrainerAccess) throws -> [String: Double] {
        let start = monotonicSeconds()
        takeSnapshot(trainer)
        var row: [String: Double] = ["rre_jump": 0]
        if snapshotsHeld == settings.differenceCount + 1 {
            let before = settings.guarded ? trainer.trainingLoss().scaled : .nan
            let (maxWeight, failures) = jump(trainer)
            if settings.guarded {
                let after = trainer.trainingLoss().scaled
                let accepted = after.isFinite && after < before
                if !accepted {
                    // x_m, the window's last snapshot, is the exact float64 image of the parameters before the jump.
                    for l in window.indices { assignLayer(trainer, l, window[l][settings.differenceCount]) }
                }
                row["rre_accepted"] = accepted ? 1 : 0
            }
            row["rre_jump"] = 1
            row["rre_max_abs_weight"] = maxWeight
            row["rre_failures"] = Double(failures)
            jumpEpochs.append(trainer.completedEpochs)
            // The new x_0: the parameters after the jump (as the network holds them).
            for l in window.indices { window[l].removeAll() }
            takeSnapshot(trainer)
        }
        row["rre_snapshots_held"] = Double(snapshotsHeld)
        row["rre_seconds"] = monotonicSeconds() - start
        return row
    }

    private func takeSnapshot(_ trainer: TrainerAccess) {
        for l in 0..<layout.layerCount { window[l].append(copyLayer(trainer, l)) }
    }

    /// The snapshots the weights multiply: x_0 … x_{m−1}, or x_1 … x_m for Anderson.
    private func combined(_ snapshots: [[Double]]) -> [[Double]] {
        settings.method == .anderson ? Array(snapshots.dropFirst()) : snapshots
    }

    /// Returns the largest |c_i| used and the number of failed extrapolations.
    private func jump(_ trainer: TrainerAccess) -> (Double?, Int) {
        var maxWeight: Double? = nil
        var failures = 0
        func accept(_ c: [Double]) { maxWeight = max(maxWeight ?? 0, c.map(\.magnitude).max() ?? 0) }
        let epoch = trainer.completedEpochs
        switch settings.scope {
        case .perLayer:
            for l in window.indices {
                do {
                    let c = try ReducedRankExtrapolation.coefficients(snapshots: window[l], method: settings.method, regularization: settings.regularization)
                    let x = ReducedRankExtrapolation.combine(combined(window[l]), c)
                    guard x.allSatisfy(\.isFinite) else { throw ExtrapolationError("the extrapolated parameters are not finite") }
                    accept(c)
                    assignLayer(trainer, l, x)
                } catch {
                    failures += 1
                    log("RRE jump at epoch \(epoch): layer \(l) keeps its parameters: \(error)")
                }
            }
        case .allLayers:
            let joined = (0..<snapshotsHeld).map { j in window.flatMap { $0[j] } }
            do {
                let c = try ReducedRankExtrapolation.coefficients(snapshots: joined, method: settings.method, regularization: settings.regularization)
                let parts = window.map { ReducedRankExtrapolation.combine(combined($0), c) }
                guard parts.allSatisfy({ $0.allSatisfy(\.isFinite) }) else { throw ExtrapolationError("the extrapolated parameters are not finite") }
                accept(c)
                for (l, x) in parts.enumerated() { assignLayer(trainer, l, x) }
            } catch {
                failures += 1
                log("RRE jump at epoch \(epoch): the network keeps its parameters: \(error)")
            }
        }
        if settings.resetAdamMoments && failures == 0 {
            for l in window.indices { trainer.resetOptimizerMoments(ofLayer: l) }
        }
        return (maxWeight, failures)
    }

    // MARK: Checkpoint state

    struct Header: Codable {
        var fingerprint: String
        var jumpEpochs: [Int]
        var dimensions: [Int]
        var snapshots: Int
    }

    static let magic = Array("RREHOOK1".utf8)

    public func checkpointState() throws -> Data {
        let header = Header(fingerprint: settings.fingerprint, jumpEpochs: jumpEpochs,
                            dimensions: (0..<layout.layerCount).map { layout.parameterCount(ofLayer: $0) }, snapshots: snapshotsHeld)
        return try HookStateArchive(header: header, vectors: window.flatMap { $0 }).encoded(magic: Self.magic)
    }

    public func restoreCheckpointState(_ data: Data) throws {
        let archive = try HookStateArchive<Header>.decode(data, magic: Self.magic, what: "RRE") { header in
            guard header.fingerprint == self.settings.fingerprint else {
                throw DMDTrainingError("checkpoint: RRE state: written with other settings (\(header.fingerprint)), now \(self.settings.fingerprint)")
            }
            let expected = (0..<self.layout.layerCount).map { self.layout.parameterCount(ofLayer: $0) }
            guard header.dimensions == expected else {
                throw DMDTrainingError("checkpoint: RRE state: layer sizes \(header.dimensions) do not match this network's \(expected)")
            }
            guard (0...self.settings.differenceCount).contains(header.snapshots) else {
                throw DMDTrainingError("checkpoint: RRE state: \(header.snapshots) snapshots, m = \(self.settings.differenceCount)")
            }
            return expected.flatMap { Array(repeating: $0, count: header.snapshots) }
        }
        let s = archive.header.snapshots
        window = (0..<layout.layerCount).map { l in Array(archive.vectors[(l * s)..<((l + 1) * s)]) }
        jumpEpochs = archive.header.jumpEpochs
        restoredFromCheckpoint = true
    }
}
