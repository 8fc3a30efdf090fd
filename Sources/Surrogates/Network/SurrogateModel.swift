import Foundation
import NumericalFoundations

/// `model.json`: what a model folder holds, enough to rebuild the network for `predict`.
public struct ModelDescription: Codable, Equatable, Sendable {
    public var format = "surrogate-mlp"
    public var version = 1
    public var layout: NetworkLayout
    public var precision: NetworkPrecision
    /// Names of the input columns (params.npy order).
    public var inputNames: [String]
    public var epochsCompleted: Int
    public var epochsPlanned: Int
    public var trainSamples: Int
    public var testSamples: Int
    /// Kinematic viscosity of the wind model the data came from (for `predict`'s blow-off warning).
    public var windViscosity: Double?
    /// Set when training stopped because it diverged: the model is the one after `epochsCompleted`.
    public var divergence: Divergence?
    /// The map applied to the targets before standardising (absent = identity, the paper's).
    public var outputTransform: OutputTransform?
    /// How the model was trained ("paper", "tuned"), absent for the paper's runs.
    public var recipe: String?

    public init(layout: NetworkLayout, precision: NetworkPrecision, inputNames: [String], epochsCompleted: Int,
                epochsPlanned: Int, trainSamples: Int, testSamples: Int, windViscosity: Double? = nil, divergence: Divergence? = nil) {
        self.layout = layout; self.precision = precision; self.inputNames = inputNames
        self.epochsCompleted = epochsCompleted; self.epochsPlanned = epochsPlanned
        self.trainSamples = trainSamples; self.testSamples = testSamples; self.windViscosity = windViscosity
        self.divergence = divergence
    }
}

/// A trained surrogate: network, input scaler and output scaler, as stored in a model folder:
///
///     model.json                    ModelDescription
///     layer_<ℓ>_weights.npy         W_ℓ, n_{ℓ+1} × n_ℓ (row-major; y = W x + b), network precision
///     layer_<ℓ>_bias.npy            b_ℓ, n_{ℓ+1}
///     input_lower.npy, input_upper.npy   the ranges of the [−1, 1] input scaling (float64, d)
///     output_mean.npy, output_std.npy    the output standardisation (float64, P)
public final class SurrogateModel {
    public let description: ModelDescription
    public let inputScaler: InputScaler
    public let outputScaler: OutputScaler
    enum Storage {
        case float32(Network<Float>)
        case float64(Network<Double>)
    }
    let storage: Storage

    public static let descriptionFile = "model.json"
    public static func weightsFile(_ layer: Int) -> String { "layer_\(layer)_weights.npy" }
    public static func biasFile(_ layer: Int) -> String { "layer_\(layer)_bias.npy" }
    public static let scalerFiles = ["input_lower.npy", "input_upper.npy", "output_mean.npy", "output_std.npy"]

    init(description: ModelDescription, inputScaler: InputScaler, outputScaler: OutputScaler, storage: Storage) {
        self.description = description; self.inputScaler = inputScaler; self.outputScaler = outputScaler; self.storage = storage
    }

    /// Writes a model folder (every file atomically); returns the files written.
    @discardableResult
    public static func write<S: NetworkScalar>(network: Network<S>, description: ModelDescription, inputScaler: InputScaler,
                                               outputScaler: OutputScaler, to folder: URL) throws -> [URL] {
        var written: [URL] = []
        let layout = network.layout
        for layer in 0..<layout.layerCount {
            let p = network.layerParameters(layer)
            let nIn = layout.inputs(ofLayer: layer), nOut = layout.outputs(ofLayer: layer)
            let w = folder.appendingPathComponent(weightsFile(layer)), b = folder.appendingPathComponent(biasFile(layer))
            try Npy.write(Array(p.prefix(nIn * nOut)), shape: [nOut, nIn], to: w)
            try Npy.write(Array(p.suffix(nOut)), shape: [nOut], to: b)
            written += [w, b]
        }
        let scalers = [inputScaler.lower, inputScaler.upper, outputScaler.mean, outputScaler.standardDeviation]
        for (name, values) in zip(scalerFiles, scalers) {
            let url = folder.appendingPathComponent(name)
            try Npy.write(values, shape: [values.count], to: url)
            written.append(url)
        }
        let url = folder.appendingPathComponent(descriptionFile)
        try AtomicFile.writeJSON(description, to: url, snakeCaseKeys: true)
        written.append(url)
        return written
    }

