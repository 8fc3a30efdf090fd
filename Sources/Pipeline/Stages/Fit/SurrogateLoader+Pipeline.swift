import Foundation
import Surrogates

extension SurrogateLoader {
    /// A model folder with what computes its extra inputs in the pipeline: the wind's descriptors
    /// (`WindDescriptors`) and the low-fidelity fields (`CoarseFEMSource`), for the models that take them.
    public static func loadWithPipelineSources(from folder: URL) throws -> FieldSurrogate {
        try load(from: folder, descriptorSources: WindDescriptors.factory, lowFidelitySources: CoarseFEMSource.factory)
    }
}
