import Foundation
import NumericalFoundations

/// A POD model (POD-GP or POD-NN) with what turns it into a surrogate of c3: the input box it was
/// scaled from, the output transform it was fitted in, the parameter names. The POD model's own
/// files (rom.json and its arrays) sit beside `surrogate.json` in the same folder.
public final class ReducedOrderSurrogate: FieldSurrogate {
    public struct Description: Codable, Equatable, Sendable {
        public var format = "surrogate-rom"
        public var version = 1
        public var kind: String
        public var inputNames: [String]
        public var inputLower: [Double]
        public var inputUpper: [Double]
        public var outputTransform: OutputTransform
        public var windViscosity: Double?
        public var trainSamples: Int
        /// Which inputs are scaled in log (`InputFeatures`); absent = all linear.
        public var inputLogarithmic: [Bool]?
        /// Descriptors computed from the parameters that the model also takes as inputs; absent = none.
        public var descriptorInputs: DescriptorInputs?
        /// The low-fidelity model whose fields the POD model corrects; absent = none.
        public var lowFidelity: LowFidelityInputs?
        /// The design-density warp of the parameters' linear positions (`InputWarping`); absent = none.
        public var inputWarping: InputWarping? = nil
    }

    public enum Model {
        case gaussianProcess(PODGaussianProcess)
        case network(PODNeuralNetwork)
    }

    public static let descriptionFile = "surrogate.json"
    public let description: Description
    public let inputScaler: InputScaler
    public let features: InputFeatures
    public let model: Model
    /// What computes the descriptor inputs for new parameters (`attachDescriptorSource`); nil for a
    /// model without them, or one loaded without a factory (it then refuses to predict).
    public private(set) var descriptorSource: ParameterDescriptorSource?
    /// What computes the low-fidelity fields for new parameters (`attachLowFidelitySource`); nil for a
    /// model without one, or one loaded without a factory (it then refuses to predict).
    public private(set) var lowFidelitySource: LowFidelitySource?

    public init(description: Description, model: Model) throws {
        if case .gaussianProcess(let m) = model, m.scaleProcess != nil, case .identity = description.outputTransform {
            throw StageError("a POD-GP with the scale/shape split needs the log output transform (its shapes are fitted in log)")
        }
        if case .gaussianProcess(let m) = model, m.scaleProcess != nil, description.lowFidelity != nil {
            throw StageError("a POD-GP with the scale/shape split cannot also correct a low-fidelity model (the split's shapes are not the fields the low-fidelity model gives)")
        }
        self.description = description
        self.inputScaler = try InputScaler(lower: description.inputLower, upper: description.inputUpper)
        self.features = try InputFeatures(box: inputScaler,
                                          logarithmic: description.inputLogarithmic ?? Array(repeating: false, count: description.inputNames.count),
                                          warping: description.inputWarping)
        self.model = model
    }

    /// Attaches the source of the model's descriptor inputs; its names must be the recorded ones.
    public func attachDescriptorSource(_ source: ParameterDescriptorSource) throws {
        guard let recorded = description.descriptorInputs else {
            throw StageError("the \(kind) model takes the parameters only; it has no descriptor inputs to compute")
        }
        guard source.names == recorded.names else {
            throw StageError("the \(kind) model was fitted on the descriptors \(recorded.names.joined(separator: ", ")); the source computes \(source.names.joined(separator: ", "))")
        }
        descriptorSource = source
    }

    /// Attaches what computes the model's low-fidelity fields.
    public func attachLowFidelitySource(_ source: LowFidelitySource) throws {
        guard description.lowFidelity != nil else {
            throw StageError("the \(kind) model corrects no low-fidelity model; there is nothing to attach")
        }
        lowFidelitySource = source
    }

    public convenience init(gaussianProcess: PODGaussianProcess, features: InputFeatures, transform: OutputTransform, inputNames: [String],
                     windViscosity: Double?, trainSamples: Int, descriptors: DescriptorInputs? = nil,
                     descriptorSource: ParameterDescriptorSource? = nil, lowFidelity: LowFidelityInputs? = nil,
                     lowFidelitySource: LowFidelitySource? = nil) throws {
        try self.init(description: Description(kind: PODGaussianProcess.kind, inputNames: inputNames, inputLower: features.lower,
                                               inputUpper: features.upper, outputTransform: transform, windViscosity: windViscosity,
                                               trainSamples: trainSamples, inputLogarithmic: features.logarithmic,
                                               descriptorInputs: descriptors, lowFidelity: lowFidelity, inputWarping: features.warping),
                      model: .gaussianProcess(gaussianProcess))
        if let descriptorSource { try attachDescriptorSource(descriptorSource) }
        if let lowFidelitySource { try attachLowFidelitySource(lowFidelitySource) }
    }

