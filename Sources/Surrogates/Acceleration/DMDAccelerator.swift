import NumericalFoundations
import Dispatch
import Foundation

/// Algorithm 1 of the paper (formulation.md §5, F9–F13) as a `TrainingHook`.
///
/// Per selected layer ℓ a `SnapshotBuffer` of n_ℓ × m float64 takes the layer's parameters
/// (weights then bias) after every epoch — or after every optimizer step (`snapshotTiming`). When m
/// snapshots are in, every selected layer is decomposed (F9–F12, layers concurrently on all cores,
/// each decomposition in place in its buffer), its parameters are replaced by w_{m+s} = Re(Φ Λ^s b)
/// (F13), and the buffers are cleared. Safeguards beyond the paper, each optional: (a) |λ| > 1
/// clamped, (b) relaxation ω (both inside the DMD library), (c) the guarded jump, (d) annealing of s.
///
/// Costs per epoch without a jump: one float64 copy of each selected layer (split over the cores).
/// A jump: one O(n m²) decomposition per layer, one O(n m) extrapolation per candidate s, one copy
/// back into the network's precision; the forward passes over the data sets that `recordJumpLosses`
/// or the guard need (the MSE after the jump is the trainer's own end-of-epoch evaluation, which it
/// reuses from the cache). Memory: n × (m + 1) float64 per layer (+ n for the guard's backup).
///
/// The hook belongs to one trainer and is used from the trainer's thread.
public final class DMDAccelerator: TrainingHook {
    public let settings: DMDTrainingSettings
    public let layout: NetworkLayout
    /// 0-based indices of the layers DMD extrapolates, ascending.
    public let selectedLayers: [Int]
    /// Where `jump_<J>_layer_<k>.npy` go (r × 2 float64: Re λ, Im λ); nil = not written.
    public let eigenvalueDirectory: URL?
    /// Every jump so far (restored from checkpoints too).
    public private(set) var jumps: [DMDJump] = []

    let options: DMDOptions
    /// Threads of the float64 ⇄ network-precision copies (snapshots, assignment).
    let copyThreads: Int
    let log: (String) -> Void
    /// One per DMD: a block per selected layer, or one block of them all (`settings.scope`).
    private let blocks: [ParameterBlock]
    private var epochAccumulator = EpochAccumulator()
    private var restoredFromCheckpoint = false

    /// - Parameters:
    ///   - layout: the network the hook will be attached to (its buffers are allocated here).
    ///   - eigenvalueDirectory: folder for the eigenvalues of every jump; its old `jump_*` files are
    ///     removed when a fresh (not resumed) training starts.
    ///   - copyThreads: threads of the parameter copies (the trainer's thread count).
    ///   - log: one-line remarks (e.g. a layer whose decomposition failed and kept its parameters).
    public init(settings: DMDTrainingSettings, layout: NetworkLayout, eigenvalueDirectory: URL? = nil, copyThreads: Int = 2,
                log: @escaping (String) -> Void = { _ in }) throws {
        try settings.validate(layerCount: layout.layerCount)
        self.settings = settings
        self.layout = layout
        self.options = try settings.dmdOptions()
        self.selectedLayers = settings.selectedLayers(layerCount: layout.layerCount)
        self.eigenvalueDirectory = eigenvalueDirectory
        self.copyThreads = max(1, copyThreads)
        self.log = log
        // A DMD of the updates adds its prediction to w_m, which it keeps exactly (as the guard does).
        let withBackup = settings.guarded || settings.snapshotKind == .updates
        let selected = selectedLayers
        do {
            switch settings.scope {
            case .layer:
                blocks = try selected.map { layer in
                    try ParameterBlock(layers: [layer], layout: layout, label: "L\(layer)", capacity: settings.snapshotCount, withBackup: withBackup)
                }
            case .network:
                blocks = [try ParameterBlock(layers: selected, layout: layout, label: Self.networkBlockLabel, capacity: settings.snapshotCount,
                                             withBackup: withBackup)]
            }
        } catch {
            throw DMDTrainingError("cannot allocate the DMD snapshot buffers (m = \(settings.snapshotCount)): \(error)")
        }
    }

    // MARK: TrainingHook