    /// Reads a model folder, checking every file against `model.json`.
    public static func load(from folder: URL) throws -> SurrogateModel {
        let descriptionURL = folder.appendingPathComponent(descriptionFile)
        let description = try JSONDescription.read(ModelDescription.self, from: descriptionURL,
                                                    missing: "missing: \(folder.path) is not a model folder (train one with `train-dmd`)")
        guard description.format == "surrogate-mlp", description.version == 1 else {
            throw ArrayFileError(path: descriptionURL.path, "model format \(description.format) v\(description.version) is not supported (expected surrogate-mlp v1)")
        }
        let layout = try NetworkLayout(widths: description.layout.widths, activation: description.layout.activation)
        let d = layout.inputWidth, p = layout.outputWidth
        func doubles(_ name: String, _ count: Int) throws -> [Double] {
            let url = folder.appendingPathComponent(name)
            let a = try Npy.read(Double.self, from: url, expectedShape: [count])
            if let i = a.values.firstIndex(where: { !$0.isFinite }) { throw ArrayFileError(path: url.path, "entry \(i) is \(a.values[i])") }
            return a.values
        }
        let inputScaler = try InputScaler(lower: doubles(scalerFiles[0], d), upper: doubles(scalerFiles[1], d))
        let outputScaler = try OutputScaler(mean: doubles(scalerFiles[2], p), standardDeviation: doubles(scalerFiles[3], p))
        guard description.inputNames.count == d else {
            throw ArrayFileError(path: descriptionURL.path, "lists \(description.inputNames.count) input names for a network with \(d) inputs")
        }
        func network<S: NetworkScalar>(_ type: S.Type) throws -> Network<S> {
            let network = Network<S>(layout: layout)
            for layer in 0..<layout.layerCount {
                let nIn = layout.inputs(ofLayer: layer), nOut = layout.outputs(ofLayer: layer)
                let wURL = folder.appendingPathComponent(weightsFile(layer)), bURL = folder.appendingPathComponent(biasFile(layer))
                let w = try Npy.read(S.self, from: wURL, expectedShape: [nOut, nIn])
                let b = try Npy.read(S.self, from: bURL, expectedShape: [nOut])
                for (url, values) in [(wURL, w.values), (bURL, b.values)] {
                    if let i = values.firstIndex(where: { !$0.isFinite }) { throw ArrayFileError(path: url.path, "entry \(i) is \(values[i])") }
                }
                let slice = network.layerParameters(layer)
                _ = UnsafeMutableBufferPointer(rebasing: slice[..<(nIn * nOut)]).update(fromContentsOf: w.values)
                _ = UnsafeMutableBufferPointer(rebasing: slice[(nIn * nOut)...]).update(fromContentsOf: b.values)
            }
            return network
        }
        let storage: Storage
        switch description.precision {
        case .float32: storage = .float32(try network(Float.self))
        case .float64: storage = .float64(try network(Double.self))
        }
        return SurrogateModel(description: description, inputScaler: inputScaler, outputScaler: outputScaler, storage: storage)
    }

    public var layout: NetworkLayout { description.layout }

    /// c3 at the observation points, in physical units, for `rows` parameter sets (row-major,
    /// rows × d, unscaled). Returns rows × P values.
    public func predict(parameters: [Double], rows: Int, threads: Int = 1) throws -> [Double] {
        try predict(parameters: parameters, rows: rows, threads: threads, independentRows: false)
    }

    /// `predict`; with `independentRows`, every row's answer is the same bits whatever rows share the
    /// call (`Network.predictIndependentRows`: for a server answering concurrent requests together).
    public func predict(parameters: [Double], rows: Int, threads: Int = 1, independentRows: Bool) throws -> [Double] {
        let d = layout.inputWidth, p = layout.outputWidth
        guard parameters.count == rows * d else {
            throw NetworkError("\(parameters.count) parameter values do not make \(rows) rows of the model's \(d) inputs")
        }
        if let i = parameters.firstIndex(where: { !$0.isFinite }) {
            throw NetworkError("parameter set \(i / d): \(description.inputNames[i % d]) is \(parameters[i]); expected a finite number")
        }
        let scaled = inputScaler.scale(rows: parameters)
        let output: [Double]
        switch storage {
        case .float32(let n):
            let x = scaled.map { Float($0) }
            output = (independentRows ? n.predictIndependentRows(x, rows: rows) : n.predict(x, rows: rows, threads: threads)).map { Double($0) }
        case .float64(let n): output = independentRows ? n.predictIndependentRows(scaled, rows: rows) : n.predict(scaled, rows: rows, threads: threads)
        }
        let transform = description.outputTransform ?? .identity
        return output.enumerated().map { transform.invert(outputScaler.unstandardize($0.element, column: $0.offset % p)) }
    }

    /// (row, column) of every parameter outside the ranges the model was trained on.
    public func outOfRange(parameters: [Double]) -> [(row: Int, column: Int)] {
        let d = layout.inputWidth
        return parameters.indices.compactMap { i in
            inputScaler.contains(parameters[i], column: i % d) ? nil : (i / d, i % d)
        }
    }
}