    public convenience init(network: PODNeuralNetwork, features: InputFeatures, transform: OutputTransform, inputNames: [String],
                     windViscosity: Double?, trainSamples: Int, descriptors: DescriptorInputs? = nil,
                     descriptorSource: ParameterDescriptorSource? = nil, lowFidelity: LowFidelityInputs? = nil,
                     lowFidelitySource: LowFidelitySource? = nil) throws {
        try self.init(description: Description(kind: PODNeuralNetwork.kind, inputNames: inputNames, inputLower: features.lower,
                                               inputUpper: features.upper, outputTransform: transform, windViscosity: windViscosity,
                                               trainSamples: trainSamples, inputLogarithmic: features.logarithmic,
                                               descriptorInputs: descriptors, lowFidelity: lowFidelity, inputWarping: features.warping),
                      model: .network(network))
        if let descriptorSource { try attachDescriptorSource(descriptorSource) }
        if let lowFidelitySource { try attachLowFidelitySource(lowFidelitySource) }
    }

    public var kind: String { description.kind }
    public var inputNames: [String] { description.inputNames }
    public var inputWidth: Int { description.inputNames.count }
    public var windViscosity: Double? { description.windViscosity }
    public var descriptorInputs: DescriptorInputs? { description.descriptorInputs }
    public var lowFidelity: LowFidelityInputs? { description.lowFidelity }
    public var outputWidth: Int {
        switch model {
        case .gaussianProcess(let m): return m.pointCount
        case .network(let m): return m.pointCount
        }
    }

    /// POD modes and mean, plus the coefficient model's own parameters: hyper-parameters and the
    /// weights α = K⁻¹y per GP (the training inputs are data, not parameters), or the MLP's weights.
    public var parameterCount: Int {
        switch model {
        case .gaussianProcess(let m):
            let podValues = m.pointCount * (m.rank + 1)
            return podValues + (m.processes + (m.scaleProcess.map { [$0] } ?? [])).reduce(0) { $0 + m.inputDimension + 2 + $1.count }
        case .network(let m):
            return m.pointCount * (m.rank + 1) + m.network.layout.parameterCount
        }
    }

    /// The model's input rows for rows × d parameter sets: the scaled parameters, then the scaled
    /// descriptors when the model takes them (computed by the attached source).
    public func scaledInputs(_ parameters: [Double], rows: Int, threads: Int = 1) throws -> [Double] {
        let d = inputWidth
        guard parameters.count == rows * d else {
            throw ArrayFileError(path: "parameters", "\(parameters.count) values do not make \(rows) rows of the model's \(d) inputs")
        }
        if let i = parameters.firstIndex(where: { !$0.isFinite }) {
            throw ArrayFileError(path: "parameters", "parameter set \(i / d): \(inputNames[i % d]) is \(parameters[i]); expected a finite number")
        }
        let scaled = features.scale(rows: parameters)
        guard let recorded = description.descriptorInputs else { return scaled }
        guard let descriptorSource else {
            throw StageError("the \(kind) model was fitted with the descriptors \(recorded.names.joined(separator: ", ")) (\(recorded.source)) as inputs, "
                             + "but nothing computes them here: load it through the pipeline's stages (train-dmd predict, uq-propagate, pollutant-serve)")
        }
        let values = try descriptorSource.values(parameters: parameters, rows: rows, threads: threads)
        return try recorded.appended(to: scaled, descriptors: values, rows: rows)
    }

    /// The low-fidelity fields of rows × d parameter sets in the output transform's units, the part
    /// of the prediction the POD model does not carry; nil for a model without one.
    public func lowFidelityOffset(_ parameters: [Double], rows: Int, threads: Int = 1) throws -> [Double]? {
        guard let recorded = description.lowFidelity else { return nil }
        guard let lowFidelitySource else {
            throw StageError("the \(kind) model corrects the low-fidelity model \(recorded.summary) (\(recorded.source)), "
                             + "but nothing computes it here: load it through the pipeline's stages (train-dmd predict, uq-propagate, pollutant-serve)")
        }
        let fields = try lowFidelitySource.fields(parameters: parameters, rows: rows, threads: threads)
        guard fields.count == rows * outputWidth else {
            throw StageError("the low-fidelity model \(recorded.summary) gave \(fields.count) values for \(rows) rows of \(outputWidth) points")
        }
        return Self.lowFidelityLatent(fields, transform: description.outputTransform)
    }

