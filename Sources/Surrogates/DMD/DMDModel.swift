import _LinearAlgebraShims
import NumericalFoundations
import Numerics

/// The result of one DMD (formulation.md §5, F9–F12) of a snapshot matrix [w_1 … w_m] of n
/// entries each, and the extrapolation (F13) w_{m+s} = Re(Φ Λ^s b) for any s ≥ 0.
///
/// Shapes (p = m − 1, r = rank ≤ p, k = min(n, m)): everything the model stores is small —
/// `singularValues` min(n, p), `reducedOperator` r × r, `eigenvalues`/`amplitudes` r,
/// `eigenvectors` r × r — plus mode *coordinates* of size k × r in a basis of span{w_1 … w_m}
/// that is not formed: on the QR path the Householder reflectors in the (overwritten) snapshot
/// buffer, on the method-of-snapshots path the snapshot columns themselves. Nothing of size n × n
/// exists; the only n-sized objects are the buffer and the caller's output vector, and the modes
/// Φ (n × r) are formed only on request (`modes(_:)`).
///
/// The model reads the snapshot buffer it came from: after that buffer's `clear()` it throws
/// `DMDError.snapshotsCleared`. Extrapolation does not mutate the model, but it reads the shared
/// buffer, so use one model from one thread at a time.
public final class DMDModel: @unchecked Sendable {
    /// n, the length of a snapshot.
    public let dimension: Int
    /// m, the number of snapshots decomposed.
    public let snapshotCount: Int
    public let options: DMDOptions
    /// Singular values of X = [w_1 … w_{m−1}] (F10), descending; all min(n, m − 1) of them, not only the kept ones.
    public let singularValues: [Double]
    /// r: the number of leading singular values with σ_i / σ_0 > tolerance (capped by `maximumRank`).
    /// 0 means X = 0: there is no dynamics to extrapolate and the model is the identity (w_{m+s} = w_m).
    public let rank: Int
    /// Ã = U_rᵀ X' V_r Σ_r⁻¹ (F11), r × r.
    public let reducedOperator: ColumnMajorMatrix
    /// Λ, the eigenvalues of Ã (F11), sorted by decreasing |λ| (conjugate pairs adjacent, positive
    /// imaginary part first). These are the computed values, before any clamping.
    public let eigenvalues: [Complex<Double>]
    /// Y, the unit eigenvectors of Ã, column j belonging to `eigenvalues[j]`.
    public let eigenvectors: ComplexColumnMajorMatrix
    /// b, the least-squares fit Φ b ≈ w_m with the modes of `options.modes` (F12).
    public let amplitudes: [Complex<Double>]
    /// Effective rank of the least-squares problem for b (< r when modes are linearly dependent,
    /// e.g. exact modes of a zero eigenvalue); b is then the minimum-norm solution.
    public let amplitudeFitRank: Int

    enum Basis {
        /// Q of the blocked Householder QR, its reflectors stored in the buffer (QR path).
        case householder(TallSkinnyQR)
        /// The snapshot columns [w_1 … w_m] in the buffer (method-of-snapshots path).
        case snapshotColumns
    }

    let buffer: SnapshotBuffer
    let generation: UInt64
    let basis: Basis
    /// Coordinates (k × r) of the projected and exact modes in `basis`.
    let projectedCoordinates: ComplexColumnMajorMatrix
    let exactCoordinates: ComplexColumnMajorMatrix
    /// Coordinates of w_m in `basis` (length k): R's last column, or e_m.
    let lastSnapshotCoordinates: [Double]

    init(buffer: SnapshotBuffer, options: DMDOptions, singularValues: [Double], rank: Int, reducedOperator: ColumnMajorMatrix,
         eigenvalues: [Complex<Double>], eigenvectors: ComplexColumnMajorMatrix, amplitudes: [Complex<Double>], amplitudeFitRank: Int,
         basis: Basis, projectedCoordinates: ComplexColumnMajorMatrix, exactCoordinates: ComplexColumnMajorMatrix,
         lastSnapshotCoordinates: [Double]) {
        self.dimension = buffer.dimension
        self.snapshotCount = buffer.count
        self.options = options
        self.singularValues = singularValues
        self.rank = rank
        self.reducedOperator = reducedOperator
        self.eigenvalues = eigenvalues
        self.eigenvectors = eigenvectors
        self.amplitudes = amplitudes
        self.amplitudeFitRank = amplitudeFitRank
        self.buffer = buffer
        self.generation = buffer.generation
        self.basis = basis
        self.projectedCoordinates = projectedCoordinates
        self.exactCoordinates = exactCoordinates
        self.lastSnapshotCoordinates = lastSnapshotCoordinates
    }

    /// True when the rank is 0: the jump is the identity (w_{m+s} = w_m for every s), so Algorithm 1
    /// may skip writing the parameters.
    public var isIdentity: Bool { rank == 0 }

    /// max |λ| over the computed eigenvalues (0 when the rank is 0).
    public var largestEigenvalueModulus: Double { eigenvalues.map(\.length).max() ?? 0 }

