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
            writeLatentJacobian(prepared, field: data.observations[(row * p)..<((row + 1) * p)], sensitivities: block,
                                parameters: data.parameters[(row * d)..<((row + 1) * d)], into: &values, at: slot * p * d)
        }
        return FieldJacobians(values: values, available: available)
    }

    /// The Jacobians of the low-fidelity latent fields `lowFidelityLatent` (T(max(c, 0))) of `rows`,
    /// from the coarse fields and their sensitivities (nil: unavailable), in the scaled inputs as
    /// `fieldJacobians`. The cut at 0 is constant below 0, so a value c ≤ 0 has derivative 0 there.
    static func lowFidelityJacobians(_ prepared: Prepared, rows: [Int], fields: [Double], sensitivities: [[Double]?]) -> FieldJacobians {
        let data = prepared.dataset, p = data.observationWidth, d = data.parameterWidth
        var values = [Double](repeating: 0, count: rows.count * p * d)
        var available = [Bool](repeating: false, count: rows.count)
        for (slot, row) in rows.enumerated() {
            guard var block = sensitivities[slot] else { continue }
            available[slot] = true
            for q in 0..<p where fields[slot * p + q] <= 0 {
                for j in 0..<d { block[q * d + j] = 0 }
            }
            writeLatentJacobian(prepared, field: fields[(slot * p)..<((slot + 1) * p)].map { max($0, 0) }[...], sensitivities: block[...],
                                parameters: data.parameters[(row * d)..<((row + 1) * d)], into: &values, at: slot * p * d)
        }
        return FieldJacobians(values: values, available: available)
    }

    /// The Jacobians a multi-fidelity model's targets T(f) − T(max(c, 0)) have: the fine minus the
    /// coarse, on the rows where both are available.
    static func discrepancyJacobians(fine: FieldJacobians, lowFidelity: FieldJacobians) -> FieldJacobians {
        let available = zip(fine.available, lowFidelity.available).map { $0 && $1 }
        let width = fine.values.count / max(available.count, 1)
        var values = [Double](repeating: 0, count: fine.values.count)
        for (slot, both) in available.enumerated() where both {
            for i in (slot * width)..<((slot + 1) * width) { values[i] = fine.values[i] - lowFidelity.values[i] }
        }
        return FieldJacobians(values: values, available: available)
    }

    /// One sample's ∂T(y)/∂x (P × d, row-major, at `offset` of `out`) from its values y and ∂y/∂θ:
    /// the output transform's derivative (docs/fem.md (S7), `OutputTransform.derivative`) times the
    /// input scaling's ∂θ/∂x (`InputFeatures.parameterPerScaledInput`).
    private static func writeLatentJacobian(_ prepared: Prepared, field: ArraySlice<Double>, sensitivities: ArraySlice<Double>,
                                            parameters: ArraySlice<Double>, into out: inout [Double], at offset: Int) {
        let d = parameters.count
        let factors = (0..<d).map { prepared.features.parameterPerScaledInput(parameters[parameters.startIndex + $0], column: $0) }
        for (q, y) in field.enumerated() {
            let base = sensitivities.startIndex + q * d
            for j in 0..<d {
                out[offset + q * d + j] = prepared.transform.derivative(at: y, sensitivities[base + j]) * factors[j]
            }
        }
    }
}
