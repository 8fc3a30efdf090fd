/// Settings of one training run (`TrainingRun` in TrainingStage, which writes the model folder; the
/// `[network]` and `[training]` sections, mapped by the stages: this library reads no configuration).
public struct TrainingRunSettings: Sendable {
    public var hiddenWidths: [Int]
    public var activation: Activation
    public var precision: NetworkPrecision
    public var networkSeed: UInt64
    public var trainer: TrainerOptions
    public var epochs: Int
    public var checkpointEvery: Int
    /// Relative floor of the output standard deviations (`OutputScaler`).
    public var outputStandardDeviationFloor: Double
    /// The parameter box: the input scaling maps it to [−1, 1]^d.
    public var inputRanges: [ClosedRange<Double>]
    public var inputNames: [String]
    /// Recorded in model.json for `predict`'s warning about parameters without a wind solution.
    public var windViscosity: Double?
    /// Stop (with a checkpoint and the model as it is) after this epoch, to continue with --resume.
    public var stopAfterEpoch: Int?
    /// A divergence (non-finite losses or parameters, e.g. after a DMD jump) ends the run with the
    /// model of the last completed epoch, recorded in model.json and the report, instead of an error
    /// that loses the run (`Trainer.train(untilEpoch:stopOnDivergence:)`). `train-dmd train` sets it.
    public var stopOnDivergence = false

    public init(hiddenWidths: [Int], activation: Activation = .softsign, precision: NetworkPrecision = .float32, networkSeed: UInt64 = 1,
                trainer: TrainerOptions = TrainerOptions(), epochs: Int = 3000, checkpointEvery: Int = 100,
                outputStandardDeviationFloor: Double = 1e-6, inputRanges: [ClosedRange<Double>], inputNames: [String],
                windViscosity: Double? = nil, stopAfterEpoch: Int? = nil) {
        self.hiddenWidths = hiddenWidths; self.activation = activation; self.precision = precision; self.networkSeed = networkSeed
        self.trainer = trainer; self.epochs = epochs; self.checkpointEvery = checkpointEvery
        self.outputStandardDeviationFloor = outputStandardDeviationFloor; self.inputRanges = inputRanges
        self.inputNames = inputNames; self.windViscosity = windViscosity; self.stopAfterEpoch = stopAfterEpoch
    }
}
