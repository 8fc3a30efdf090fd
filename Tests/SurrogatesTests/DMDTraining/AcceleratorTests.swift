import NumericalFoundations
import Surrogates
import Foundation
import XCTest

/// Algorithm 1 on a real trainer (`SmallProblem`: 6 → 12 → 8 → 5, 5 optimizer steps per epoch).
final class AcceleratorTests: XCTestCase {
    /// m = 3, s = 5 over 10 epochs: a jump exactly at epochs 3, 6, 9; the jump columns filled on
    /// those rows and empty elsewhere; the MSE before jump 1 is the plain run's MSE at epoch 3 (same
    /// seeds, same steps: bit for bit); the MSE after a jump is the epoch's own train/test MSE; the
    /// eigenvalue files are written with r rows; and the parameters after jump 1 are the DMD
    /// extrapolation of the plain run's snapshots 1–3 computed independently with the library.
    func testJumpEveryMEpochsWithColumnsAndEigenvalueFiles() throws {
        let folder = try temporaryDirectory("accelerator")
        defer { try? FileManager.default.removeItem(at: folder) }
        let m = 3, s = 5.0
        let hook = try SmallProblem.accelerator(DMDTrainingSettings(snapshotCount: m, steps: s), eigenvalues: folder)
        let dmd = try SmallProblem.trainer(hook: hook)
        let plain = try SmallProblem.trainer()
        let layout = SmallProblem.layout
        var plainSnapshots: [[[Double]]] = Array(repeating: [], count: layout.layerCount)   // [layer][epoch - 1]
        for _ in 1...m {
            try plain.trainEpoch()
            for l in 0..<layout.layerCount { plainSnapshots[l].append(plain.network.layerParameters(l).map { Double($0) }) }
        }
        try dmd.train(untilEpoch: 10)

        let rows = dmd.history.rows
        XCTAssertEqual(rows.count, 11, "epoch 0 and 10 epochs")
        for row in rows.dropFirst() {
            let isJump = row.epoch % m == 0
            XCTAssertEqual(row.extra["jump"], isJump ? 1 : 0, "epoch \(row.epoch)")
            XCTAssertEqual(row.extra["snapshots_held"], Double(row.epoch % m), "epoch \(row.epoch)")
            for column in ["train_mse_before", "train_mse_after", "test_mse_before", "test_mse_after", "s_used"]
                + (0..<3).flatMap({ ["rank_L\($0)", "max_abs_eig_L\($0)"] }) {
                XCTAssertEqual(row.extra[column] != nil, isJump, "epoch \(row.epoch), column \(column)")
            }
            for column in ["snapshot_seconds", "dmd_seconds", "assign_seconds", "jump_loss_seconds"] {
                XCTAssertGreaterThanOrEqual(try XCTUnwrap(row.extra[column]), 0)
            }
            if isJump {
                XCTAssertEqual(row.extra["train_mse_after"], row.trainMSE, "after = the epoch's own MSE (reused, not recomputed)")
                XCTAssertEqual(row.extra["test_mse_after"], row.testMSE)
                for l in 0..<3 {
                    let rank = try XCTUnwrap(row.extra["rank_L\(l)"])
                    XCTAssertTrue((1...Double(m - 1)).contains(rank), "rank \(rank) of layer \(l) within 1 … m − 1")
                }
            }
        }
        XCTAssertEqual(hook.jumps.map(\.epoch), [3, 6, 9])
        XCTAssertEqual(hook.jumps.map(\.number), [1, 2, 3])
        XCTAssertEqual(hook.jumps[0].trainMSEBefore, plain.history.rows[m].trainMSE, "before = the parameters at the m-th snapshot")
        XCTAssertEqual(hook.jumps[0].testMSEBefore, plain.history.rows[m].testMSE)
        // That the jump changed the parameters is checked positively below: they equal the DMD
        // extrapolation of the plain run's snapshots (an inequality of two floating-point runs would
        // prove nothing and depend on rounding, which differs between BLAS kernels).

        // Eigenvalue files of every jump and layer: r × 2, the largest modulus as in the history.
        for jump in hook.jumps {
            for outcome in jump.layers {
                let file = try Npy.read(Double.self, from: folder.appendingPathComponent(
                    DMDAccelerator.eigenvalueFileName(jump: jump.number, layer: outcome.layer)))
                XCTAssertEqual(file.shape, [try XCTUnwrap(outcome.rank), 2])
                let largest = (0..<file.shape[0]).map { hypot(file.values[2 * $0], file.values[2 * $0 + 1]) }.max() ?? 0
                XCTAssertEqual(largest, try XCTUnwrap(outcome.largestEigenvalueModulus), accuracy: 1e-15)
            }
        }

        // Jump 1 recomputed from the plain run's snapshots (the same parameters up to epoch 3):
        // equal to float32 rounding (relative 1e-6: one rounding of each value is 6e-8 relative).
        // The DMD run trained on past epoch 3: a second one, stopped at epoch 3, gives the parameters after jump 1.
        let again = try SmallProblem.trainer(hook: SmallProblem.accelerator(DMDTrainingSettings(snapshotCount: m, steps: s)))
        try again.train(untilEpoch: m)
        for l in 0..<layout.layerCount {
            let n = layout.parameterCount(ofLayer: l)
            let matrix = try ColumnMajorMatrix(rows: n, columns: m, columnMajor: plainSnapshots[l].flatMap { $0 })
            let expected = try DMD.decompose(matrix, options: DMDOptions()).extrapolated(steps: s)
            let actual = again.network.layerParameters(l).map { Double($0) }
            XCTAssertLessThan(relativeDifference(actual, expected), 1e-6, "layer \(l)")
        }
    }

