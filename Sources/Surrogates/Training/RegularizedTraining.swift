import Foundation
import NumericalFoundations

/// The paper's network trained as a practitioner would: the same MLP and Adam, plus
///
/// - an output transform suited to data that span decades (`OutputTransform.logarithm`),
/// - decoupled weight decay (AdamW, Loshchilov & Hutter, ICLR 2019),
/// - a learning-rate schedule: linear warm-up, then cosine decay to a floor (Loshchilov & Hutter,
///   "SGDR", ICLR 2017, eq. 5 without restarts),
/// - early stopping on a validation split carved from the training samples: the parameters of the
///   epoch with the lowest validation MSE are kept (Prechelt, "Early stopping — but when?", 1998).
///
/// The test split is never seen here: the caller passes the fitting and validation rows only.
public struct RegularizedTrainingOptions: Codable, Equatable, Sendable {
    public enum Schedule: String, Codable, Sendable, CaseIterable {
        case constant, cosine
        /// Smith & Topin's one-cycle policy ("Super-convergence", 2019) with cosine annealing: the
        /// rate rises linearly from η/25 to η over the first 30 % of the epochs (the warm-up keys
        /// are ignored), then falls as a cosine to the floor.
        case oneCycle = "one_cycle"
    }

    public var hiddenWidths: [Int]
    public var activation: Activation
    public var precision: NetworkPrecision
    public var networkSeed: UInt64
    public var shuffleSeed: UInt64
    public var batchSize: Int
    public var learningRate: Double
    /// The floor of the cosine schedule, as a fraction of `learningRate`.
    public var minimumLearningRateFraction: Double
    public var schedule: Schedule
    public var warmupEpochs: Int
    /// AdamW's λ (0 = Adam).
    public var weightDecay: Double
    public var epochs: Int
    /// Stop after this many epochs without a new best validation MSE (0 = run all epochs).
    public var patience: Int
    public var threads: Int
    public var outputStandardDeviationFloor: Double
    /// Keep the parameters of the best validation epoch (early stopping) or those of the last epoch
    /// (the paper's recipe, for the learning curve's "paper" row).
    public var restoreBest = true
    /// Schedule-free AdamW (`AdamSettings.scheduleFree`) instead of Adam; nil = Adam (and nothing encoded).
    public var scheduleFree: Bool?

    public init(hiddenWidths: [Int] = [40, 200, 1000], activation: Activation = .softsign, precision: NetworkPrecision = .float32,
                networkSeed: UInt64 = 1, shuffleSeed: UInt64 = 2, batchSize: Int = 32, learningRate: Double = 1e-3,
                minimumLearningRateFraction: Double = 0.01, schedule: Schedule = .cosine, warmupEpochs: Int = 10,
                weightDecay: Double = 1e-4, epochs: Int = 1500, patience: Int = 300, threads: Int = 2,
                outputStandardDeviationFloor: Double = 1e-6) {
        self.hiddenWidths = hiddenWidths; self.activation = activation; self.precision = precision
        self.networkSeed = networkSeed; self.shuffleSeed = shuffleSeed; self.batchSize = batchSize
        self.learningRate = learningRate; self.minimumLearningRateFraction = minimumLearningRateFraction
        self.schedule = schedule; self.warmupEpochs = warmupEpochs; self.weightDecay = weightDecay
        self.epochs = epochs; self.patience = patience; self.threads = threads
        self.outputStandardDeviationFloor = outputStandardDeviationFloor
    }

    /// The learning-rate multiplier of epoch `epoch` (1-based): warm-up from 1/warmup to 1, then
    /// η_min + (1 − η_min)(1 + cos(π t / T))/2 over the remaining T epochs.
    public func learningRateFactor(epoch: Int) -> Double {
        if schedule == .oneCycle {
            let rise = max(Int((0.3 * Double(epochs)).rounded()), 1)
            if epoch <= rise { return 0.04 + 0.96 * Double(epoch) / Double(rise) }
            let span = max(epochs - rise, 1)
            let t = Double(min(epoch - rise, span)) / Double(span)
            let floor = minimumLearningRateFraction
            return floor + (1 - floor) * (1 + cos(Double.pi * t)) / 2
        }
        if warmupEpochs > 0 && epoch <= warmupEpochs { return Double(epoch) / Double(warmupEpochs) }
        guard schedule == .cosine else { return 1 }
        let span = max(epochs - warmupEpochs, 1)
        let t = Double(min(max(epoch - warmupEpochs, 0), span)) / Double(span)
        let floor = minimumLearningRateFraction
        return floor + (1 - floor) * (1 + cos(Double.pi * t)) / 2
    }
}