    /// The eigenvalues that (F13) raises to the power s: the computed ones, or, with safeguard (a),
    /// λ/|λ| for every |λ| > 1.
    public var extrapolationEigenvalues: [Complex<Double>] {
        guard options.clampEigenvaluesToUnitCircle else { return eigenvalues }
        return eigenvalues.map { λ in
            let length = λ.length
            return length > 1 ? λ.divided(by: length) : λ
        }
    }

    /// How many eigenvalues safeguard (a) moved onto the unit circle (0 when it is off).
    public var clampedEigenvalueCount: Int {
        options.clampEigenvaluesToUnitCircle ? eigenvalues.filter { $0.length > 1 }.count : 0
    }

    // MARK: Extrapolation (F13)

    /// Writes w_{m+s} = Re(Φ Λ^s b) (with safeguards (a), (b) as configured) into `output` (n values).
    /// On error `output` is left untouched. Cost O(n k): one application of the basis to a k-vector.
    public func extrapolate(steps: Double, into output: UnsafeMutableBufferPointer<Double>) throws {
        let z = try extrapolationCoordinates(steps: steps)
        guard output.count == dimension, let base = output.baseAddress else {
            throw DMDError.invalidShape("the extrapolated state has \(dimension) entries, the output buffer \(output.count)")
        }
        try expand(coordinates: z, into: base)
    }

    /// As `extrapolate(steps:into:)` for a Float parameter buffer: computed in float64, rounded once on the write.
    public func extrapolate(steps: Double, into output: UnsafeMutableBufferPointer<Float>) throws {
        try extrapolate(steps: steps, intoSegments: [output])
    }

    /// Writes w_{m+s} into consecutive pieces whose lengths add up to n (e.g. a layer's weight
    /// matrix and bias vector, in the order the snapshots were appended).
    public func extrapolate<T: BinaryFloatingPoint>(steps: Double, intoSegments segments: [UnsafeMutableBufferPointer<T>]) throws {
        let z = try extrapolationCoordinates(steps: steps)
        let total = segments.reduce(0) { $0 + $1.count }
        guard total == dimension else {
            throw DMDError.invalidShape("the extrapolated state has \(dimension) entries, the output segments \(total)")
        }
        var state = [Double](repeating: 0, count: dimension)
        try state.withUnsafeMutableBufferPointer { try expand(coordinates: z, into: $0.baseAddress!) }
        var offset = 0
        for segment in segments {
            for i in 0..<segment.count { segment[i] = T(state[offset + i]) }
            offset += segment.count
        }
    }

    /// w_{m+s} as a new array.
    public func extrapolated(steps: Double) throws -> [Double] {
        var state = [Double](repeating: 0, count: dimension)
        try state.withUnsafeMutableBufferPointer { try extrapolate(steps: steps, into: $0) }
        return state
    }

    /// Writes the sum of the next s predicted states, Σ_{j=1}^{s} x_{m+j} = Re(Φ diag(g_s(λ)) b) with
    /// g_s(λ) = Σ_{j=1}^{s} λ^j = λ (1 − λ^s) / (1 − λ) (= s at λ = 1; principal branch for fractional
    /// s), times the relaxation ω, into `output` (n values). Applied to a DMD of the *updates*
    /// d_j = w_{j+1} − w_j this is w_{m+s} − w_m: the jump of the weights that the fitted update dynamics
    /// predicts (docs/dmd.md, "DMD of the updates"). Clamping (a) applies to the λ as in (F13); with
    /// |λ| < 1 everywhere, s → ∞ gives the limit point w_m + Re(Φ diag(λ / (1 − λ)) b). Cost O(n k).
    public func accumulate(steps: Double, into output: UnsafeMutableBufferPointer<Double>) throws {
        let z = try accumulationCoordinates(steps: steps)
        guard output.count == dimension, let base = output.baseAddress else {
            throw DMDError.invalidShape("the accumulated state has \(dimension) entries, the output buffer \(output.count)")
        }
        try expand(coordinates: z, into: base)
    }

    /// g_s(λ) = Σ_{j=1}^{s} λ^j, nil when it overflows. Within 1e-5 of λ = 1 the closed form cancels, so
    /// the binomial series s + δ s(s+1)/2 + δ² (s+1) s (s−1)/6 (δ = λ − 1) is used, exact to O(s⁴ δ³).
    static func geometricSum(_ lambda: Complex<Double>, _ s: Double) -> Complex<Double>? {
        if s == 0 { return .zero }
        let delta = lambda - Complex(1)
        if delta.length < 1e-5 {
            let second = delta * delta
            return Complex(s) + delta.multiplied(by: s * (s + 1) / 2) + second.multiplied(by: (s + 1) * s * (s - 1) / 6)
        }
        guard let power = DMD.power(lambda, s) else { return nil }
        let sum = lambda * (Complex(1) - power) / (Complex(1) - lambda)
        return sum.real.isFinite && sum.imaginary.isFinite ? sum : nil
    }