    public var historyColumns: [String] {
        var columns = ["jump", "s_used"]
        if settings.recordJumpLosses || settings.guarded { columns += ["train_mse_before", "train_mse_after"] }
        if settings.recordJumpLosses { columns += ["test_mse_before", "test_mse_after"] }
        if settings.guarded { columns += ["guard_factor", "jump_accepted"] }
        if settings.snapshotTiming == .step { columns.append("jumps_in_epoch") }
        columns += blocks.map { "rank_\($0.label)" } + blocks.map { "max_abs_eig_\($0.label)" }
        if settings.clampEigenvalues { columns.append("clamped_eigenvalues") }
        columns += ["dmd_failures", "snapshots_held", "snapshot_seconds", "dmd_seconds", "assign_seconds", "jump_loss_seconds"]
        return columns
    }

    public var wantsStepCallbacks: Bool { settings.snapshotTiming == .step }

    public var checkpointFingerprint: String { settings.fingerprint }

    public func trainingWillStart(_ trainer: TrainerAccess) throws {
        guard trainer.layout == layout else {
            throw DMDTrainingError("the DMD hook was built for the network \(layout), the trainer has \(trainer.layout)")
        }
        if !restoredFromCheckpoint && trainer.completedEpochs == 0 { try removeOldEigenvalueFiles() }
        epochAccumulator = EpochAccumulator()
    }

    public func afterStep(_ trainer: TrainerAccess) throws {
        guard settings.snapshotTiming == .step else { return }
        try snapshotAndMaybeJump(trainer)
    }

    public func afterEpoch(_ trainer: TrainerAccess) throws -> [String: Double] {
        if settings.snapshotTiming == .epoch { try snapshotAndMaybeJump(trainer) }
        defer { epochAccumulator = EpochAccumulator() }
        return historyValues(epochAccumulator)
    }

    // MARK: Algorithm 1

    private func snapshotAndMaybeJump(_ trainer: TrainerAccess) throws {
        let start = monotonicSeconds()
        for block in blocks {
            do { try block.appendSnapshot(from: trainer, threads: copyThreads) } catch let DMDError.nonFiniteSnapshot(_, entry, value) {
                // The optimizer (or an earlier jump) has made the parameters non-finite: training diverged.
                let (layer, index) = block.locate(entry)
                throw DMDDivergenceError("training diverged by epoch \(trainer.completedEpochs): layer \(layer)'s parameter \(index) is \(value) "
                                         + "when the DMD snapshot is taken (try a smaller training.learning_rate, or the DMD safeguards)")
            }
        }
        epochAccumulator.snapshotSeconds += monotonicSeconds() - start
        if blocks.first?.buffer.isFull == true {
            let jump = try performJump(trainer)
            epochAccumulator.jumps.append(jump)
        }
    }

