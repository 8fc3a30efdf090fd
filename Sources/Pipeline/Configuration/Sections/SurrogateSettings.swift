import PDE

/// `[surrogate]`: the surrogates beyond the paper's network, fitted by `train-dmd fit`.
///
/// The paper's route (`[network]`, `[training]`, `[dmd]`: the models "plain" and "dmd") is left as
/// it is. This section configures the models that compete with it — the paper's network trained
/// with a practitioner's recipe ("tuned"), POD with a Gaussian process per coefficient ("pod_gp"),
/// POD with a small network ("pod_nn") — and which of them is the project's best surrogate.
public struct SurrogateSettings: Sendable, Equatable {
    public enum Model: String, CaseIterable, Sendable { case tuned, podGP = "pod_gp", podNN = "pod_nn", ensemble }
    public enum Transform: String, CaseIterable, Sendable { case identity, log }
    public enum Schedule: String, CaseIterable, Sendable { case constant, cosine, oneCycle = "one_cycle" }
    public enum Kernel: String, CaseIterable, Sendable { case matern52, squaredExponential = "squared_exponential" }
    public enum Optimizer: String, CaseIterable, Sendable { case adam, levenbergMarquardt = "levenberg_marquardt" }
    /// A POD model's inputs: the six parameters, or also the wind's Blasius descriptors
    /// (λ, f_w, f''(0), β: `WindDescriptors`) computed from them.
    public enum InputFeatureSet: String, CaseIterable, Sendable { case parameters, parametersWind = "parameters+wind" }
    /// What POD-GP's POD reduces: the (transformed) fields, or their shapes s = c3/‖c3‖ with the
    /// scale log‖c3‖ regressed by a GP of its own (c3 = e^g · s).
    public enum GPOutput: String, CaseIterable, Sendable { case field, scaleShape = "scale_shape" }
    /// POD-GP's constant prior mean per coefficient: the sample mean, or ordinary kriging's
    /// generalised-least-squares estimate (`GaussianProcessPriorMean`).
    public enum PriorMean: String, CaseIterable, Sendable { case sample, gls }
    /// `input_warping`: the POD models' inputs as scaled, stretched by the design's own density, or
    /// stretched where the fields vary fast (the warp that maximises the GP likelihood of their leading
    /// POD coefficients).
    public enum InputWarpingChoice: String, CaseIterable, Sendable { case none, designDensity = "design_density", likelihood }

    /// The surrogate that the "best" route serves (uq, the report's headline): one named, or
    /// `by_validation`, the fitted model with the smallest validation median (`BestSurrogate`).
    public var best: BestChoice

    /// `[surrogate] best`: a model, or the one chosen by validation once models are fitted.
    public enum BestChoice: Sendable, Equatable {
        case model(Model)
        case byValidation
        public static let byValidationName = "by_validation"
        public var rawValue: String {
            switch self {
            case .model(let m): return m.rawValue
            case .byValidation: return Self.byValidationName
            }
        }
    }
    /// The models `train-dmd fit` trains, in order.
    public var models: [Model]
    /// Share of the training samples held out for validation (early stopping, hyper-parameters).
    public var validationFraction: Double
    public var validationSeed: UInt64
    public var outputTransform: Transform
    /// δ of log(c3 + δ) as a fraction of the largest training c3.
    public var logOffset: Double
    /// Parameters that the POD models see in log (positive ranges spanning decades).
    public var logInputs: [String]
    /// `input_warping`: each parameter's linear position in the box through Kumaraswamy's CDF fitted
    /// to the fitting rows (`InputWarping`), before the linear or log map: to their density
    /// (`design_density`: a design dense where the map is sharp gives the kernels short length scales
    /// there), or to the GP likelihood of their fields' leading POD coefficients (`likelihood`: short
    /// length scales where the map is sharp, whatever the design).
    public var inputWarping: InputWarpingChoice

    // The tuned network.
    public var tunedHidden: [Int]
    public var tunedEpochs: Int
    public var tunedBatchSize: Int
    public var tunedLearningRate: Double
    public var tunedMinimumLearningRateFraction: Double
    public var tunedWarmupEpochs: Int
    public var tunedWeightDecay: Double
    public var tunedPatience: Int
    public var tunedSchedule: Schedule
    /// A method of the acceleration study (`train-dmd study --help` lists them) applied to the tuned
    /// fit: its learning rate, batch, schedule and accelerator hook. "adam" = the recipe unchanged.
    public var tunedMethod: String

    // POD.
    /// Modes are kept until the discarded energy share Σ_{k>r} σ_k² / Σ σ_k² falls below this.
    public var podEnergyTolerance: Double
    public var podMaxRank: Int

