import Foundation
import XCTest
import Surrogates

final class SettingsTests: XCTestCase {
    /// Safeguard (d), against the closed forms: linear s (1 − p), cosine s (1 + cos πp)/2, p clamped to [0, 1].
    func testAnnealingSchedules() {
        var settings = DMDTrainingSettings(steps: 40, annealingEpochs: 100)
        XCTAssertEqual(settings.stepCount(progress: 0.3), 40)
        settings.annealing = .linear
        XCTAssertEqual(settings.stepCount(progress: 0), 40)
        XCTAssertEqual(settings.stepCount(progress: 0.25), 30, accuracy: 1e-12)
        XCTAssertEqual(settings.stepCount(progress: 1), 0)
        XCTAssertEqual(settings.stepCount(progress: 1.5), 0, "past the planned epochs: no jump")
        settings.annealing = .cosine
        XCTAssertEqual(settings.stepCount(progress: 0), 40)
        XCTAssertEqual(settings.stepCount(progress: 0.5), 20, accuracy: 1e-12)
        XCTAssertEqual(settings.stepCount(progress: 1.0 / 3), 30, accuracy: 1e-12)   // (1 + cos 60°)/2 = 3/4
        XCTAssertEqual(settings.stepCount(progress: 1), 0, accuracy: 1e-12)
    }

    func testInvalidSettingsAreRefusedWithTheKeyNamed() {
        let layout = SmallProblem.layout   // 3 weight layers
        func make(_ s: DMDTrainingSettings) throws -> DMDAccelerator { try DMDAccelerator(settings: s, layout: layout) }
        assertThrowsMessage(try make(DMDTrainingSettings(layers: [0, 3])), contains: ["dmd.layers", "layer 3", "3 weight layers"])
        assertThrowsMessage(try make(DMDTrainingSettings(layers: [1, 1])), contains: ["dmd.layers", "twice"])
        assertThrowsMessage(try make(DMDTrainingSettings(snapshotCount: 1)), contains: ["dmd.m", "at least 2"])
        assertThrowsMessage(try make(DMDTrainingSettings(steps: -1)), contains: ["dmd.s"])
        assertThrowsMessage(try make(DMDTrainingSettings(guarded: true, guardFactors: [])), contains: ["dmd.guard_factors"])
        assertThrowsMessage(try make(DMDTrainingSettings(snapshotCount: 2, snapshotKind: .updates)), contains: ["dmd.snapshot_kind", "m ≥ 3"])
        assertThrowsMessage(try make(DMDTrainingSettings(tolerance: 2)), contains: ["tolerance"])
    }

    /// The fingerprint (what a checkpoint must match) ignores the planned epochs without annealing,
    /// so that a finished run can be extended with --resume, and includes them with annealing.
    func testFingerprint() {
        // The variants beyond the paper leave the paper-kind settings' encoding as it was (old
        // checkpoints and study results stay valid) and change it when chosen.
        let paper = DMDTrainingSettings().fingerprint
        XCTAssertFalse(paper.contains("snapshotKind") || paper.contains("scope"), paper)
        XCTAssertTrue(paper.contains("\"svdMethod\":\"qr\"") && paper.contains("\"modes\":\"exact\""), paper)
        XCTAssertNotEqual(DMDTrainingSettings(snapshotKind: .updates).fingerprint, paper)
        XCTAssertNotEqual(DMDTrainingSettings(scope: .network).fingerprint, paper)
        let decoded = try? JSONDecoder().decode(DMDTrainingSettings.self, from: JSONEncoder().encode(DMDTrainingSettings(snapshotKind: .updates, scope: .network)))
        XCTAssertEqual(decoded?.snapshotKind, .updates)
        XCTAssertEqual(decoded?.scope, .network)
        XCTAssertEqual(DMDTrainingSettings(annealingEpochs: 100).fingerprint, DMDTrainingSettings(annealingEpochs: 200).fingerprint)
        XCTAssertNotEqual(DMDTrainingSettings(annealing: .linear, annealingEpochs: 100).fingerprint,
                          DMDTrainingSettings(annealing: .linear, annealingEpochs: 200).fingerprint)
        XCTAssertNotEqual(DMDTrainingSettings(steps: 5).fingerprint, DMDTrainingSettings(steps: 6).fingerprint)
    }

    /// The history header names (the report parses them): rank_L<k>/max_abs_eig_L<k> with k 0-based.
    func testHistoryColumnNames() throws {
        let hook = try DMDAccelerator(settings: DMDTrainingSettings(clampEigenvalues: true, guarded: true), layout: SmallProblem.layout)
        XCTAssertEqual(hook.historyColumns, ["jump", "s_used", "train_mse_before", "train_mse_after", "test_mse_before", "test_mse_after",
                                             "guard_factor", "jump_accepted", "rank_L0", "rank_L1", "rank_L2",
                                             "max_abs_eig_L0", "max_abs_eig_L1", "max_abs_eig_L2", "clamped_eigenvalues",
                                             "dmd_failures", "snapshots_held", "snapshot_seconds", "dmd_seconds", "assign_seconds",
                                             "jump_loss_seconds"])
    }
}