    /// One jump of every selected layer; the buffers are cleared afterwards whatever happens.
    private func performJump(_ trainer: TrainerAccess) throws -> DMDJump {
        defer { for block in blocks { block.buffer.clear() } }
        let number = jumps.count + 1
        let epoch = settings.snapshotTiming == .epoch ? trainer.completedEpochs : trainer.completedEpochs + 1
        let progress = Double(trainer.completedEpochs) / Double(max(settings.annealingEpochs, 1))
        let plannedSteps = settings.stepCount(progress: progress)
        var jump = DMDJump(number: number, epoch: epoch, optimizerStep: trainer.optimizerSteps, plannedSteps: plannedSteps,
                           usedSteps: plannedSteps, guardFactor: nil, candidateTrainMSE: [], accepted: true,
                           trainMSEBefore: nil, trainMSEAfter: nil, testMSEBefore: nil, testMSEAfter: nil, layers: [])

        var t = monotonicSeconds()
        prepareJump(trainer, jump: &jump, clock: &t)
        // s = 0 (as configured, or annealed down to 0) writes nothing: (F13) at s = 0 would be the
        // rank-r fit Re(Φ b) of w_m, not w_m itself. The DMD is still made and its eigenvalues recorded.
        let writes = plannedSteps > 0
        let models = try decomposeLayers(plannedSteps: plannedSteps, extrapolate: !settings.guarded && writes, jump: &jump)
        t = lap(t, &epochAccumulator.dmdSeconds)

        if !writes {
            jump.usedSteps = 0
        } else if settings.guarded {
            try guardedAssignment(trainer, models: models, plannedSteps: plannedSteps, jump: &jump, clock: &t)
        } else {
            try assignExtrapolations(trainer, models: models, jump: jump)
            t = lap(t, &epochAccumulator.assignSeconds)
        }
        if jump.accepted && writes && settings.moments == .reset {
            for block in blocks { for layer in block.layers { trainer.resetOptimizerMoments(ofLayer: layer) } }
            t = lap(t, &epochAccumulator.assignSeconds)
        }
        if settings.recordJumpLosses || settings.guarded {
            // The parameters after the jump; the trainer reuses these values for its epoch row.
            jump.trainMSEAfter = trainer.trainingLoss().scaled
            if settings.recordJumpLosses { jump.testMSEAfter = trainer.testLoss()?.scaled }
            _ = lap(t, &epochAccumulator.jumpLossSeconds)
        }
        jumps.append(jump)
        if let after = jump.trainMSEAfter, !after.isFinite {
            throw DMDDivergenceError("DMD jump \(number) (epoch \(epoch), s = \(jump.usedSteps)) made the training MSE \(after) "
                                     + "(largest |λ| \(jump.layers.compactMap(\.largestEigenvalueModulus).max() ?? 0)); "
                                     + "use dmd.clamp_eigenvalues, dmd.guarded or a smaller dmd.s")
        }
        return jump
    }

    /// The parameters now are w_m, the m-th snapshot: their losses are the "before" of the relative
    /// error, and a backup of them is what the guard restores and what update snapshots add to.
    private func prepareJump(_ trainer: TrainerAccess, jump: inout DMDJump, clock t: inout Double) {
        if settings.recordJumpLosses || settings.guarded {
            jump.trainMSEBefore = trainer.trainingLoss().scaled
            if settings.recordJumpLosses { jump.testMSEBefore = trainer.testLoss()?.scaled }
            t = lap(t, &epochAccumulator.jumpLossSeconds)
        }
        if settings.guarded || settings.snapshotKind == .updates {
            for block in blocks { block.saveBackup(from: trainer, threads: copyThreads) }
            t = lap(t, &epochAccumulator.assignSeconds)
        }
    }

    /// (F9)–(F12) per layer, concurrently, in place; with `extrapolate` also (F13) at s into each
    /// block's scratch. A layer whose DMD fails keeps its parameters (nil model); every layer's
    /// outcome goes into `jump`, the eigenvalues to their file.
    private func decomposeLayers(plannedSteps: Double, extrapolate: Bool, jump: inout DMDJump) throws -> [DMDModel?] {
        let updates = settings.snapshotKind == .updates
        let results = DMD.forEachLayerConcurrently(count: blocks.count, cost: { Double(self.blocks[$0].dimension) }) { i -> DMDModel in
            let block = self.blocks[i]
            if updates { try block.buffer.replaceWithDifferences() }
            let model = try DMD.decompose(consuming: block.buffer, options: self.options)
            if extrapolate && !model.isIdentity { try self.candidate(block, model, steps: plannedSteps) }
            return model
        }
        var models: [DMDModel?] = []
        for (block, result) in zip(blocks, results) {
            let name = block.label == Self.networkBlockLabel ? Self.networkBlockLabel : nil
            switch result {
            case .success(let model):
                models.append(model)
                jump.layers.append(.init(layer: block.layers[0], rank: model.rank, largestEigenvalueModulus: model.largestEigenvalueModulus,
                                         clampedEigenvalues: model.clampedEigenvalueCount, failure: nil, block: name))
            case .failure(let error):
                models.append(nil)
                jump.layers.append(.init(layer: block.layers[0], rank: nil, largestEigenvalueModulus: nil, clampedEigenvalues: 0,
                                         failure: "\(error)", block: name))
                log("DMD jump \(jump.number) (epoch \(jump.epoch)): \(block.description) keeps its parameters: \(error)")
            }
        }
        try writeEigenvalues(models, jump: jump.number)
        return models
    }

