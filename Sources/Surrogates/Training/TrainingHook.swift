import Foundation

/// A mean squared error in the network's scaled units (standardised outputs: the unit of the
/// paper's figures) and in physical units (c3² : each output's squared error times its variance).
public struct LossValue: Codable, Equatable, Sendable {
    public var scaled: Double
    public var physical: Double
    public init(scaled: Double, physical: Double) { self.scaled = scaled; self.physical = physical }
}

/// What a `TrainingHook` may see and do while the trainer is paused in a callback. The trainer
/// itself conforms; the object is only valid during the callback.
///
/// Parameter access is zero-copy: `readParameters`/`modifyParameters` hand out the layer's own slice
/// of the network's single parameter buffer (weights W_ℓ row-major, outputs × inputs, then bias b_ℓ),
/// in the network's precision. `copyParameters`/`assignParameters` convert to and from float64 in
/// one pass (the snapshot precision of formulation.md §5) without any other copy.
public protocol TrainerAccess: AnyObject {
    var layout: NetworkLayout { get }
    var precision: NetworkPrecision { get }
    /// Epochs finished, counting the one that just ended when called from `afterEpoch`.
    var completedEpochs: Int { get }
    /// Optimizer steps taken since training began (across resumes).
    var optimizerSteps: Int { get }

    /// Read-only view of layer `layer`'s parameters. Do not write through it (use `modifyParameters`).
    func readParameters<R>(ofLayer layer: Int, _ body: (ParameterBuffer) throws -> R) rethrows -> R
    /// Read-write view of layer `layer`'s parameters; marks the cached losses stale.
    func modifyParameters<R>(ofLayer layer: Int, _ body: (ParameterBuffer) throws -> R) rethrows -> R
    /// Copies layer `layer`'s parameters into `destination` (count = `layout.parameterCount(ofLayer:)`), as float64.
    func copyParameters(ofLayer layer: Int, into destination: UnsafeMutableBufferPointer<Double>)
    /// Replaces layer `layer`'s parameters with `source` (rounded to the network's precision).
    func assignParameters(ofLayer layer: Int, from source: UnsafeBufferPointer<Double>)

    /// MSE of the current parameters on the whole training set (forward passes only; cached until
    /// the parameters change, so asking twice costs nothing).
    func trainingLoss() -> LossValue
    /// MSE of the current parameters on the whole test set; nil when there are no test samples.
    func testLoss() -> LossValue?

    /// Zeroes Adam's moments of layer `layer` and restarts its bias correction (step count 0).
    /// Not calling it keeps the moments (formulation.md §5 / config `dmd.adam_moments`).
    func resetOptimizerMoments(ofLayer layer: Int)
}

/// A plug-in called by the trainer: after every epoch, and optionally after every optimizer step.
/// This is where the DMD acceleration (Algorithm 1 of the paper) attaches: it snapshots each
/// layer's parameters, and every m snapshots replaces them by the DMD extrapolation.
///
/// Order within an epoch: all optimizer steps (each followed by `afterStep` when
/// `wantsStepCallbacks`), then `afterEpoch`, then the trainer records the epoch's train and test
/// MSE of the parameters as they are *after* the hook (reusing the hook's loss queries if the
/// parameters did not change since), and the history row with the hook's columns.
public protocol TrainingHook: AnyObject {
    /// Extra `history.csv` columns, in order, after the trainer's own. `afterEpoch` returns values
    /// for them; a column it leaves out is written empty for that epoch.
    var historyColumns: [String] { get }
    /// Whether `afterStep` should be called after every optimizer step (snapshots per step).
    var wantsStepCallbacks: Bool { get }
    /// Anything that must match for a checkpoint to be resumed with this hook (its settings); a
    /// different value makes `--resume` fail with a clear error.
    var checkpointFingerprint: String { get }

    /// Called once before the first epoch of this process (fresh start or resume).
    func trainingWillStart(_ trainer: TrainerAccess) throws
    func afterStep(_ trainer: TrainerAccess) throws
    /// Returns the values of `historyColumns` for this epoch.
    func afterEpoch(_ trainer: TrainerAccess) throws -> [String: Double]
    /// The hook's state (e.g. the snapshots collected so far), stored in the trainer's checkpoint.
    func checkpointState() throws -> Data
    /// Restores what `checkpointState` returned, before training resumes.
    func restoreCheckpointState(_ data: Data) throws
}

extension TrainingHook {
    public var historyColumns: [String] { [] }
    public var wantsStepCallbacks: Bool { false }
    public var checkpointFingerprint: String { String(describing: type(of: self)) }
    public func trainingWillStart(_ trainer: TrainerAccess) throws {}
    public func afterStep(_ trainer: TrainerAccess) throws {}
    public func afterEpoch(_ trainer: TrainerAccess) throws -> [String: Double] { [:] }
    public func checkpointState() throws -> Data { Data() }
    public func restoreCheckpointState(_ data: Data) throws {}
}
