import NumericalFoundations

/// Everything that can go wrong in a DMD, each case with what was expected.
public enum DMDError: Error, CustomStringConvertible, Equatable {
    /// A size that cannot work (e.g. a snapshot of the wrong length, an empty matrix).
    case invalidShape(String)
    /// DMD needs X and X' (F9), hence at least two snapshots.
    case tooFewSnapshots(count: Int)
    /// A snapshot entry is NaN or ±∞ (`value` is its text, e.g. "nan").
    case nonFiniteSnapshot(snapshot: Int, entry: Int, value: String)
    /// `append` on a buffer that already holds `capacity` snapshots.
    case bufferFull(capacity: Int)
    /// The buffer's storage was used by a decomposition (the QR path overwrites it): `clear()` it first.
    case bufferConsumed
    /// A model whose snapshot buffer has since been cleared can no longer extrapolate.
    case snapshotsCleared
    case invalidOption(String)
    /// The step count s of (F13) must be finite and ≥ 0.
    case invalidSteps(Double)
    /// Λ^s overflowed: some |λ| > 1 raised to s leaves the range of Double.
    case extrapolationOverflow(steps: Double, largestModulus: Double)
    /// A NaN or ∞ appeared in an intermediate result (e.g. tolerance 0 kept a σ_i ≈ 1e-300).
    case nonFiniteResult(String)
    case linearAlgebra(LapackError)

    public var description: String {
        switch self {
        case .invalidShape(let message): return "DMD: \(message)"
        case .tooFewSnapshots(let count): return "DMD needs at least 2 snapshots (X and X' of F9), got \(count)"
        case let .nonFiniteSnapshot(snapshot, entry, value):
            return "DMD: snapshot \(snapshot), entry \(entry) is \(value); snapshots must be finite"
        case .bufferFull(let capacity): return "DMD: the snapshot buffer already holds its \(capacity) snapshots; clear() it first"
        case .bufferConsumed: return "DMD: the snapshot buffer was used by a decomposition (its storage was overwritten); clear() it before appending or decomposing again"
        case .snapshotsCleared: return "DMD: the snapshot buffer of this model was cleared, so the model can no longer extrapolate"
        case .invalidOption(let message): return "DMD option: \(message)"
        case .invalidSteps(let s): return "DMD: the step count s must be finite and ≥ 0, got \(s)"
        case let .extrapolationOverflow(steps, modulus):
            return "DMD: extrapolating s = \(steps) steps overflows (largest |λ| = \(modulus)); clamp the eigenvalues or take fewer steps"
        case .nonFiniteResult(let message): return "DMD: non-finite intermediate result: \(message)"
        case .linearAlgebra(let error): return "DMD: \(error)"
        }
    }
}

/// Runs a linear-algebra step, reporting its failure as a `DMDError`.
@inline(__always)
func lapack<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as LapackError { throw DMDError.linearAlgebra(error) }
}