/// One epoch of a regularised training, for the history file.
public struct RegularizedEpoch: Codable, Equatable, Sendable {
    public var epoch: Int
    public var trainMSE: Double
    public var validationMSE: Double
    public var learningRate: Double
    public var wallSeconds: Double
}

public struct RegularizedTrainingResult {
    public var model: SurrogateModel
    public var history: [RegularizedEpoch]
    /// The epoch whose parameters were kept (lowest validation MSE).
    public var bestEpoch: Int
    public var completedEpochs: Int
    public var wallSeconds: Double

    /// history.csv: epoch, train_mse, validation_mse (scaled, transformed units), learning_rate, wall_seconds.
    public func historyCSV() -> String {
        var text = "epoch,train_mse,validation_mse,learning_rate,wall_seconds\n"
        for row in history {
            text += "\(row.epoch),\(row.trainMSE),\(row.validationMSE),\(row.learningRate),\(row.wallSeconds)\n"
        }
        return text
    }
}

public enum RegularizedTraining {
    /// Trains on the rows `fitRows` of `dataset`, selecting the epoch on `validationRows`.
    /// `progress` gets each epoch's row and the planned epoch count.
    public static func fit(dataset: SurrogateDataset, fitRows: [Int], validationRows: [Int], inputScaler: InputScaler,
                           transform: OutputTransform, options: RegularizedTrainingOptions, inputNames: [String],
                           windViscosity: Double? = nil, hook: TrainingHook? = nil,
                           progress: (RegularizedEpoch, Int) -> Void = { _, _ in }) throws -> RegularizedTrainingResult {
        guard options.epochs >= 1 else { throw NetworkError("epochs must be at least 1, got \(options.epochs)") }
        let context = Context(dataset: dataset, fitRows: fitRows, validationRows: validationRows, inputScaler: inputScaler,
                              transform: transform, options: options, inputNames: inputNames, windViscosity: windViscosity, hook: hook)
        switch options.precision {
        case .float32: return try run(Float.self, context, progress: progress)
        case .float64: return try run(Double.self, context, progress: progress)
        }
    }

    struct Context {
        var dataset: SurrogateDataset
        var fitRows: [Int], validationRows: [Int]
        var inputScaler: InputScaler
        var transform: OutputTransform
        var options: RegularizedTrainingOptions
        var inputNames: [String]
        var windViscosity: Double?
        var hook: TrainingHook?
    }

    /// The trainer of a regularised training, before its first epoch: the fitting rows as its
    /// training set and the validation rows as its "test" set (the trainer's test MSE is then the
    /// validation MSE), AdamW's λ set. The learning-rate factor is the caller's to set per epoch
    /// (`RegularizedTrainingOptions.learningRateFactor`). For trainings driven from outside, as the
    /// acceleration study.
    public struct Setup<S: NetworkScalar> {
        public var trainer: Trainer<S>
        public var outputScaler: OutputScaler
        public var layout: NetworkLayout
    }

