import NumericalFoundations

/// The derivative-informed (Sobolev) loss of a network f: ℝ^d → ℝ^r on a batch of B samples with
/// targets y_i and target Jacobians J_i (r × d, row-major ∂y_k/∂x_j):
///
///   L = (1/(B r)) Σ_i ‖f(x_i) − y_i‖² + w (1/(B r d)) Σ_{i with J_i} Σ_j Σ_k ω_k (D_j f_k(x_i) − J_i,kj)²,
///
/// ω_k per output (`outputWeights`, default 1; POD-NN passes the coefficients' variance shares, so
/// that the derivative term measures the Jacobian error of the field, not of each standardised mode).
/// D_j f(x) = [f(x + h e_j) − f(x − h e_j)] / (2h) the central difference along input j
/// (O'Leary-Roseberry et al. 2022 derive the same loss with exact Jacobians; Czarnecki et al. 2017
/// call it Sobolev training). D_j f = ∂f/∂x_j + (h²/6) ∂³f/∂x_j³ + O(h⁴): with the default h = 1e-3
/// in the scaled inputs (range [−1, 1]) the truncation is ~1e-7 of the third derivative, far below
/// the data's own error, and the cancellation error ~1e-16/h ≈ 1e-13 relative. The *weight*
/// gradient is the exact gradient of this L (two ordinary back-propagations through the perturbed
/// evaluations with cotangents ±δ/(2h)), so the optimiser sees a consistent loss and gradient; only
/// the loss itself differs from the exact-Jacobian one, by O(h²).
///
/// All 1 + 2d evaluations of a batch are stacked into one forward and one backward pass (one GEMM
/// per layer each). Buffers are allocated once, for `capacity` samples.
final class DerivativeInformedLoss {
    let network: Network<Double>
    let capacity: Int
    let step: Double
    let weight: Double
    let gradient: UnsafeMutableBufferPointer<Double>
    let outputWeights: [Double]
    private let workspace: NetworkWorkspace<Double>
    private let stacked: UnsafeMutablePointer<Double>

    /// Rows per sample in the stacked batch: x, then x ± h e_j for j = 0..<d.
    var rowsPerSample: Int { 1 + 2 * network.layout.inputWidth }

    init(network: Network<Double>, capacity: Int, step: Double, weight: Double, outputWeights: [Double]? = nil) {
        self.network = network; self.capacity = capacity; self.step = step; self.weight = weight
        self.outputWeights = outputWeights ?? Array(repeating: 1, count: network.layout.outputWidth)
        precondition(self.outputWeights.count == network.layout.outputWidth, "derivative-informed loss: one weight per output")
        let layout = network.layout
        let rows = capacity * (1 + 2 * layout.inputWidth)
        workspace = NetworkWorkspace<Double>(layout: layout, rows: rows, deltaRows: rows)
        stacked = .allocate(capacity: rows * layout.inputWidth)
        stacked.initialize(repeating: 0, count: rows * layout.inputWidth)
        gradient = .allocate(capacity: layout.parameterCount)
        gradient.initialize(repeating: 0)
    }

    deinit { stacked.deallocate(); gradient.deallocate() }

    /// The loss over the samples `batch` (indices into the row-major arrays: inputs n × d, targets
    /// n × r, jacobians n × r × d, `hasJacobian` n) and its gradient with respect to the network's
    /// parameters, written into `gradient`. Returns the two sums of squares (values, derivatives with
    /// the ω_k), without w and unnormalised.
    func evaluate(batch: ArraySlice<Int>, inputs: UnsafePointer<Double>, targets: UnsafePointer<Double>,
                  jacobians: UnsafePointer<Double>, hasJacobian: [Bool], threads: Int) -> (values: Double, derivatives: Double) {
        let layout = network.layout, d = layout.inputWidth, r = layout.outputWidth, m = rowsPerSample
        precondition(batch.count <= capacity, "derivative-informed loss: \(batch.count) samples exceed the capacity \(capacity)")
        let b = batch.count, rows = b * m
        for (slot, i) in batch.enumerated() {
            for row in 0..<m {
                let target = stacked + (slot * m + row) * d
                target.update(from: inputs + i * d, count: d)
                if row > 0 { target[(row - 1) / 2] += row % 2 == 1 ? step : -step }
            }
        }
        network.forward(UnsafePointer(stacked), rows: rows, workspace: workspace, threads: threads)
        let output = UnsafePointer(workspace.output), delta = workspace.deltas[layout.layerCount - 1]
        let valueScale = 2 / Double(b * r), derivativeScale = weight * 2 / Double(b * r * d) / (2 * step)
        var valueSum = 0.0, derivativeSum = 0.0
        for (slot, i) in batch.enumerated() {
            let base = slot * m
            for k in 0..<r {
                let e = output[base * r + k] - targets[i * r + k]
                valueSum += e * e
                delta[base * r + k] = valueScale * e
            }
            for j in 0..<d {
                let plus = (base + 1 + 2 * j) * r, minus = (base + 2 + 2 * j) * r
                for k in 0..<r {
                    guard hasJacobian[i] else { delta[plus + k] = 0; delta[minus + k] = 0; continue }
                    let e = (output[plus + k] - output[minus + k]) / (2 * step) - jacobians[(i * r + k) * d + j]
                    derivativeSum += outputWeights[k] * e * e
                    delta[plus + k] = derivativeScale * outputWeights[k] * e
                    delta[minus + k] = -derivativeScale * outputWeights[k] * e
                }
            }
        }
        network.backward(UnsafePointer(stacked), rows: rows, workspace: workspace, gradient: gradient.baseAddress!, threads: threads)
        return (valueSum, derivativeSum)
    }

    /// L itself for the sums `evaluate` returned on a batch of b samples.
    func loss(_ sums: (values: Double, derivatives: Double), batchSize b: Int) -> Double {
        let d = Double(network.layout.inputWidth), r = Double(network.layout.outputWidth)
        return sums.values / (Double(b) * r) + weight * sums.derivatives / (Double(b) * r * d)
    }
}
