import NumericalFoundations
import Surrogates
import Foundation
import XCTest
import Pipeline

final class ResumeAndSweepTests: XCTestCase {
    private func npyFiles(_ folder: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let fm = FileManager.default
        for name in try fm.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".npy") {
            out[name] = try Data(contentsOf: folder.appendingPathComponent(name))
        }
        let eigenvalues = folder.appendingPathComponent("eigenvalues")
        for name in (try? fm.contentsOfDirectory(atPath: eigenvalues.path)) ?? [] {
            out["eigenvalues/" + name] = try Data(contentsOf: eigenvalues.appendingPathComponent(name))
        }
        return out
    }

    private func history(_ folder: URL) throws -> [[String]] {
        let text = try String(contentsOf: folder.appendingPathComponent(TrainingRun.historyFile), encoding: .utf8)
        let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let kept = lines[0].indices.filter { !dmdTimingColumns.contains(lines[0][$0]) }
        return lines.map { cells in kept.map { cells[$0] } }
    }

    private func hook(_ settings: DMDTrainingSettings, _ folder: URL) throws -> DMDAccelerator {
        try SmallProblem.accelerator(settings, eigenvalues: folder.appendingPathComponent("eigenvalues"))
    }

    /// With DMD on (m = 3, checkpoints every 2 epochs), stopping after epoch 4 (one snapshot held)
    /// or 5 (two held; the stop writes its own checkpoint) and resuming gives the same model files,
    /// eigenvalue files, history and jump records as an uninterrupted run of 8 epochs, bit for bit.
    /// Resuming with other DMD settings is refused.
    func testResumeEqualsUninterruptedRunWithDMD() throws {
        let root = try temporaryDirectory("resume")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = try SmallProblem.dataset()
        let settings = DMDTrainingSettings(snapshotCount: 3, steps: 4, guarded: true, guardFactors: [0.5, 1])
        let whole = root.appendingPathComponent("whole")
        let wholeHook = try hook(settings, whole)
        _ = try TrainingRun.execute(dataset: data, settings: SmallProblem.runSettings(epochs: 8), modelDirectory: whole, resume: .never, hook: wholeHook)
        XCTAssertEqual(wholeHook.jumps.count, 2)
        XCTAssertEqual(try history(whole).count, 10, "header, epoch 0 and 8 epochs")

        for stop in [4, 5] {
            let folder = root.appendingPathComponent("split\(stop)")
            let first = try hook(settings, folder)
            _ = try TrainingRun.execute(dataset: data, settings: SmallProblem.runSettings(epochs: 8, stopAfter: stop), modelDirectory: folder,
                                        resume: .never, hook: first)
            XCTAssertEqual(first.snapshotsHeld, stop % 3)
            let second = try hook(settings, folder)
            let report = try TrainingRun.execute(dataset: data, settings: SmallProblem.runSettings(epochs: 8), modelDirectory: folder,
                                                 resume: .always, hook: second)
            XCTAssertEqual(report.startEpoch, stop)
            XCTAssertEqual(try npyFiles(folder), try npyFiles(whole), "stopped after epoch \(stop)")
            XCTAssertEqual(try history(folder), try history(whole), "stopped after epoch \(stop)")
            XCTAssertEqual(second.jumps, wholeHook.jumps, "jump records restored and continued")
        }

        let other = try hook(DMDTrainingSettings(snapshotCount: 4, steps: 4), root.appendingPathComponent("split4"))
        assertThrowsMessage(try TrainingRun.execute(dataset: data, settings: SmallProblem.runSettings(epochs: 9),
                                                    modelDirectory: root.appendingPathComponent("split4"), resume: .always, hook: other),
                            contains: ["acceleration hook", "snapshotCount"])
    }

    /// A damaged DMD state in a checkpoint is an error that says so, not a crash.
    func testDamagedCheckpointStateIsRefused() throws {
        let hook = try SmallProblem.accelerator(DMDTrainingSettings(snapshotCount: 3, steps: 4))
        let trainer = try SmallProblem.trainer(hook: hook)
        try trainer.train(untilEpoch: 2)
        let state = try hook.checkpointState()
        let fresh = try SmallProblem.accelerator(DMDTrainingSettings(snapshotCount: 3, steps: 4))
        try fresh.restoreCheckpointState(state)
        XCTAssertEqual(fresh.snapshotsHeld, 2)
        assertThrowsMessage(try fresh.restoreCheckpointState(state.prefix(state.count - 8)), contains: ["DMD state", "bytes of snapshots"])
        assertThrowsMessage(try fresh.restoreCheckpointState(Data("garbage".utf8)), contains: ["DMD state", "bad magic"])
        let other = try SmallProblem.accelerator(DMDTrainingSettings(snapshotCount: 3, steps: 5))
        assertThrowsMessage(try other.restoreCheckpointState(state), contains: ["other DMD settings"])
    }

    /// The sweep on a 2 × 2 grid (m ∈ {2, 3}, s ∈ {1, 4}, 4 epochs): sweep.npy holds each run's mean
    /// relative error, equal to a separate run of the same pair; a rerun skips finished pairs, a pair
    /// whose record is deleted is run again with the same result, an interrupted pair resumes from
    /// its checkpoint to the same result, and another setup is refused.
    func testSweepOnATinyGridIsResumable() throws {
        let root = try temporaryDirectory("sweep")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = try SmallProblem.dataset()
        let run = SmallProblem.runSettings(epochs: 4, checkpointEvery: 1)
        let setup = DMDSweep.Setup(dataset: data, run: run, dmd: DMDTrainingSettings(), mValues: [2, 3], sValues: [1, 4],
                                   directory: root, concurrentRuns: 2)
        let summary = try DMDSweep(setup).run()
        XCTAssertEqual(summary.ran, 4)
        XCTAssertEqual(summary.skipped, 0)
        let sweep = try Npy.read(Double.self, from: root.appendingPathComponent(DMDSweep.arrayFile))
        XCTAssertEqual(sweep.shape, [2, 2, 2])
        XCTAssertTrue(sweep.values.allSatisfy { $0.isFinite && $0 > 0 }, "\(sweep.values)")
        XCTAssertEqual(try Npy.read(Int64.self, from: root.appendingPathComponent(DMDSweep.mValuesFile)).values, [2, 3])
        XCTAssertEqual(try Npy.read(Int64.self, from: root.appendingPathComponent(DMDSweep.sValuesFile)).values, [1, 4])
        let csv = try String(contentsOf: root.appendingPathComponent(DMDSweep.csvFile), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.count, 5)
        XCTAssertTrue(csv[1].hasPrefix("2,1,finished,2,"), "m = 2 over 4 epochs: 2 jumps; got \(csv[1])")
        XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent("runs/m3_s4/history.csv").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("runs/m3_s4/checkpoint.bin").path),
                       "finished runs keep only their history and jumps")

        // (m = 3, s = 4) as a separate run with the sweep's settings (one thread, jump losses recorded).
        let hook = try SmallProblem.accelerator(DMDTrainingSettings(snapshotCount: 3, steps: 4, annealingEpochs: 4))
        _ = try TrainingRun.execute(dataset: data, settings: run, modelDirectory: root.appendingPathComponent("separate"), resume: .never, hook: hook)
        XCTAssertEqual(sweep.values[(1 * 2 + 1) * 2], DMDJump.meanRelativeError(hook.jumps, test: false))
        XCTAssertEqual(sweep.values[(1 * 2 + 1) * 2 + 1], DMDJump.meanRelativeError(hook.jumps, test: true))

        // Rerun: nothing to do. Deleting one record reruns that pair only, with the same result.
        let again = try DMDSweep(setup).run()
        XCTAssertEqual(again.ran, 0)
        XCTAssertEqual(again.skipped, 4)
        let pair = root.appendingPathComponent("pairs/m2_s4.json")
        let saved = try Data(contentsOf: pair)
        try FileManager.default.removeItem(at: pair)
        let third = try DMDSweep(setup).run()
        XCTAssertEqual(third.ran, 1)
        XCTAssertEqual(third.skipped, 3)
        XCTAssertEqual(try Npy.read(Double.self, from: root.appendingPathComponent(DMDSweep.arrayFile)).values, sweep.values)
        func resultWithoutTime(_ data: Data) throws -> SweepPairResult {
            var r = try JSONDecoder().decode(SweepPairResult.self, from: data)
            r.wallSeconds = 0
            return r
        }
        XCTAssertEqual(try resultWithoutTime(Data(contentsOf: pair)), try resultWithoutTime(saved))

        // An interrupted pair: its run folder holds a checkpoint after epoch 3 (one snapshot held);
        // the sweep resumes it and gets the uninterrupted result.
        try FileManager.default.removeItem(at: pair)
        let partial = try SmallProblem.accelerator(DMDTrainingSettings(snapshotCount: 2, steps: 4, annealingEpochs: 4))
        var stopped = run
        stopped.stopAfterEpoch = 3
        _ = try TrainingRun.execute(dataset: data, settings: stopped, modelDirectory: root.appendingPathComponent("runs/m2_s4"),
                                    resume: .never, hook: partial)
        var notes: [String] = []
        let fourth = try DMDSweep(setup).run(log: { notes.append($0) })
        XCTAssertEqual(fourth.ran, 1)
        XCTAssertTrue(notes.contains { $0.contains("m2_s4: resuming") }, "\(notes)")
        XCTAssertEqual(try resultWithoutTime(Data(contentsOf: pair)), try resultWithoutTime(saved))

        var changed = setup
        changed.run.epochs = 5
        assertThrowsMessage(try DMDSweep(changed).run(), contains: ["another setup", "epochs"])
    }

    func testSweepRangeSyntax() throws {
        XCTAssertEqual(try SweepRange.parse("2:20:2", name: "m", minimum: 2), [2, 4, 6, 8, 10, 12, 14, 16, 18, 20])
        XCTAssertEqual(try SweepRange.parse("5:100:5", name: "s", minimum: 0).count, 20)
        XCTAssertEqual(try SweepRange.parse("3:5", name: "m", minimum: 2), [3, 4, 5])
        XCTAssertEqual(try SweepRange.parse("14, 20", name: "m", minimum: 2), [14, 20])
        XCTAssertEqual(try SweepRange.parse("55", name: "s", minimum: 0), [55])
        assertThrowsMessage(try SweepRange.parse("1:4", name: "m", minimum: 2), contains: ["--m", "below the smallest allowed value 2"])
        assertThrowsMessage(try SweepRange.parse("5:1", name: "s", minimum: 0), contains: ["stop 1 is below start 5"])
        assertThrowsMessage(try SweepRange.parse("2:x", name: "m", minimum: 2), contains: ["not integers"])
        assertThrowsMessage(try SweepRange.parse("2:8:0", name: "m", minimum: 2), contains: ["step must be at least 1"])
    }
}

