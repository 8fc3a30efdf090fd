import Foundation
import ArgumentParser

/// The command line of `train-dmd train`: the stage options, the DMD switch, resuming and the
/// overrides of [training] that a user gives most often.
public struct TrainOptions: ParsableArguments {
    public static let discussion = """
        Reads DATA/samples/params.npy (N x 6), DATA/samples/split.npy (N: 0 train, 1 test), DATA/fem/c3.npy (N x P) and DATA/fem/status.npy (N); only samples with status 0 are used.

        Writes DATA/models/NAME/: layer_<l>_weights.npy and layer_<l>_bias.npy per layer, the scalers (input_lower/upper.npy, output_mean/std.npy), model.json, history.csv (one row per epoch), predictions_test.npy (test samples x P, physical units) with test_indices.npy, checkpoint.bin (every training.checkpoint_every epochs) and manifest.json. See docs/train.md.

        With DMD (the default; Algorithm 1 of the paper, settings in [dmd]) also jumps.csv (one line per DMD jump) and eigenvalues/jump_<J>_layer_<k>.npy (the eigenvalues of jump J, 1-based, of layer k, 0-based: r x 2 float64, Re and Im), and history.csv gains the DMD columns (jump, train/test_mse_before/after, rank_L<k>, max_abs_eig_L<k>, timings). See docs/dmd-training.md.

        If the training diverges (a non-finite MSE, or a DMD jump whose parameters overflow), the run stops there and still writes everything: the history up to the last good epoch, the model of that epoch, model.json and manifest.json with the cause ("status": "diverged"); the exit status is then 3.
        """

    @OptionGroup public var stage: StageOptions

    @Flag(name: .customLong("no-dmd"), help: "Plain training, without the DMD acceleration (model name \"plain\").")
    public var noDMD = false

    @Flag(help: "Continue from DATA/models/NAME/checkpoint.bin; the result equals an uninterrupted run.")
    public var resume = false

    @Flag(help: "Continue from DATA/models/NAME/checkpoint.bin when it was made by the same setup, else start afresh (what pipeline.sh uses).")
    public var resumeIfCompatible = false

    @Option(help: "Model folder under DATA/models (default: \"plain\" with --no-dmd, \"dmd\" otherwise).")
    public var name: String?

    @Option(parsing: .unconditional, help: "Number of epochs (overrides training.epochs).")
    public var epochs: Int?

    @Option(parsing: .unconditional, help: "Cores for OpenBLAS and the element-wise loops (overrides training.threads).")
    public var threads: Int?

    @Option(parsing: .unconditional, help: "Stop after this epoch, with a checkpoint, to continue later with --resume.")
    public var stopAfter: Int?

    public init() {}

    public func validate() throws {
        if let name, name.isEmpty || name == "." || name == ".." || !name.allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) }) {
            throw ValidationError("--name must be a plain folder name (letters, digits, '.', '_', '-'), got \"\(name)\"")
        }
        if let stopAfter, stopAfter < 1 { throw ValidationError("--stop-after must be at least 1") }
        try validateThreads(threads)
    }
}

extension TrainStage {
    /// `train-dmd train`: the flags become overrides that name the flag, and the request.
    public static func run(_ options: TrainOptions) throws {
        var extra: [(origin: String, assignment: String)] = []
        if let epochs = options.epochs { extra.append(("--epochs \(epochs)", "training.epochs=\(epochs)")) }
        if let threads = options.threads { extra.append(("--threads \(threads)", "training.threads=\(threads)")) }
        var request = Request()
        request.name = options.name
        request.noDMD = options.noDMD
        request.resume = options.resume ? .always : (options.resumeIfCompatible ? .ifCompatible : .never)
        request.stopAfter = options.stopAfter
        try run(options.stage, flagOverrides: extra, request: request)
    }
}
