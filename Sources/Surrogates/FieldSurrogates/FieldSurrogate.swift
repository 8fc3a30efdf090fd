import Foundation
import NumericalFoundations

/// What every surrogate of c3 offers the stages that use one (`train-dmd predict`, `evaluate`,
/// the uncertainty study): parameters in physical units → c3 at the observation points.
public protocol FieldSurrogate: AnyObject {
    /// A short name of the model family ("mlp", "pod-gp", "pod-nn").
    var kind: String { get }
    var inputNames: [String] { get }
    var inputWidth: Int { get }
    var outputWidth: Int { get }
    var parameterCount: Int { get }
    /// rows × P predictions (physical units) for rows × d parameter sets.
    func predict(parameters: [Double], rows: Int, threads: Int) throws -> [Double]
    /// The predictive standard deviation beside the mean, where the model has one (nil otherwise).
    func predictWithUncertainty(parameters: [Double], rows: Int, threads: Int) throws -> (mean: [Double], standardDeviation: [Double])?
    /// The kinematic viscosity of the wind model of the training data, for the blow-off warning.
    var windViscosity: Double? { get }
    /// (row, column) of every parameter outside the box the model was trained on.
    func outOfRange(parameters: [Double]) -> [(row: Int, column: Int)]
    /// The box the inputs were scaled from.
    var inputScaler: InputScaler { get }
    /// The descriptors computed from the parameters that the model (or a member) also takes as inputs; nil: none.
    var descriptorInputs: DescriptorInputs? { get }
    /// The low-fidelity model the model (or a member) corrects; nil: none.
    var lowFidelity: LowFidelityInputs? { get }
}

extension FieldSurrogate {
    public var lowFidelity: LowFidelityInputs? { nil }

    public func outOfRange(parameters: [Double]) -> [(row: Int, column: Int)] {
        let d = inputWidth
        return parameters.indices.compactMap { i in inputScaler.contains(parameters[i], column: i % d) ? nil : (i / d, i % d) }
    }
}

extension SurrogateModel: FieldSurrogate {
    public var kind: String { "mlp" }
    public var descriptorInputs: DescriptorInputs? { nil }
    public var inputNames: [String] { description.inputNames }
    public var inputWidth: Int { layout.inputWidth }
    public var outputWidth: Int { layout.outputWidth }
    public var windViscosity: Double? { description.windViscosity }
    public func predictWithUncertainty(parameters: [Double], rows: Int, threads: Int) throws -> (mean: [Double], standardDeviation: [Double])? { nil }
}

/// Opens any model folder: `model.json` (the network, plain or tuned) or `rom.json` (POD models).
/// `descriptorSources` makes what computes a POD model's descriptor inputs (`DescriptorInputs`);
/// a model that has them, loaded without it, refuses to predict; `lowFidelitySources` the same for
/// a model that corrects a low-fidelity model (`LowFidelityInputs`).
public enum SurrogateLoader {
    public static func load(from folder: URL, descriptorSources: DescriptorSourceFactory? = nil,
                            lowFidelitySources: LowFidelitySourceFactory? = nil) throws -> FieldSurrogate {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: folder.path, isDirectory: &isDirectory) else {
            throw ArrayFileError(path: folder.path, "missing: expected a model folder written by `train-dmd train` or `train-dmd fit`")
        }
        guard isDirectory.boolValue else { throw ArrayFileError(path: folder.path, "is a file: expected a model folder") }
        if fm.fileExists(atPath: folder.appendingPathComponent(EnsembleSurrogate.descriptionFile).path) {
            return try EnsembleSurrogate.load(from: folder, descriptorSources: descriptorSources, lowFidelitySources: lowFidelitySources)
        }
        if fm.fileExists(atPath: folder.appendingPathComponent(ReducedOrderSurrogate.descriptionFile).path) {
            return try ReducedOrderSurrogate.load(from: folder, descriptorSources: descriptorSources, lowFidelitySources: lowFidelitySources)
        }
        return try SurrogateModel.load(from: folder)
    }
}
