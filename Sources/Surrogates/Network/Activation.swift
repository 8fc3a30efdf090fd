/// Hidden-layer activations (formulation.md §4: softsign; the others by option). The output layer is
/// always linear. Each derivative is written in terms of the activation's *output* a = σ(z), so the
/// backward pass needs only the stored activations, not the pre-activations:
/// - softsign a = z/(1+|z|):  σ'(z) = 1/(1+|z|)² = (1−|a|)²
/// - tanh:                   σ'(z) = 1 − a²
/// - relu a = max(z, 0):      σ'(z) = 1 if a > 0 else 0 (the subgradient 0 at z = 0, as TensorFlow)
/// - linear:                 σ'(z) = 1
public enum Activation: String, Codable, Sendable, CaseIterable {
    case softsign, tanh, relu, linear

    /// Adds `bias` to each of the `rows` rows (length `width`, leading dimension `width`) and applies
    /// the activation in place: the epilogue of z = a_prev·Wᵀ + b.
    @inline(__always)
    func applyWithBias<T: NetworkScalar>(_ values: UnsafeMutablePointer<T>, rows: Range<Int>, width: Int, bias: UnsafePointer<T>) {
        for r in rows { Kernels.biasAndActivation(values + r * width, bias: bias, count: width, activation: self) }
    }

    /// delta ← delta ⊙ σ'(z), with σ'(z) from the stored output a (see the type's comment).
    @inline(__always)
    func multiplyByDerivative<T: NetworkScalar>(_ delta: UnsafeMutablePointer<T>, output a: UnsafePointer<T>, range: Range<Int>) {
        Kernels.multiplyByDerivative(delta, output: a, range: range, activation: self)
    }

    /// σ(z) for one value (reference implementation for tests and small inputs).
    public func value(_ z: Double) -> Double {
        switch self {
        case .softsign: return z / (1 + abs(z))
        case .tanh: return Double.hyperbolicTangent(z)
        case .relu: return max(z, 0)
        case .linear: return z
        }
    }
}