extension ResumeAndSweepTests {
    /// A pair whose run diverges is recorded as diverged with a mean relative error of +∞, and the
    /// sweep goes on with the next pair. (A learning rate of 1e30 makes every run diverge in its
    /// first epoch, whatever DMD does: a divergence that does not depend on m and s.)
    func testSweepRecordsDivergedRuns() throws {
        let root = try temporaryDirectory("sweep-diverged")
        defer { try? FileManager.default.removeItem(at: root) }
        var run = SmallProblem.runSettings(epochs: 4, checkpointEvery: 10)
        run.trainer.adam.learningRate = 1e30
        var notes: [String] = []
        let setup = DMDSweep.Setup(dataset: try SmallProblem.dataset(), run: run, dmd: DMDTrainingSettings(), mValues: [2], sValues: [1, 2],
                                   directory: root, concurrentRuns: 1)
        let summary = try DMDSweep(setup).run(log: { notes.append($0) })
        XCTAssertEqual(summary.results.map(\.status), [.diverged, .diverged])
        XCTAssertEqual(summary.results.map(\.meanRelativeErrorTrain), [.infinity, .infinity])
        XCTAssertTrue(summary.results[0].message?.contains("diverged") == true, "\(summary.results[0])")
        XCTAssertEqual(try Npy.read(Double.self, from: root.appendingPathComponent(DMDSweep.arrayFile)).values, Array(repeating: .infinity, count: 4))
        XCTAssertTrue(notes.contains { $0.contains("m2_s2: diverged") }, "\(notes)")
    }
}
