/// `[training]`: Adam, mini-batches and epochs of formulation.md §4.
public struct TrainingSettings: Sendable, Equatable {
    /// What the history's train MSE is: a full pass after the epoch, or the mean of its mini-batch losses (docs/train.md).
    public enum TrainMSE: String, CaseIterable, Sendable { case fullPass = "full_pass", minibatchMean = "minibatch_mean" }

    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Double
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    public var seed: UInt64
    public var checkpointEvery: Int
    public var threads: Int
    public var trainMSE: TrainMSE

    public init(_ r: SectionReader) throws {
        epochs = try r.int("epochs", default: 3000, in: 1...10_000_000)
        batchSize = try r.int("batch_size", default: 32, in: 1...1_000_000)
        learningRate = try r.double("learning_rate", default: 1e-3, in: 0...10)
        beta1 = try r.double("beta1", default: 0.9, in: 0...0.999999)
        beta2 = try r.double("beta2", default: 0.999, in: 0...0.99999999)
        epsilon = try r.double("epsilon", default: 1e-7, in: 1e-30...1)
        seed = UInt64(try r.int("seed", default: 2, in: 0...Int.max))
        checkpointEvery = try r.int("checkpoint_every", default: 100, in: 1...10_000_000)
        threads = try r.int("threads", default: 2, in: 1...256)
        trainMSE = try r.choice("train_mse", default: TrainMSE.fullPass)
    }
}
