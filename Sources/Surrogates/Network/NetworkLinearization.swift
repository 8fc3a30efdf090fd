import NumericalFoundations

/// The network's output on a fixed set of inputs, linearised in its parameters: f(X; θ + v) ≈
/// f(X; θ) + J v, with J = ∂ vec f(X; θ) / ∂θ the (rows · n_L) × parameterCount Jacobian. J is never
/// formed; the two products a Gauss–Newton or Levenberg–Marquardt solver needs are computed with
/// the same GEMMs as training:
///
/// - **J v** (forward mode, one extra GEMM per layer): with the tangent ȧ_{−1} = 0 of the inputs,
///   ż_ℓ = ȧ_{ℓ−1} W_ℓᵀ + a_{ℓ−1} V_ℓᵀ + 1 v_{b,ℓ}ᵀ and ȧ_ℓ = σ'(z_ℓ) ⊙ ż_ℓ (ȧ_L = ż_L at the
///   linear output), where (V_ℓ, v_{b,ℓ}) is the slice of v laid out as `Network.parameters`;
/// - **Jᵀ u** (reverse mode): back-propagation (`Network.backward`) with δ_L = u.
///
/// Both products are exact derivatives of the forward pass at the parameters of the last
/// `evaluate()`; ⟨J v, u⟩ = ⟨v, Jᵀ u⟩ holds to rounding (the tests check it, and J v against
/// central differences). Works in float64 only: a second-order solver needs the digits.
///
/// All buffers are allocated once; no product allocates.
public final class NetworkLinearization {
    public let network: Network<Double>
    public let rows: Int
    private let inputs: UnsafeMutablePointer<Double>
    private let workspace: NetworkWorkspace<Double>
    /// ȧ_ℓ per layer (rows × n_ℓ).
    private let tangents: [UnsafeMutablePointer<Double>]
    private let threads: Int
    private var evaluated = false

    /// `inputs` is rows × n_0, row-major. `threads` cores for the element-wise loops (OpenBLAS uses
    /// whatever its own setting is).
    public init(network: Network<Double>, inputs: [Double], rows: Int, threads: Int = 1) throws {
        let layout = network.layout
        guard rows >= 1, inputs.count == rows * layout.inputWidth else {
            throw NetworkError("the linearisation needs \(rows) rows × \(layout.inputWidth) inputs; got \(inputs.count) values")
        }
        self.network = network
        self.rows = rows
        self.threads = max(threads, 1)
        self.inputs = .allocate(capacity: inputs.count)
        self.inputs.initialize(from: inputs, count: inputs.count)
        workspace = NetworkWorkspace<Double>(layout: layout, rows: rows, deltaRows: rows)
        tangents = (0..<layout.layerCount).map {
            let p = UnsafeMutablePointer<Double>.allocate(capacity: rows * layout.outputs(ofLayer: $0))
            p.initialize(repeating: 0, count: rows * layout.outputs(ofLayer: $0))
            return p
        }
    }

    deinit {
        inputs.deallocate()
        for t in tangents { t.deallocate() }
    }

    public var parameterCount: Int { network.layout.parameterCount }
    /// rows · n_L, the length of vec f and of J v.
    public var outputCount: Int { rows * network.layout.outputWidth }

    /// Runs the network at its current parameters and returns its output (rows × n_L, valid until
    /// the next call); the products below linearise about this point.
    @discardableResult
    public func evaluate() -> UnsafeBufferPointer<Double> {
        network.forward(inputs, rows: rows, workspace: workspace, threads: threads)
        evaluated = true
        return UnsafeBufferPointer(start: workspace.output, count: outputCount)
    }

    /// out ← J v (`v` parameterCount values, `out` rows · n_L).
    public func applyJacobian(_ v: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>) {
        precondition(evaluated, "applyJacobian before evaluate()")
        let layout = network.layout
        let last = layout.layerCount - 1
        for layer in 0...last {
            let nIn = layout.inputs(ofLayer: layer), nOut = layout.outputs(ofLayer: layer)
            let offset = layout.parameterOffset(ofLayer: layer)
            let vWeights = v + offset, vBias = v + offset + nIn * nOut
            let previous = layer == 0 ? UnsafePointer(inputs) : UnsafePointer(workspace.activations[layer - 1])
            let tangent = layer == last ? out : tangents[layer]
            // ż = a_{ℓ−1} V_ℓᵀ (+ ȧ_{ℓ−1} W_ℓᵀ below the first layer, whose input tangent is zero) + 1 v_bᵀ.
            Double.gemm(.none, .transpose, m: rows, n: nOut, k: nIn, alpha: 1, a: previous, lda: nIn,
                        b: vWeights, ldb: nIn, beta: 0, c: tangent, ldc: nOut)
            if layer > 0 {
                Double.gemm(.none, .transpose, m: rows, n: nOut, k: nIn, alpha: 1, a: UnsafePointer(tangents[layer - 1]), lda: nIn,
                            b: network.weights(layer), ldb: nIn, beta: 1, c: tangent, ldc: nOut)
            }
            for r in 0..<rows {
                let row = tangent + r * nOut
                for j in 0..<nOut { row[j] += vBias[j] }
            }
            if layer < last {
                let a = UnsafePointer(workspace.activations[layer])
                let activation = layout.activation
                ParallelWork.forEachRange(count: rows * nOut, threads: threads, grain: ParallelWork.elementGrain) { range in
                    activation.multiplyByDerivative(tangent, output: a, range: range)
                }
            }
        }
    }

    /// out ← Jᵀ u (`u` rows · n_L values, `out` parameterCount).
    public func applyJacobianTranspose(_ u: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>) {
        precondition(evaluated, "applyJacobianTranspose before evaluate()")
        let layout = network.layout
        workspace.deltas[layout.layerCount - 1].update(from: u, count: outputCount)
        network.backward(inputs, rows: rows, workspace: workspace, gradient: out, threads: threads)
    }
}
