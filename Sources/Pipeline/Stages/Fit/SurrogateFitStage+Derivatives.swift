import Foundation
import NumericalFoundations
import PDE
import Surrogates

extension SurrogateFitStage {
    /// Whether `model`'s fit reads fem/dc3_dtheta.npy (then it is an input of the model's manifest).
    static func usesSensitivities(_ model: SurrogateSettings.Model, config: PipelineConfig) -> Bool {
        (model == .podNN && config.surrogate.podnnDerivativeWeight > 0) || (model == .podGP && config.surrogate.gpDerivativeModes > 0)
    }

    /// The rows' sensitivities ∂c3/∂θ (fem/dc3_dtheta.npy, N × P × 6) as Jacobians of the fitted
    /// outputs with respect to the scaled inputs: by the chain rule through the output transform
    /// (docs/fem.md (S7), `OutputTransform.derivative`) and the input scaling
    /// (`InputFeatures.parameterPerScaledInput`). A row whose sensitivities are all zero (the FEM
    /// stage writes zeros where they failed or the sample was skipped) is marked unavailable.
    static func fieldJacobians(_ prepared: Prepared, rows: [Int]) throws -> FieldJacobians {
        let data = prepared.dataset, p = data.observationWidth, d = data.parameterWidth
        guard let url = prepared.sensitivities else {
            throw StageError("[surrogate] podnn_derivative_weight > 0 or gp_derivative_modes > 0: this data set (assembled by the refine loop) has no sensitivities file of its rows; set both to 0 here")
        }
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw StageError("\(url.path): missing; [surrogate] podnn_derivative_weight > 0 and gp_derivative_modes > 0 need the sensitivities (run pollutant-fem with [fem] sensitivities = true)")
        }
        let array = try Npy.read(Double.self, from: url, expectedShape: [data.sampleCount, p, d])
        let sensitivities = array.values
        var values = [Double](repeating: 0, count: rows.count * p * d)
        var available = [Bool](repeating: false, count: rows.count)
        for (slot, row) in rows.enumerated() {
            let source = row * p * d
            let block = sensitivities[source..<(source + p * d)]
            if let bad = block.firstIndex(where: { !$0.isFinite }) {
                throw StageError("\(url.path): sample \(row), point \((bad - source) / d), parameter \(PollutantParameters.names[(bad - source) % d]) is \(sensitivities[bad]); expected a finite number")
            }
            guard block.contains(where: { $0 != 0 }) else { continue }
            available[slot] = true
            let factors = (0..<d).map { prepared.features.parameterPerScaledInput(data.parameters[row * d + $0], column: $0) }
            for q in 0..<p {
                let y = data.observations[row * p + q]
                for j in 0..<d {
                    values[(slot * p + q) * d + j] = prepared.transform.derivative(at: y, sensitivities[source + q * d + j]) * factors[j]
                }
            }
        }
        return FieldJacobians(values: values, available: available)
    }
}