    public static func makeTrainer<S: NetworkScalar>(_ type: S.Type, dataset: SurrogateDataset, fitRows: [Int], validationRows: [Int],
                                                     inputScaler: InputScaler, transform: OutputTransform,
                                                     options o: RegularizedTrainingOptions) throws -> Setup<S> {
        guard !fitRows.isEmpty else { throw NetworkError("the fitting set is empty") }
        guard !validationRows.isEmpty else { throw NetworkError("the validation set is empty: early stopping needs one") }
        let data = dataset, p = data.observationWidth
        let transformed = dataset.observations.map { transform.apply($0) }
        let outputScaler = try OutputScaler(fitting: transformed, width: p, rows: fitRows, relativeFloor: o.outputStandardDeviationFloor)
        let layout = try NetworkLayout(widths: [dataset.parameterWidth] + o.hiddenWidths + [p], activation: o.activation)
        func targets(_ rows: [Int]) -> [S] {
            var out = [S](); out.reserveCapacity(rows.count * p)
            for i in rows { for j in 0..<p { out.append(S(outputScaler.standardize(transformed[i * p + j], column: j))) } }
            return out
        }
        let fit = ScaledSamples<S>(inputs: data.scaledInputs(fitRows, scaler: inputScaler, as: S.self), targets: targets(fitRows),
                                   count: fitRows.count)
        let validation = ScaledSamples<S>(inputs: data.scaledInputs(validationRows, scaler: inputScaler, as: S.self),
                                          targets: targets(validationRows), count: validationRows.count)
        let trainer = try Trainer(network: Network<S>(layout: layout, seed: o.networkSeed),
                                  options: TrainerOptions(batchSize: o.batchSize, adam: AdamSettings(learningRate: o.learningRate, scheduleFree: o.scheduleFree),
                                                          shuffleSeed: o.shuffleSeed, threads: o.threads),
                                  train: fit, test: validation, outputVariances: outputScaler.variances)
        trainer.optimizer.weightDecay = o.weightDecay
        return Setup(trainer: trainer, outputScaler: outputScaler, layout: layout)
    }

    static func run<S: NetworkScalar>(_ type: S.Type, _ c: Context, progress: (RegularizedEpoch, Int) -> Void) throws -> RegularizedTrainingResult {
        let o = c.options
        let setup = try makeTrainer(S.self, dataset: c.dataset, fitRows: c.fitRows, validationRows: c.validationRows,
                                    inputScaler: c.inputScaler, transform: c.transform, options: o)
        let trainer = setup.trainer
        trainer.hook = c.hook
        let best = UnsafeMutableBufferPointer<S>.allocate(capacity: trainer.network.parameters.count)
        defer { best.deallocate() }
        _ = best.initialize(fromContentsOf: trainer.network.parameters)
        var bestEpoch = 0, bestLoss = Double.infinity
        var history: [RegularizedEpoch] = []
        let start = monotonicSeconds()
        for epoch in 1...o.epochs {
            trainer.optimizer.learningRateFactor = o.learningRateFactor(epoch: epoch)
            let row = try trainer.trainEpoch()
            let validationMSE = row.testMSE ?? .infinity
            let record = RegularizedEpoch(epoch: epoch, trainMSE: row.trainMSE, validationMSE: validationMSE,
                                          learningRate: o.learningRate * trainer.optimizer.learningRateFactor,
                                          wallSeconds: monotonicSeconds() - start)
            history.append(record)
            progress(record, o.epochs)
            if validationMSE < bestLoss {
                bestLoss = validationMSE; bestEpoch = epoch
                _ = best.update(fromContentsOf: trainer.network.parameters)
            } else if o.patience > 0 && epoch - bestEpoch >= o.patience {
                break
            }
        }
        if o.restoreBest { _ = trainer.network.parameters.update(fromContentsOf: best) } else { bestEpoch = history.count }
        var description = ModelDescription(layout: setup.layout, precision: S.precision, inputNames: c.inputNames,
                                           epochsCompleted: history.count, epochsPlanned: o.epochs,
                                           trainSamples: c.fitRows.count, testSamples: 0, windViscosity: c.windViscosity)
        description.outputTransform = c.transform
        description.recipe = "tuned"
        let storage: SurrogateModel.Storage = S.self == Float.self ? .float32(unsafeBitCast(trainer.network, to: Network<Float>.self))
                                                                    : .float64(unsafeBitCast(trainer.network, to: Network<Double>.self))
        let model = SurrogateModel(description: description, inputScaler: c.inputScaler, outputScaler: setup.outputScaler, storage: storage)
        return RegularizedTrainingResult(model: model, history: history, bestEpoch: bestEpoch, completedEpochs: history.count,
                                         wallSeconds: monotonicSeconds() - start)
    }
}

extension SurrogateModel {
    /// Writes this model's folder (the files of `write(network:…)`).
    @discardableResult
    public func write(to folder: URL) throws -> [URL] {
        switch storage {
        case .float32(let n): return try SurrogateModel.write(network: n, description: description, inputScaler: inputScaler, outputScaler: outputScaler, to: folder)
        case .float64(let n): return try SurrogateModel.write(network: n, description: description, inputScaler: inputScaler, outputScaler: outputScaler, to: folder)
        }
    }

    /// Number of trainable parameters.
    public var parameterCount: Int { layout.parameterCount }
}