    /// Safeguard (c) on a real network with a step count far too large (s = 300 with m = 3): every
    /// guarded jump keeps the training MSE at or below the MSE at the m-th snapshot. The same
    /// settings without the guard do raise it (or diverge), so this test can fail.
    func testGuardedJumpNeverIncreasesTheTrainingLoss() throws {
        let m = 3, s = 300.0
        let guarded = try SmallProblem.accelerator(DMDTrainingSettings(snapshotCount: m, steps: s, guarded: true, guardFactors: [0.25, 0.5, 1, 2]))
        let trainer = try SmallProblem.trainer(hook: guarded)
        try trainer.train(untilEpoch: 15)
        XCTAssertEqual(guarded.jumps.count, 5)
        for jump in guarded.jumps {
            let before = try XCTUnwrap(jump.trainMSEBefore), after = try XCTUnwrap(jump.trainMSEAfter)
            XCTAssertLessThanOrEqual(after, before, "jump \(jump.number): \(before) → \(after)")
            if !jump.accepted { XCTAssertEqual(after, before, "rejected: the m-th snapshot's parameters restored exactly") }
            XCTAssertEqual(jump.candidateTrainMSE.count, 4)
            if jump.accepted { XCTAssertEqual(after, jump.candidateTrainMSE.min()) }
        }
        let rowsAtJumps = trainer.history.rows.filter { $0.extra["jump"] == 1 }
        XCTAssertEqual(rowsAtJumps.map { $0.extra["train_mse_after"] }, guarded.jumps.map(\.trainMSEAfter))

        let unguarded = try SmallProblem.accelerator(DMDTrainingSettings(snapshotCount: m, steps: s))
        let reckless = try SmallProblem.trainer(hook: unguarded)
        var increased = false
        do { try reckless.train(untilEpoch: 15) } catch { increased = true }   // diverged
        increased = increased || unguarded.jumps.contains { ($0.trainMSEAfter ?? 0) > ($0.trainMSEBefore ?? .infinity) }
        XCTAssertTrue(increased, "without the guard, s = 300 should raise the training MSE at some jump")
    }