    /// Low-fidelity fields in the output transform's units, the part a corrected model adds to its POD
    /// model's output (at the fit and at every prediction alike). A coarse mesh's stabilised solution
    /// undershoots below zero (to −1e-4 on the 24 × 16 mesh, beyond the log offset), where the log
    /// transform would clamp to log(1e-12 δ): a spike of ≈ 28 that the correction would have to learn
    /// and extrapolate. c3 ≥ 0 in the continuous problem, so the undershoot is cut at 0 first.
    public static func lowFidelityLatent(_ fields: [Double], transform: OutputTransform) -> [Double] {
        fields.map { transform.apply(max($0, 0)) }
    }

    public func predict(parameters: [Double], rows: Int, threads: Int) throws -> [Double] {
        let x = try scaledInputs(parameters, rows: rows, threads: threads)
        let transform = description.outputTransform
        let offset = try lowFidelityOffset(parameters, rows: rows, threads: threads)
        switch model {
        case .gaussianProcess(let m):
            var fields = try m.predictMean(inputs: x, count: rows, threads: threads)
            if let offset { for i in fields.indices { fields[i] += offset[i] } }
            return fieldValues(fields, logScales: try m.predictScale(inputs: x, count: rows, meanOnly: true)?.mean, pointCount: m.pointCount)
        case .network(let m):
            var fields = try m.predict(inputs: x, count: rows, threads: threads)
            if let offset { for i in fields.indices { fields[i] += offset[i] } }
            return fields.map { transform.invert($0) }
        }
    }

    /// c3 from the POD-GP's mean field in the transform's units: the inverse transform, and with the
    /// scale/shape split (c3 = e^g · s) each row's shape times e^g.
    private func fieldValues(_ fields: [Double], logScales: [Double]?, pointCount p: Int) -> [Double] {
        let transform = description.outputTransform
        guard let g = logScales else { return fields.map { transform.invert($0) } }
        return fields.indices.map { Foundation.exp(min(g[$0 / p], 700)) * transform.invert(fields[$0]) }
    }

    /// The point estimate (as `predict`) and each output point's latent Gaussian N(μ, σ²) with
    /// c3 = e^z − δ: without the split, z is the POD-GP's field under the log transform and δ its
    /// offset. With the split, c3 = e^g (e^y − δ_s) with g (the scale GP) and y (the shape's POD-GP)
    /// independent: z = g + y has mean μ_g + μ_y and variance σ_g² + σ_y², and the offset δ_s e^g is
    /// taken at its median δ_s e^{μ_g} (δ_s is `log_offset` of the largest shape value, so this moves
    /// only the far lower tail). Under the identity transform z is c3 itself (δ = 0).
    /// With a low-fidelity model its transformed fields `shift` μ (they are known, so σ is the POD-GP's).
    private func latent(_ m: PODGaussianProcess, inputs x: [Double], rows: Int, shift: [Double]?, threads: Int) throws -> (estimate: [Double], mu: [Double], sigma: [Double], offset: [Double]) {
        var (mu, s) = try m.predict(inputs: x, count: rows, threads: threads)
        if let shift { for i in mu.indices { mu[i] += shift[i] } }
        let delta: Double
        switch description.outputTransform {
        case .identity: delta = 0
        case .logarithm(let offset): delta = offset
        }
        guard let scale = try m.predictScale(inputs: x, count: rows) else {
            return (fieldValues(mu, logScales: nil, pointCount: m.pointCount), mu, s, [Double](repeating: delta, count: mu.count))
        }
        let p = m.pointCount
        let z = mu.indices.map { mu[$0] + scale.mean[$0 / p] }
        let sigma = s.indices.map { (s[$0] * s[$0] + max(scale.variance[$0 / p], 0)).squareRoot() }
        let offset = mu.indices.map { delta * Foundation.exp(min(scale.mean[$0 / p], 700)) }
        return (fieldValues(mu, logScales: scale.mean, pointCount: p), z, sigma, offset)
    }

    /// POD-GP: the mean and the pointwise standard deviation, mapped back through the transform.
    /// For the log transform, z ~ N(μ, s²) gives c + δ log-normal: its median exp(μ) − δ is
    /// returned as the prediction (the point estimate the table scores), and the standard deviation
    /// of the log-normal, (exp(μ + s²/2)) sqrt(exp(s²) − 1), as the uncertainty (with the scale/shape
    /// split, of z = g + y: `latent`).
    public func predictWithUncertainty(parameters: [Double], rows: Int, threads: Int) throws -> (mean: [Double], standardDeviation: [Double])? {
        guard case .gaussianProcess(let m) = model else { return nil }
        let x = try scaledInputs(parameters, rows: rows, threads: threads)
        let (estimate, mu, s, _) = try latent(m, inputs: x, rows: rows, shift: try lowFidelityOffset(parameters, rows: rows, threads: threads), threads: threads)
        switch description.outputTransform {
        case .identity: return (mu, s)
        case .logarithm:
            return (estimate, zip(mu, s).map { mu, s in exp(min(mu + s * s / 2, 700)) * (expm1(min(s * s, 700))).squareRoot() })
        }
    }

