import Foundation
import NumericalFoundations

/// `rom.json`: what a reduced-order model folder holds. The numbers a prediction needs are in the
/// `.npy` files (bit-exact); the hyper-parameters here are for people and tools to read.
public struct ReducedOrderModelDescription: Codable, Equatable, Sendable {
    /// "pod-gp" or "pod-nn".
    public var kind: String
    public var version: Int
    /// d, the number of (scaled) inputs.
    public var inputDimension: Int
    /// P, the length of an output field.
    public var pointCount: Int
    /// n, the number of training samples.
    public var trainingSamples: Int
    /// r, the retained POD modes.
    public var rank: Int
    public var energyTolerance: Double
    public var maxRank: Int?
    /// Number of stored singular values (min(n, P)).
    public var singularValueCount: Int
    /// POD-GP: the kernel and, per coefficient, the fitted hyper-parameters.
    public var kernel: CovarianceKernel?
    public var gaussianProcesses: [GaussianProcessSummary]?
    /// POD-NN: the network layout and how it was trained.
    public var network: NetworkLayout?
    public var coefficientScaling: CoefficientScaling?
    public var training: PODNeuralNetworkFitReport?
    /// POD-GP: the leading coefficients whose GPs were also conditioned on gradients (absent = 0),
    /// and how many samples' gradients they saw.
    public var gradientEnhancedModes: Int? = nil
    public var gradientSamples: Int? = nil
    /// POD-GP with the scale/shape split: the GP of log‖c3‖ (absent: the POD is of the fields).
    public var scaleProcess: GaussianProcessSummary? = nil

    public static let currentVersion = 1
}

/// One coefficient's GP as recorded in `rom.json`.
public struct GaussianProcessSummary: Codable, Equatable, Sendable {
    public var lengthScales: [Double]
    public var signalStandardDeviation: Double
    public var noiseStandardDeviation: Double
    public var targetMean: Double
    public var targetScale: Double
    public var jitter: Double
    public var negativeLogMarginalLikelihood: Double
    public var fitSeconds: Double?
}

/// Reading and writing the files of a model folder, every error naming the file and the expectation.
enum ModelFolder {
    static let descriptionFile = "rom.json"
    static let meanFile = "pod_mean.npy"
    static let modesFile = "pod_modes.npy"
    static let singularValuesFile = "pod_singular_values.npy"

    static func writeDescription(_ description: ReducedOrderModelDescription, to folder: URL) throws {
        let url = folder.appendingPathComponent(descriptionFile)
        do { try AtomicFile.writeJSON(description, to: url, snakeCaseKeys: true) } catch {
            throw ReducedOrderModelError.fileProblem(path: url.path, message: "cannot be written: \(error)")
        }
    }

    static func readDescription(from folder: URL, kind: String) throws -> ReducedOrderModelDescription {
        let url = folder.appendingPathComponent(descriptionFile)
        guard let data = try? Data(contentsOf: url) else {
            throw ReducedOrderModelError.fileProblem(path: url.path, message: "missing or unreadable: \(folder.path) is not a reduced-order model folder")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let description: ReducedOrderModelDescription
        do { description = try decoder.decode(ReducedOrderModelDescription.self, from: data) } catch {
            throw ReducedOrderModelError.fileProblem(path: url.path, message: "not a readable model description: \(error)")
        }
        guard description.kind == kind else {
            throw ReducedOrderModelError.fileProblem(path: url.path, message: "holds a \(description.kind) model, but a \(kind) model was expected")
        }
        guard description.version == ReducedOrderModelDescription.currentVersion else {
            throw ReducedOrderModelError.fileProblem(path: url.path,
                message: "format version \(description.version) is not supported (expected \(ReducedOrderModelDescription.currentVersion))")
        }
        guard description.inputDimension >= 1, description.pointCount >= 1, description.trainingSamples >= 1, description.rank >= 1,
              description.singularValueCount >= description.rank else {
            throw ReducedOrderModelError.fileProblem(path: url.path,
                message: "impossible dimensions d = \(description.inputDimension), P = \(description.pointCount), n = \(description.trainingSamples), r = \(description.rank), \(description.singularValueCount) singular values")
        }
        return description
    }

    static func write(_ values: [Double], shape: [Int], name: String, in folder: URL) throws {
        let url = folder.appendingPathComponent(name)
        do { try Npy.write(values, shape: shape, to: url) } catch {
            throw ReducedOrderModelError.fileProblem(path: url.path, message: "cannot be written: \(error)")
        }
    }

    /// A float64 array of exactly `shape`, all finite.
    static func read(_ name: String, shape: [Int], in folder: URL) throws -> [Double] {
        let url = folder.appendingPathComponent(name)
        let array: NDArray<Double>
        do { array = try Npy.read(Double.self, from: url, expectedShape: shape) } catch let error as ArrayFileError {
            throw ReducedOrderModelError.fileProblem(path: url.path, message: error.message + " (expected float64 of shape \(Npy.shapeString(shape)) from rom.json)")
        }
        if let i = array.values.firstIndex(where: { !$0.isFinite }) {
            throw ReducedOrderModelError.fileProblem(path: url.path, message: "entry \(i) is \(array.values[i]); expected finite values")
        }
        return array.values
    }

    static func writePOD(_ pod: ProperOrthogonalDecomposition, in folder: URL) throws {
        try write(pod.mean, shape: [pod.pointCount], name: meanFile, in: folder)
        try write(pod.modes, shape: [pod.pointCount, pod.rank], name: modesFile, in: folder)
        try write(pod.singularValues, shape: [pod.singularValues.count], name: singularValuesFile, in: folder)
    }

    static func readPOD(_ description: ReducedOrderModelDescription, in folder: URL) throws -> ProperOrthogonalDecomposition {
        let p = description.pointCount, r = description.rank
        return try ProperOrthogonalDecomposition(mean: read(meanFile, shape: [p], in: folder),
                                                 modes: read(modesFile, shape: [p, r], in: folder), rank: r,
                                                 singularValues: read(singularValuesFile, shape: [description.singularValueCount], in: folder),
                                                 energyTolerance: description.energyTolerance)
    }
}
