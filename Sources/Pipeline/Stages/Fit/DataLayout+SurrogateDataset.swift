import Foundation
import Surrogates

extension SurrogateDataset {
    /// The surrogate's training data from the data folder: samples/params.npy, samples/split.npy,
    /// fem/c3.npy and fem/status.npy as `DataLayout` names them.
    public static func load(layout: DataLayout, inputScaler: InputScaler, parameterNames: [String]) throws -> SurrogateDataset {
        try load(params: layout.samples.params, split: layout.samples.split, observations: layout.fem.c3,
                 status: layout.fem.status, inputScaler: inputScaler, parameterNames: parameterNames)
    }
}