    /// Without the guard: the extrapolated parameters of every block with a non-identity model go
    /// into the network; an overflow of the network's precision is divergence.
    private func assignExtrapolations(_ trainer: TrainerAccess, models: [DMDModel?], jump: DMDJump) throws {
        for (block, model) in zip(blocks, models) {
            guard let model, !model.isIdentity else { continue }
            if !block.assignScratch(to: trainer, threads: copyThreads) {
                throw DMDDivergenceError("DMD jump \(jump.number) (epoch \(jump.epoch)): the extrapolated parameters of \(block.description) "
                                         + "(s = \(jump.plannedSteps), largest |λ| = \(model.largestEigenvalueModulus)) overflow "
                                         + "\(trainer.precision.rawValue); use dmd.clamp_eigenvalues, dmd.guarded or a smaller dmd.s")
            }
        }
    }

    /// Safeguard (c): the training MSE at s × f for every guard factor f; the best one is kept if it
    /// beats the MSE at w_m, else w_m is restored bit for bit (the backup is the exact float64 image
    /// of the network's parameters).
    private func guardedAssignment(_ trainer: TrainerAccess, models: [DMDModel?], plannedSteps: Double,
                                   jump: inout DMDJump, clock t: inout Double) throws {
        let before = jump.trainMSEBefore ?? trainer.trainingLoss().scaled
        var best: (index: Int, loss: Double)? = nil
        var lastAssigned: Int? = nil
        for (index, factor) in settings.guardFactors.enumerated() {
            let fits = try assignCandidate(trainer, models: models, steps: plannedSteps * factor, clock: &t)
            lastAssigned = index
            var loss = Double.infinity
            if fits {
                loss = trainer.trainingLoss().scaled
                if !loss.isFinite { loss = .infinity }
            }
            t = lap(t, &epochAccumulator.jumpLossSeconds)
            jump.candidateTrainMSE.append(loss)
            if loss < (best?.loss ?? .infinity) { best = (index, loss) }
        }
        if let best, best.loss < before {
            let factor = settings.guardFactors[best.index]
            if lastAssigned != best.index {
                _ = try assignCandidate(trainer, models: models, steps: plannedSteps * factor, clock: &t)
            }
            jump.guardFactor = factor
            jump.usedSteps = plannedSteps * factor
        } else {
            for block in blocks { block.restoreBackup(to: trainer, threads: copyThreads) }
            t = lap(t, &epochAccumulator.assignSeconds)
            jump.accepted = false
            jump.usedSteps = 0
        }
    }

    /// w_{m+s} of one block into its scratch vector: (F13) Re(Φ Λ^s b) for a DMD of the weights, or
    /// w_m + Re(Φ diag(Σ_{j=1}^{s} λ^j) b) for a DMD of the updates (`DMDModel.accumulate`, with the
    /// block's exact copy of w_m). Runs on the block's own thread; touches only the block.
    private func candidate(_ block: ParameterBlock, _ model: DMDModel, steps: Double) throws {
        switch settings.snapshotKind {
        case .weights:
            try model.extrapolate(steps: steps, into: block.scratch)
        case .updates:
            try model.accumulate(steps: steps, into: block.scratch)
            block.addBackupToScratch(threads: 1)
        }
    }

    /// Writes every layer's w_{m+s} into the network; false if some value overflowed the network's
    /// precision (the parameters are then partly written: the caller restores or rejects).
    private func assignCandidate(_ trainer: TrainerAccess, models: [DMDModel?], steps: Double, clock t: inout Double) throws -> Bool {
        let results = DMD.forEachLayerConcurrently(count: blocks.count, cost: { Double(self.blocks[$0].dimension) }) { i -> Bool in
            guard let model = models[i], !model.isIdentity else { return false }
            try self.candidate(self.blocks[i], model, steps: steps)
            return true
        }
        t = lap(t, &epochAccumulator.dmdSeconds)
        var fits = true
        for (i, result) in results.enumerated() {
            switch result {
            case .success(let extrapolated):
                // Not extrapolated: rank 0 (the identity jump) or a failed decomposition; the layer stays at w_m.
                if extrapolated { fits = blocks[i].assignScratch(to: trainer, threads: copyThreads) && fits }
            case .failure(let error):
                // |λ|^s overflowed at this s: this candidate is unusable.
                log("DMD jump \(jumps.count + 1): \(blocks[i].description) cannot be extrapolated \(steps) steps: \(error)")
                blocks[i].restoreBackup(to: trainer, threads: copyThreads)
                fits = false
            }
        }
        t = lap(t, &epochAccumulator.assignSeconds)
        return fits
    }

