import Foundation
import NumericalFoundations

/// The inputs of the batch: the parameters and the wind profile of every sample. The fem stage
/// (FEMStage, `BatchInputs.load(dataDirectory:nu:)`) reads and checks them from the data folder up
/// front, so that a bad file stops the stage with one clear message before any solve.
public struct BatchInputs: Sendable {
    public let parameters: [PollutantParameters]
    public let windStatus: [WindStatus]
    /// The wind profile of every sample that has one (status solved or clamped), nil otherwise.
    public let profiles: [BlasiusProfile?]
    /// The files read, for the manifest and the checkpoint fingerprint.
    public let files: [URL]

    public var count: Int { parameters.count }

    public init(parameters: [PollutantParameters], windStatus: [WindStatus], profiles: [BlasiusProfile?], files: [URL] = []) {
        self.parameters = parameters; self.windStatus = windStatus; self.profiles = profiles; self.files = files
    }
}