    /// Snapshots after every optimizer step (5 per epoch), m = 4: jumps at steps 4, 8, 12, 16, 20 —
    /// two of them in epoch 4 — and the row of an epoch shows its last jump.
    func testSnapshotsPerOptimizerStep() throws {
        let hook = try SmallProblem.accelerator(DMDTrainingSettings(snapshotCount: 4, steps: 3, snapshotTiming: .step))
        XCTAssertTrue(hook.wantsStepCallbacks)
        let trainer = try SmallProblem.trainer(hook: hook)
        try trainer.train(untilEpoch: 4)
        XCTAssertEqual(hook.jumps.map(\.optimizerStep), [4, 8, 12, 16, 20])
        XCTAssertEqual(hook.jumps.map(\.epoch), [1, 2, 3, 4, 4])
        let rows = trainer.history.rows.dropFirst()
        XCTAssertEqual(rows.map { $0.extra["jumps_in_epoch"] }, [1, 1, 1, 2])
        XCTAssertEqual(rows.map { $0.extra["jump"] }, [1, 1, 1, 1])
        XCTAssertEqual(rows.map { $0.extra["snapshots_held"] }, [1, 2, 3, 0])
        XCTAssertEqual(rows.last?.extra["train_mse_after"], hook.jumps.last?.trainMSEAfter)
        XCTAssertEqual(rows.last?.extra["train_mse_after"], rows.last?.trainMSE, "the last jump ends the epoch")
    }

    /// Adam moments reset after a jump (dmd.adam_moments = "reset") only for the jumped layers
    /// (dmd.layers = [1]); the other layers keep their values from the plain run exactly.
    func testMomentResetAndLayerSelectionOnARealTrainer() throws {
        let m = 3
        let hook = try SmallProblem.accelerator(DMDTrainingSettings(snapshotCount: m, steps: 5, layers: [1], moments: .reset))
        let trainer = try SmallProblem.trainer(hook: hook)
        let plain = try SmallProblem.trainer()
        try trainer.train(untilEpoch: m)
        var layer1Snapshots: [Double] = []
        for _ in 1...m {
            try plain.trainEpoch()
            layer1Snapshots += plain.network.layerParameters(1).map { Double($0) }
        }
        let layout = SmallProblem.layout
        for l in 0..<layout.layerCount {
            let offset = layout.parameterOffset(ofLayer: l), count = layout.parameterCount(ofLayer: l)
            let first = Array(trainer.optimizer.firstMoments[offset..<(offset + count)])
            let second = Array(trainer.optimizer.secondMoments[offset..<(offset + count)])
            if l == 1 {
                XCTAssertTrue(first.allSatisfy { $0 == 0 } && second.allSatisfy { $0 == 0 }, "layer 1 moments reset")
                XCTAssertEqual(trainer.optimizer.stepCounts[1], 0)
                // The jumped layer holds the DMD extrapolation of the plain run's snapshots (s = 5),
                // to float32 rounding (as in testJumpEveryMEpochsWithColumnsAndEigenvalueFiles).
                let snapshots = try ColumnMajorMatrix(rows: count, columns: m, columnMajor: layer1Snapshots)
                let expected = try DMD.decompose(snapshots, options: DMDOptions()).extrapolated(steps: 5)
                XCTAssertLessThan(relativeDifference(trainer.network.layerParameters(l).map { Double($0) }, expected), 1e-6)
            } else {
                XCTAssertTrue(first.contains { $0 != 0 }, "layer \(l) moments kept")
                XCTAssertEqual(trainer.optimizer.stepCounts[l], 3 * 5)
                XCTAssertEqual(Array(trainer.network.layerParameters(l)), Array(plain.network.layerParameters(l)), "layer \(l) not jumped")
            }
        }
        XCTAssertEqual(trainer.history.rows.last?.extra["rank_L0"], nil)
        XCTAssertNotNil(trainer.history.rows.last?.extra["rank_L1"])
    }

    /// Without `recordJumpLosses` (and without the guard) the hook makes no forward pass at all and
    /// has no before/after columns.
    func testNoJumpLossColumnsWhenNotRecorded() throws {
        let hook = try SmallProblem.accelerator(DMDTrainingSettings(snapshotCount: 2, steps: 3, recordJumpLosses: false))
        XCTAssertFalse(hook.historyColumns.contains("train_mse_before"))
        XCTAssertFalse(hook.historyColumns.contains("test_mse_after"))
        let trainer = try SmallProblem.trainer(hook: hook)
        try trainer.train(untilEpoch: 4)
        XCTAssertEqual(hook.jumps.count, 2)
        XCTAssertTrue(hook.jumps.allSatisfy { $0.trainMSEBefore == nil && $0.trainMSEAfter == nil })
        XCTAssertTrue(trainer.history.rows.dropFirst().allSatisfy { $0.extra["jump_loss_seconds"] == 0 })
    }
}