    /// z = ω Re(G diag(g_s(λ)) b) in basis coordinates (see `accumulate(steps:into:)`).
    func accumulationCoordinates(steps s: Double) throws -> [Double] {
        guard buffer.generation == generation else { throw DMDError.snapshotsCleared }
        guard s.isFinite, s >= 0 else { throw DMDError.invalidSteps(s) }
        var z = [Double](repeating: 0, count: lastSnapshotCoordinates.count)
        if rank == 0 { return z }
        let g = options.modes == .exact ? exactCoordinates : projectedCoordinates
        let lambdas = extrapolationEigenvalues
        var weighted = [Complex<Double>](repeating: .zero, count: rank)
        for j in 0..<rank {
            guard let sum = Self.geometricSum(lambdas[j], s) else {
                throw DMDError.extrapolationOverflow(steps: s, largestModulus: largestEigenvalueModulus)
            }
            weighted[j] = sum * amplitudes[j]
        }
        for i in 0..<z.count {
            var sum = 0.0
            for j in 0..<rank {
                let gij = g[i, j], cj = weighted[j]
                sum += gij.real * cj.real - gij.imaginary * cj.imaginary
            }
            z[i] = options.relaxation * sum
        }
        guard z.allSatisfy(\.isFinite) else {
            throw DMDError.extrapolationOverflow(steps: s, largestModulus: largestEigenvalueModulus)
        }
        return z
    }

    /// z = Re(G Λ^s b) in basis coordinates, then relaxation (b) z ← t + ω (z − t) with t the
    /// coordinates of w_m (so w = w_m + ω (w_dmd − w_m) after the basis is applied, by linearity).
    func extrapolationCoordinates(steps s: Double) throws -> [Double] {
        guard buffer.generation == generation else { throw DMDError.snapshotsCleared }
        guard s.isFinite, s >= 0 else { throw DMDError.invalidSteps(s) }
        let t = lastSnapshotCoordinates
        if rank == 0 { return t }
        let g = options.modes == .exact ? exactCoordinates : projectedCoordinates
        let lambdas = extrapolationEigenvalues
        var weighted = [Complex<Double>](repeating: .zero, count: rank)
        for j in 0..<rank {
            guard let power = DMD.power(lambdas[j], s) else {
                throw DMDError.extrapolationOverflow(steps: s, largestModulus: largestEigenvalueModulus)
            }
            weighted[j] = power * amplitudes[j]
        }
        let omega = options.relaxation
        var z = [Double](repeating: 0, count: t.count)
        for i in 0..<t.count {
            var sum = 0.0
            for j in 0..<rank {
                let gij = g[i, j], cj = weighted[j]
                sum += gij.real * cj.real - gij.imaginary * cj.imaginary
            }
            z[i] = omega == 1 ? sum : t[i] + omega * (sum - t[i])
        }
        guard z.allSatisfy(\.isFinite) else {
            throw DMDError.extrapolationOverflow(steps: s, largestModulus: largestEigenvalueModulus)
        }
        return z
    }

    /// output (n) = B z for the model's basis B.
    func expand(coordinates z: [Double], into output: UnsafeMutablePointer<Double>) throws {
        guard buffer.generation == generation else { throw DMDError.snapshotsCleared }
        let n = dimension
        switch basis {
        case .householder(let qr):
            // Q [z; 0] applied from the reflectors, block by block: O(n k), Q never formed.
            try lapack { try qr.applyQ(to: z, factors: buffer.storage, into: output) }
        case .snapshotColumns:
            // [w_1 … w_m] z (one dgemv over the buffer).
            z.withUnsafeBufferPointer { zb in
                cblas_dgemv(CblasColMajor, CblasNoTrans, Int32(n), Int32(z.count), 1.0, buffer.storage, Int32(n),
                            zb.baseAddress, 1, 0.0, output, 1)
            }
        }
    }

    // MARK: Modes (F12), for analysis

    /// The modes Φ (n × r, complex) of the given kind: projected U_r Y or exact X' V_r Σ_r⁻¹ Y.
    /// Forms an n × r matrix (O(n m r) work); extrapolation never needs it.
    public func modes(_ kind: DMDOptions.ModeKind) throws -> ComplexColumnMajorMatrix {
        guard buffer.generation == generation else { throw DMDError.snapshotsCleared }
        let g = kind == .exact ? exactCoordinates : projectedCoordinates
        let realPart = try expandColumns(g.realPart)
        let imaginaryPart = try expandColumns(g.imaginaryPart)
        return try ComplexColumnMajorMatrix(real: realPart, imaginary: imaginaryPart)
    }

    private func expandColumns(_ coordinates: ColumnMajorMatrix) throws -> ColumnMajorMatrix {
        var result = ColumnMajorMatrix(rows: dimension, columns: coordinates.columns)
        for j in 0..<coordinates.columns {
            let column = coordinates.column(j)
            try result.withUnsafeMutableBufferPointer { out in
                try expand(coordinates: column, into: out.baseAddress! + j * dimension)
            }
        }
        return result
    }
}