    // MARK: Eigenvalue files

    private func writeEigenvalues(_ models: [DMDModel?], jump: Int) throws {
        guard let directory = eigenvalueDirectory else { return }
        for (block, model) in zip(blocks, models) {
            guard let model else { continue }
            var values: [Double] = []
            values.reserveCapacity(2 * model.eigenvalues.count)
            for λ in model.eigenvalues { values.append(λ.real); values.append(λ.imaginary) }
            try Npy.write(values, shape: [model.eigenvalues.count, 2],
                          to: directory.appendingPathComponent(block.label == Self.networkBlockLabel
                                                                   ? Self.networkEigenvalueFileName(jump: jump)
                                                                   : Self.eigenvalueFileName(jump: jump, layer: block.layers[0])))
        }
    }

    /// `jump_<J>_layer_<k>.npy`: J 1-based jump number, k 0-based layer.
    public static func eigenvalueFileName(jump: Int, layer: Int) -> String { "jump_\(jump)_layer_\(layer).npy" }

    /// `jump_<J>_all.npy`: the one DMD of `dmd.scope = "network"`.
    public static func networkEigenvalueFileName(jump: Int) -> String { "jump_\(jump)_\(networkBlockLabel).npy" }

    /// The label of the network scope's single block (history columns `rank_all`, `max_abs_eig_all`).
    public static let networkBlockLabel = "all"

    private func removeOldEigenvalueFiles() throws {
        guard let directory = eigenvalueDirectory,
              let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
        for name in names where name.hasPrefix("jump_") && name.hasSuffix(".npy") {
            do { try FileManager.default.removeItem(at: directory.appendingPathComponent(name)) } catch {
                throw ArrayFileError(path: directory.appendingPathComponent(name).path, "cannot remove an old eigenvalue file: \(error.localizedDescription)")
            }
        }
    }

    // MARK: History row

    private func historyValues(_ a: EpochAccumulator) -> [String: Double] {
        var row: [String: Double] = [
            "jump": a.jumps.isEmpty ? 0 : 1,
            "dmd_failures": Double(a.jumps.reduce(0) { $0 + $1.layers.filter { $0.failure != nil }.count }),
            "snapshots_held": Double(blocks.first?.buffer.count ?? 0),
            "snapshot_seconds": a.snapshotSeconds, "dmd_seconds": a.dmdSeconds,
            "assign_seconds": a.assignSeconds, "jump_loss_seconds": a.jumpLossSeconds,
        ]
        if settings.snapshotTiming == .step { row["jumps_in_epoch"] = Double(a.jumps.count) }
        // With several jumps in one epoch (snapshots per step), the row shows the last one; jumps.csv has all.
        guard let last = a.jumps.last else { return row }
        row["s_used"] = last.usedSteps
        row["train_mse_before"] = last.trainMSEBefore
        row["train_mse_after"] = last.trainMSEAfter
        row["test_mse_before"] = last.testMSEBefore
        row["test_mse_after"] = last.testMSEAfter
        if settings.guarded {
            row["guard_factor"] = last.guardFactor
            row["jump_accepted"] = last.accepted ? 1 : 0
        }
        for (block, outcome) in zip(blocks, last.layers) {
            row["rank_\(block.label)"] = outcome.rank.map(Double.init)
            row["max_abs_eig_\(block.label)"] = outcome.largestEigenvalueModulus
        }
        if settings.clampEigenvalues { row["clamped_eigenvalues"] = Double(last.layers.reduce(0) { $0 + $1.clampedEigenvalues }) }
        return row
    }

    // MARK: Checkpoint state