    // POD-GP.
    public var gpKernel: Kernel
    public var gpRestarts: Int
    public var gpSeed: UInt64
    /// The leading POD coefficients whose GPs are also conditioned on the projected sensitivities
    /// fem/dc3_dtheta.npy (gradient-enhanced, hyper-parameters from the plain fit); 0 = none.
    public var gpDerivativeModes: Int
    /// Samples whose likelihood the GP hyper-parameters maximise (a seeded subset); 0: all of them.
    public var gpHyperparameterSamples: Int
    /// `gp_prior_mean`: what each coefficient's GP reverts to away from its data.
    public var gpPriorMean: PriorMean
    /// POD-GP's inputs (the parameters, or also the wind's descriptors).
    public var gpInputFeatures: InputFeatureSet
    /// POD-GP's outputs: the fields, or the scale/shape split.
    public var gpOutput: GPOutput
    /// [nx, ny] of the low-fidelity model POD-GP corrects (the same problem on a coarser mesh,
    /// `CoarseFEMSource`); empty: none (POD-GP models the fields themselves).
    public var gpLowFidelityMesh: [Int]

    // POD-NN.
    public var podnnHidden: [Int]
    public var podnnEpochs: Int
    public var podnnBatchSize: Int
    public var podnnLearningRate: Double
    public var podnnPatience: Int
    /// Adam (the epochs, batch, learning rate and patience above) or full-batch Levenberg–Marquardt
    /// (the podnn_lm_* keys): docs/dmd-training.md measures LM reaching Adam's validation error sooner.
    public var podnnOptimizer: Optimizer
    public var podnnLMIterations: Int
    public var podnnLMCGIterations: Int
    /// Accepted LM steps without a better validation MSE before stopping (0: never stop early).
    public var podnnLMPatience: Int
    /// w of POD-NN's derivative-informed loss: the network also matches the projected sensitivities
    /// fem/dc3_dtheta.npy (docs/surrogates.md); 0 = values only.
    public var podnnDerivativeWeight: Double
    /// POD-NN's inputs (the parameters, or also the wind's descriptors).
    public var podnnInputFeatures: InputFeatureSet
    /// [nx, ny] of the low-fidelity model POD-NN corrects, as `gpLowFidelityMesh`; empty: none.
    public var podnnLowFidelityMesh: [Int]

    // The ensemble: a weighted average of other models (weights chosen on validation).
    public var ensembleMembers: [Model]

