import Foundation
import NumericalFoundations
import Surrogates

extension SurrogateFitStage {
    /// The wind's descriptors of the data set's rows, the POD models' extra inputs under
    /// `[surrogate] input_features = "parameters+wind"`: computed by `WindDescriptors` (the wind
    /// stage's solve) for the fit, validation and test rows, scaled over the fit rows.
    public struct PreparedDescriptors {
        public var inputs: DescriptorInputs
        public var source: WindDescriptors
        /// Raw descriptors of every row computed (row of the data set → λ, f_w, f''(0), β).
        public var rowValues: [Int: [Double]]
    }

    /// Solves the wind of `rows` (the fit rows first: their range scales the inputs). A row without a
    /// wind profile is an error naming it: the FEM solved it, so its wind existed.
    static func prepareDescriptors(_ dataset: SurrogateDataset, fitRows: [Int], otherRows: [Int], wind: WindSettings) throws -> PreparedDescriptors {
        let source = WindDescriptors(wind: wind)
        let rows = fitRows + otherRows.filter { !Set(fitRows).contains($0) }
        let d = dataset.parameterWidth
        let parameters = rows.flatMap { dataset.parameters[($0 * d)..<(($0 + 1) * d)] }
        var rowValues: [Int: [Double]] = [:]
        for (row, result) in zip(rows, try source.solve(parameters: parameters, rows: rows.count)) {
            switch result {
            case .success(let v): rowValues[row] = v
            case .failure(let e): throw StageError("[surrogate] input_features = \"parameters+wind\": sample \(row) of the data set: \(e.description)")
            }
        }
        let fitValues = fitRows.flatMap { rowValues[$0] ?? [] }
        let inputs = try DescriptorInputs(source: WindDescriptors.sourceName, names: source.names, settings: source.settings,
                                          values: fitValues, rows: fitRows.count)
        return PreparedDescriptors(inputs: inputs, source: source, rowValues: rowValues)
    }
}