    /// The interval [q_lo, q_hi] of c3 at ±k standard deviations of the latent Gaussian (exact
    /// quantiles under the transform: the map is monotone; with the split, of z = g + y: `latent`).
    public func predictInterval(parameters: [Double], rows: Int, k: Double, threads: Int = 1) throws -> (lower: [Double], upper: [Double])? {
        guard case .gaussianProcess(let m) = model else { return nil }
        let x = try scaledInputs(parameters, rows: rows, threads: threads)
        let (_, mu, s, offset) = try latent(m, inputs: x, rows: rows, shift: try lowFidelityOffset(parameters, rows: rows, threads: threads), threads: threads)
        if case .identity = description.outputTransform { return (zip(mu, s).map { $0 - k * $1 }, zip(mu, s).map { $0 + k * $1 }) }
        return (mu.indices.map { Foundation.exp(min(mu[$0] - k * s[$0], 700)) - offset[$0] },
                mu.indices.map { Foundation.exp(min(mu[$0] + k * s[$0], 700)) - offset[$0] })
    }

    public func save(to folder: URL) throws {
        switch model {
        case .gaussianProcess(let m): try m.save(to: folder)
        case .network(let m): try m.save(to: folder)
        }
        try AtomicFile.writeJSON(description, to: folder.appendingPathComponent(Self.descriptionFile), snakeCaseKeys: true)
    }

    /// Reads the model; `descriptorSources` makes the source of its descriptor inputs, if it has any
    /// (without one such a model loads but refuses to predict, saying why).
    public static func load(from folder: URL, descriptorSources: DescriptorSourceFactory? = nil,
                            lowFidelitySources: LowFidelitySourceFactory? = nil) throws -> ReducedOrderSurrogate {
        let url = folder.appendingPathComponent(descriptionFile)
        let description = try JSONDescription.read(Description.self, from: url, missing: "missing or unreadable: expected a surrogate description")
        guard description.format == "surrogate-rom", description.version == 1 else {
            throw ArrayFileError(path: url.path, "format \(description.format) v\(description.version) is not supported (expected surrogate-rom v1)")
        }
        guard description.inputLower.count == description.inputNames.count, description.inputUpper.count == description.inputNames.count else {
            throw ArrayFileError(path: url.path, "lists \(description.inputNames.count) input names but \(description.inputLower.count)/\(description.inputUpper.count) bounds")
        }
        let model: Model
        switch description.kind {
        case PODGaussianProcess.kind: model = .gaussianProcess(try PODGaussianProcess.load(from: folder))
        case PODNeuralNetwork.kind: model = .network(try PODNeuralNetwork.load(from: folder))
        default: throw ArrayFileError(path: url.path, "unknown model kind \"\(description.kind)\" (expected \(PODGaussianProcess.kind) or \(PODNeuralNetwork.kind))")
        }
        let surrogate: ReducedOrderSurrogate
        do { surrogate = try ReducedOrderSurrogate(description: description, model: model) } catch {
            throw ArrayFileError(path: url.path, "\(error)")
        }
        let d = switch model { case .gaussianProcess(let m): m.inputDimension; case .network(let m): m.inputDimension }
        let descriptorCount = description.descriptorInputs?.width ?? 0
        guard d == description.inputNames.count + descriptorCount else {
            throw ArrayFileError(path: url.path, "names \(description.inputNames.count) inputs and \(descriptorCount) descriptors, the model in \(folder.path) takes \(d)")
        }
        if let recorded = description.descriptorInputs {
            guard recorded.lower.count == recorded.width, recorded.upper.count == recorded.width else {
                throw ArrayFileError(path: url.path, "descriptor_inputs: \(recorded.width) names but \(recorded.lower.count)/\(recorded.upper.count) bounds")
            }
            if let descriptorSources {
                do { try surrogate.attachDescriptorSource(try descriptorSources(recorded)) } catch {
                    throw ArrayFileError(path: url.path, "descriptor_inputs: \(error)")
                }
            }
        }
        if let recorded = description.lowFidelity, let lowFidelitySources {
            do { try surrogate.attachLowFidelitySource(try lowFidelitySources(recorded)) } catch {
                throw ArrayFileError(path: url.path, "low_fidelity: \(error)")
            }
        }
        return surrogate
    }
}