    public init(_ r: SectionReader) throws {
        let bestName = try r.string("best", default: Model.tuned.rawValue,
                                    allowed: Model.allCases.map(\.rawValue) + [BestChoice.byValidationName])
        best = Model(rawValue: bestName).map(BestChoice.model) ?? .byValidation
        let names = try r.strings("models", default: Model.allCases.map(\.rawValue), allowed: Model.allCases.map(\.rawValue))
        models = names.compactMap(Model.init(rawValue:))
        if Set(models).count != models.count { throw r.error("models", "lists a model twice") }
        validationFraction = try r.double("validation_fraction", default: 0.15, in: 0.01...0.9)
        validationSeed = UInt64(try r.int("validation_seed", default: 5, in: 0...Int.max))
        outputTransform = try r.choice("output_transform", default: Transform.log)
        logOffset = try r.double("log_offset", default: 1e-4, in: 1e-12...1)
        logInputs = try r.strings("log_inputs", default: [], allowed: PollutantParameters.names)
        if Set(logInputs).count != logInputs.count { throw r.error("log_inputs", "lists a parameter twice") }
        inputWarping = try r.choice("input_warping", default: InputWarpingChoice.none)

        tunedHidden = try r.ints("tuned_hidden", default: [40, 200, 1000], each: 1...1_000_000)
        tunedEpochs = try r.int("tuned_epochs", default: 1500, in: 1...10_000_000)
        tunedBatchSize = try r.int("tuned_batch_size", default: 32, in: 1...1_000_000)
        tunedLearningRate = try r.double("tuned_learning_rate", default: 1e-3, in: 1e-8...1)
        tunedMinimumLearningRateFraction = try r.double("tuned_min_lr_fraction", default: 0.01, in: 0...1)
        tunedWarmupEpochs = try r.int("tuned_warmup_epochs", default: 10, in: 0...1_000_000)
        tunedWeightDecay = try r.double("tuned_weight_decay", default: 1e-4, in: 0...1)
        tunedPatience = try r.int("tuned_patience", default: 300, in: 0...10_000_000)
        tunedSchedule = try r.choice("tuned_schedule", default: Schedule.cosine)
        tunedMethod = try r.string("tuned_method", default: "adam")

        podEnergyTolerance = try r.double("pod_energy_tolerance", default: 1e-6, in: 1e-16...0.5)
        podMaxRank = try r.int("pod_max_rank", default: 60, in: 1...100_000)

        gpKernel = try r.choice("gp_kernel", default: Kernel.matern52)
        gpRestarts = try r.int("gp_restarts", default: 3, in: 1...100)
        gpSeed = UInt64(try r.int("gp_seed", default: 7, in: 0...Int.max))
        gpDerivativeModes = try r.int("gp_derivative_modes", default: 0, in: 0...100_000)
        gpHyperparameterSamples = try r.int("gp_hyperparameter_samples", default: 0, in: 0...Int.max)
        gpPriorMean = try r.choice("gp_prior_mean", default: PriorMean.sample)
        gpInputFeatures = try r.choice("gp_input_features", default: InputFeatureSet.parameters)
        // The sensitivities are ∂c3/∂θ; the descriptors' own derivatives in θ are not computed.
        if gpInputFeatures != .parameters && gpDerivativeModes > 0 {
            throw r.error("gp_input_features", "the gradient-enhanced GP (gp_derivative_modes > 0) takes the parameters only: set gp_derivative_modes = 0 or gp_input_features = \"parameters\"")
        }
        gpOutput = try r.choice("gp_output", default: GPOutput.field)
        if gpOutput == .scaleShape && outputTransform != .log {
            throw r.error("gp_output", "the scale/shape split fits the shapes in log: it needs output_transform = \"log\"")
        }
        if gpOutput == .scaleShape && gpDerivativeModes > 0 {
            throw r.error("gp_output", "the gradient-enhanced GP (gp_derivative_modes > 0) sees the fields' gradients, not the shapes': set gp_derivative_modes = 0 or gp_output = \"field\"")
        }
        gpLowFidelityMesh = try Self.lowFidelityMesh(r, key: "gp_low_fidelity_mesh")
        if !gpLowFidelityMesh.isEmpty {
            if gpOutput == .scaleShape {
                throw r.error("gp_low_fidelity_mesh", "the low-fidelity correction models the fields, not the scale/shape split: set gp_output = \"field\" or gp_low_fidelity_mesh = []")
            }
        }

        podnnHidden = try r.ints("podnn_hidden", default: [64, 64], each: 1...1_000_000)
        podnnEpochs = try r.int("podnn_epochs", default: 3000, in: 1...10_000_000)
        podnnBatchSize = try r.int("podnn_batch_size", default: 32, in: 1...1_000_000)
        podnnLearningRate = try r.double("podnn_learning_rate", default: 1e-3, in: 1e-8...1)
        podnnPatience = try r.int("podnn_patience", default: 500, in: 0...10_000_000)
        podnnOptimizer = try r.choice("podnn_optimizer", default: Optimizer.adam)
        podnnLMIterations = try r.int("podnn_lm_iterations", default: 200, in: 1...1_000_000)
        podnnLMCGIterations = try r.int("podnn_lm_cg_iterations", default: 20, in: 1...100_000)
        podnnLMPatience = try r.int("podnn_lm_patience", default: 10, in: 0...1_000_000)
        podnnDerivativeWeight = try r.double("podnn_derivative_weight", default: 0, in: 0...1e6)
        podnnInputFeatures = try r.choice("podnn_input_features", default: InputFeatureSet.parameters)
        if podnnInputFeatures != .parameters && podnnDerivativeWeight > 0 {
            throw r.error("podnn_input_features", "the derivative-informed loss (podnn_derivative_weight > 0) takes the parameters only: set podnn_derivative_weight = 0 or podnn_input_features = \"parameters\"")
        }
        if podnnDerivativeWeight > 0 && podnnOptimizer != .adam {
            throw r.error("podnn_derivative_weight", "the derivative-informed loss is trained with podnn_optimizer = \"adam\" only")
        }
        podnnLowFidelityMesh = try Self.lowFidelityMesh(r, key: "podnn_low_fidelity_mesh")
        ensembleMembers = try r.strings("ensemble_members", default: ["tuned", "pod_gp"],
                                        allowed: Model.allCases.filter { $0 != .ensemble }.map(\.rawValue)).compactMap(Model.init(rawValue:))
        if ensembleMembers.isEmpty || Set(ensembleMembers).count != ensembleMembers.count {
            throw r.error("ensemble_members", "expected one or more distinct models among tuned, pod_gp, pod_nn")
        }
        if let e = models.firstIndex(of: .ensemble), let late = ensembleMembers.first(where: { m in models.firstIndex(of: m).map { $0 > e } ?? false }) {
            throw r.error("models", "the ensemble must come after its member \(late.rawValue)")
        }
    }

    /// The inputs of `model`: its `*_input_features` key for the POD models, the parameters for the others.
    /// The coarse mesh [nx, ny] whose FEM solve `model` corrects (multi-fidelity); empty: none.
    public func lowFidelityMesh(of model: Model) -> [Int] {
        switch model {
        case .podGP: return gpLowFidelityMesh
        case .podNN: return podnnLowFidelityMesh
        case .tuned, .ensemble: return []
        }
    }

    /// A low-fidelity mesh key: [nx, ny], each ≥ 2, or [] for none.
    private static func lowFidelityMesh(_ r: SectionReader, key: String) throws -> [Int] {
        let mesh = try r.ints(key, default: [], each: 2...100_000)
        guard mesh.isEmpty || mesh.count == 2 else {
            throw r.error(key, "expected [nx, ny] (two integers ≥ 2) or [] for none, found \(mesh.count) values")
        }
        return mesh
    }

    public func inputFeatures(of model: Model) -> InputFeatureSet {
        switch model {
        case .podGP: return gpInputFeatures
        case .podNN: return podnnInputFeatures
        case .tuned, .ensemble: return .parameters
        }
    }
}