    /// Layout: "DMDHOOK1", UInt64 little-endian header length, JSON header (settings fingerprint, the
    /// jumps so far, per layer its dimension and snapshot count), then each layer's snapshots as raw
    /// little-endian float64, layer after layer, column after column.
    public func checkpointState() throws -> Data {
        let header = CheckpointHeader(fingerprint: settings.fingerprint, jumps: jumps,
                                      layers: blocks.map { .init(layer: $0.layers[0], dimension: $0.dimension, snapshots: $0.buffer.count) })
        let json = try Self.encoder().encode(header)
        let payload = blocks.reduce(0) { $0 + $1.dimension * $1.buffer.count * 8 }
        var data = Data(capacity: 16 + json.count + payload)
        data.append(contentsOf: Self.magic)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for block in blocks {
            for j in 0..<block.buffer.count {
                let column = try block.buffer.snapshot(j)
                column.withUnsafeBytes { data.append(contentsOf: $0) }
            }
        }
        return data
    }

    public func restoreCheckpointState(_ data: Data) throws {
        func fail(_ message: String) -> DMDTrainingError { DMDTrainingError("checkpoint: DMD state: \(message)") }
        guard data.count >= 16, Array(data.prefix(8)) == Self.magic else { throw fail("missing or damaged (bad magic)") }
        let length = data.subdata(in: 8..<16).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard length <= UInt64(data.count - 16) else { throw fail("truncated header") }
        let header: CheckpointHeader
        do { header = try Self.decoder().decode(CheckpointHeader.self, from: data.subdata(in: 16..<(16 + Int(length)))) } catch {
            throw fail("unreadable header: \(error)")
        }
        guard header.fingerprint == settings.fingerprint else {
            throw fail("written with other DMD settings (\(header.fingerprint)), now \(settings.fingerprint)")
        }
        guard header.layers.map(\.layer) == blocks.map({ $0.layers[0] }), zip(header.layers, blocks).allSatisfy({ $0.dimension == $1.dimension }) else {
            throw fail("its layers \(header.layers.map { "\($0.layer) (n = \($0.dimension))" }) do not match this network's selected layers")
        }
        var offset = 16 + Int(length)
        let payload = header.layers.reduce(0) { $0 + $1.dimension * $1.snapshots * 8 }
        guard data.count - offset == payload else { throw fail("holds \(data.count - offset) bytes of snapshots, expected \(payload)") }
        for (entry, block) in zip(header.layers, blocks) {
            guard entry.snapshots < block.buffer.capacity else { throw fail("layer \(entry.layer) has \(entry.snapshots) snapshots, m = \(block.buffer.capacity)") }
            block.buffer.clear()
            var column = [Double](repeating: 0, count: entry.dimension)
            for _ in 0..<entry.snapshots {
                column.withUnsafeMutableBytes { raw in
                    data.withUnsafeBytes { source in
                        raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<(offset + entry.dimension * 8)]))
                    }
                }
                try block.buffer.append(column)
                offset += entry.dimension * 8
            }
        }
        jumps = header.jumps
        restoredFromCheckpoint = true
    }

    static let magic = Array("DMDHOOK1".utf8)

    struct CheckpointHeader: Codable {
        struct Layer: Codable { var layer: Int; var dimension: Int; var snapshots: Int }
        var fingerprint: String
        var jumps: [DMDJump]
        var layers: [Layer]
    }

    static func encoder() -> JSONEncoder { TrainingCheckpoint.encoder() }

    static func decoder() -> JSONDecoder { TrainingCheckpoint.decoder() }

    /// Snapshots currently held (the same for every selected layer).
    public var snapshotsHeld: Int { blocks.first?.buffer.count ?? 0 }
}

/// A DMD jump that made the parameters or the training MSE non-finite (training cannot go on).
public struct DMDDivergenceError: DivergenceError {
    public let description: String
    public init(_ message: String) { description = message }
}

/// Seconds and jumps of the epoch in progress.
struct EpochAccumulator {
    var snapshotSeconds = 0.0
    var dmdSeconds = 0.0
    var assignSeconds = 0.0
    var jumpLossSeconds = 0.0
    var jumps: [DMDJump] = []
}

@inline(__always) func lap(_ start: Double, _ into: inout Double) -> Double {
    let now = monotonicSeconds()
    into += now - start
    return now
}
