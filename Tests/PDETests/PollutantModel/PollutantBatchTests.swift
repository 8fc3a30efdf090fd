import Foundation
import XCTest
@testable import NumericalFoundations
@testable import PDE
@testable import Pipeline

/// The batch: files, status codes, checkpoints and resume, shards and merge, bad input.
final class PollutantBatchTests: XCTestCase {
    var cleanup: [URL] = []
    override func tearDown() {
        for url in cleanup { try? FileManager.default.removeItem(at: url) }
        cleanup = []
    }

    func dataDirectory(_ name: String, params: [[Double]] = Fixture.params) throws -> URL {
        let url = try Fixture.makeDataDirectory(name, params: params)
        cleanup.append(url)
        return url
    }

    func outputs(_ data: URL) throws -> [Data] {
        let fem = PollutantStage.femFolder(data)
        return try ["c3.npy", "status.npy", "points.npy"].map { try Fixture.bytes(fem.appendingPathComponent($0)) }
    }

    /// The files and their content: shapes, zero rows for the sample without wind, status codes, records.
    func testBatchWritesTheDatasetWithStatusAndRecords() throws {
        let data = try dataDirectory("files")
        let config = try Fixture.config()
        let summary = try PollutantStage.run(config: config, dataDirectory: data)
        let fem = PollutantStage.femFolder(data)
        let c3 = try Npy.read(Double.self, from: fem.appendingPathComponent("c3.npy"))
        let status = try Npy.read(Int32.self, from: fem.appendingPathComponent("status.npy"))
        let points = try Npy.read(Double.self, from: fem.appendingPathComponent("points.npy"))
        XCTAssertEqual(c3.shape, [10, 24]); XCTAssertEqual(status.shape, [10]); XCTAssertEqual(points.shape, [24, 2])
        // Sample 4 has no similarity solution: skipped with its status, zero row; all others converge.
        XCTAssertEqual(status.values, [0, 0, 0, 0, 1, 0, 0, 0, 0, 0])
        XCTAssertTrue(c3.row(4).allSatisfy { $0 == 0 })
        for i in 0..<10 where i != 4 {
            XCTAssertTrue(c3.row(i).allSatisfy { $0.isFinite }); XCTAssertGreaterThan(c3.row(i).max()!, 0)
        }
        XCTAssertEqual(summary.attempted, 9); XCTAssertEqual(summary.converged, 9); XCTAssertEqual(summary.successFraction, 1)
        // Points: the observation grid, x fastest.
        XCTAssertEqual(points.values, ObservationGrid(nx: 6, ny: 4, lx: 1, ly: 1, gradingX: 1.5, gradingY: 1.5).points)
        // Records: Newton history, minima, time.
        let r = summary.records[0]
        XCTAssertEqual(r.status, .converged)
        XCTAssertGreaterThanOrEqual(r.newtonIterations, 1)
        XCTAssertLessThan(r.finalRelativeResidual!, 1e-10)
        XCTAssertNotNil(r.minC1); XCTAssertNotNil(r.minC3); XCTAssertGreaterThanOrEqual(r.seconds, 0)  // a time, not a claim about speed
        XCTAssertEqual(summary.records[4].status, .noWindProfile)
        XCTAssertTrue(summary.records[4].reason!.contains("no_solution_blow_off"))
        let details = summary.details
        XCTAssertEqual(details["converged"], JSONValue(9))
        XCTAssertEqual(details["samples"]?.array?.count, 10)
        XCTAssertEqual(details["samples"]?.array?[0]["newton_iterations"], JSONValue(r.newtonIterations))
        XCTAssertNotNil(details["samples"]?.array?[0]["min_c2"])
        // The checkpoints are gone once the dataset is written.
        XCTAssertFalse(FileManager.default.fileExists(atPath: fem.appendingPathComponent("checkpoints").path))
    }

    /// A batch stopped after a few samples keeps its finished chunks; restarted (with another thread
    /// count), it solves only the rest and ends with the same bytes as an uninterrupted run. A damaged
    /// chunk is solved again.
    func testInterruptedBatchResumesToIdenticalBytes() throws {
        let reference = try dataDirectory("reference")
        _ = try PollutantStage.run(config: Fixture.config(), dataDirectory: reference)

        let data = try dataDirectory("resumed")
        let stop = StopSignal()
        let done = SharedCounter()
        // One thread, stop after 4 samples: chunk 0 (samples 0-2) is saved, chunk 1 is not complete.
        XCTAssertThrowsError(try PollutantStage.run(config: Fixture.config(overrides: ["fem.threads=1"]), dataDirectory: data, stop: stop,
                                                    makeProgress: { _ in { _ in if done.next() == 3 { stop.request() } } })) { error in
            XCTAssertTrue(error is BatchInterrupted, "\(error)")
            XCTAssertEqual((error as? BatchInterrupted)?.savedChunks, 1)
        }
        let checkpoints = PollutantStage.femFolder(data).appendingPathComponent("checkpoints")
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoints.appendingPathComponent("chunk-000000.json").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: PollutantStage.femFolder(data).appendingPathComponent("c3.npy").path))

        let resumed = try PollutantStage.run(config: Fixture.config(), dataDirectory: data)
        XCTAssertEqual(resumed.restoredChunks, 1)
        XCTAssertEqual(resumed.solvedNow, 7)
        XCTAssertEqual(try outputs(data), try outputs(reference))

        // Interrupt again, damage the saved chunk: it is recomputed, the bytes are still the same.
        let again = try dataDirectory("damaged")
        let stop2 = StopSignal(), done2 = SharedCounter()
        XCTAssertThrowsError(try PollutantStage.run(config: Fixture.config(overrides: ["fem.threads=1"]), dataDirectory: again, stop: stop2,
                                                    makeProgress: { _ in { _ in if done2.next() == 3 { stop2.request() } } }))
        let chunk = PollutantStage.femFolder(again).appendingPathComponent("checkpoints/chunk-000000.npy")
        var bytes = try Data(contentsOf: chunk)
        bytes[bytes.count - 3] ^= 0xFF
        try bytes.write(to: chunk)
        let repaired = try PollutantStage.run(config: Fixture.config(), dataDirectory: again)
        XCTAssertEqual(repaired.restoredChunks, 0)
        XCTAssertEqual(try outputs(again), try outputs(reference))
    }

    /// Rows of two OpenBLAS kernels differ in the last bits: a restart on another kernel and a merge of
    /// shards of two kernels are refused, naming both kernels and the files; the merge records the kernel
    /// and the counts of the runs that completed the shards.
    func testKernelsAreNotMixed() throws {
        let data = try dataDirectory("kernels")
        let stop = StopSignal(), done = SharedCounter()
        XCTAssertThrowsError(try PollutantStage.run(config: Fixture.config(overrides: ["fem.threads=1"]), dataDirectory: data,
                                                    blasKernel: "KernelA (test)", stop: stop,
                                                    makeProgress: { _ in { _ in if done.next() == 3 { stop.request() } } }))
        assertThrows(try PollutantStage.run(config: Fixture.config(), dataDirectory: data, blasKernel: "KernelB (test)"),
                     contains: ["KernelA (test)", "KernelB (test)", "checkpoints", "OPENBLAS_CORETYPE=KernelA"])
        let resumed = try PollutantStage.run(config: Fixture.config(), dataDirectory: data, blasKernel: "KernelA (test)")
        XCTAssertEqual(resumed.restoredChunks, 1)

        let config = try Fixture.config()
        _ = try PollutantStage.run(config: config, dataDirectory: data, shard: ShardSpec(index: 1, count: 2), blasKernel: "KernelA (test)")
        _ = try PollutantStage.run(config: config, dataDirectory: data, shard: ShardSpec(index: 2, count: 2), blasKernel: "KernelB (test)")
        assertThrows(try PollutantStage.merge(config: config, dataDirectory: data),
                     contains: ["different OpenBLAS kernels", "shard-0001-of-0002/shard.json", "KernelA (test)",
                                "shard-0002-of-0002/shard.json", "KernelB (test)"])
        _ = try PollutantStage.run(config: config, dataDirectory: data, shard: ShardSpec(index: 2, count: 2), blasKernel: "KernelA (test)")
        let merged = try PollutantStage.merge(config: config, dataDirectory: data)
        XCTAssertEqual(merged.blasKernel, "KernelA (test)")
        XCTAssertEqual(merged.solvedNow, 10, "every sample was solved by the runs that completed the shards")
        XCTAssertEqual(merged.details["merged_shards"]?.array?.count, 2)
    }

    /// Checkpoints of other settings are not reused (a changed mesh starts afresh).
    func testCheckpointsOfOtherSettingsAreDiscarded() throws {
        let data = try dataDirectory("stale")
        let stop = StopSignal(), done = SharedCounter()
        XCTAssertThrowsError(try PollutantStage.run(config: Fixture.config(overrides: ["fem.threads=1"]), dataDirectory: data, stop: stop,
                                                    makeProgress: { _ in { _ in if done.next() == 3 { stop.request() } } }))
        var log: [String] = []
        let other = try PollutantStage.run(config: Fixture.config(overrides: ["fem.nx=14"]), dataDirectory: data, log: { log.append($0) })
        XCTAssertEqual(other.restoredChunks, 0)
        XCTAssertTrue(log.contains { $0.contains("starting afresh") }, "\(log)")
    }

    /// Shards solve contiguous blocks; merged, they give the bytes of the unsharded run. Missing,
    /// overlapping and foreign shards are refused with messages that name them.
    func testShardsMergeToTheBytesOfAnUnshardedRun() throws {
        let reference = try dataDirectory("unsharded")
        _ = try PollutantStage.run(config: Fixture.config(), dataDirectory: reference)
        let data = try dataDirectory("sharded")
        let config = try Fixture.config()
        for k in 1...3 {
            let s = try PollutantStage.run(config: config, dataDirectory: data, shard: ShardSpec(index: k, count: 3))
            XCTAssertEqual(s.records.map(\.sample), Array(try ShardSpec(index: k, count: 3).range(total: 10)))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: PollutantStage.femFolder(data).appendingPathComponent("c3.npy").path))
        let merged = try PollutantStage.merge(config: config, dataDirectory: data)
        XCTAssertEqual(merged.records.count, 10)
        XCTAssertEqual(try outputs(data), try outputs(reference))

        let shards = PollutantStage.shardsFolder(data)
        // An overlapping shard of another split.
        _ = try PollutantStage.run(config: config, dataDirectory: data, shard: ShardSpec(index: 1, count: 2))
        assertThrows(try PollutantStage.merge(config: config, dataDirectory: data), contains: ["overlap", "shard-0001-of-0002", "shard-0001-of-0003"])
        try FileManager.default.removeItem(at: shards.appendingPathComponent("shard-0001-of-0002"))
        // A missing shard.
        let middle = shards.appendingPathComponent("shard-0002-of-0003")
        let kept = shards.deletingLastPathComponent().appendingPathComponent("kept")
        try FileManager.default.moveItem(at: middle, to: kept)
        assertThrows(try PollutantStage.merge(config: config, dataDirectory: data), contains: ["samples 3..<6", "in no shard"])
        // An unfinished shard (no shard.json).
        try FileManager.default.createDirectory(at: middle, withIntermediateDirectories: true)
        assertThrows(try PollutantStage.merge(config: config, dataDirectory: data), contains: ["shard-0002-of-0003", "did not finish"])
        try FileManager.default.removeItem(at: middle)
        try FileManager.default.moveItem(at: kept, to: middle)
        // Shards of other settings.
        assertThrows(try PollutantStage.merge(config: Fixture.config(overrides: ["fem.ny=10"]), dataDirectory: data),
                     contains: ["other inputs or [fem]/[wind] settings"])
        // Nothing to merge.
        let empty = try dataDirectory("noshards")
        assertThrows(try PollutantStage.merge(config: config, dataDirectory: empty), contains: ["holds no shards"])
    }

    func testShardSpecParsingAndRanges() throws {
        let s = try ShardSpec(parsing: "3/8")
        XCTAssertEqual(s.index, 3); XCTAssertEqual(s.count, 8); XCTAssertEqual(s.folderName, "shard-0003-of-0008")
        for n in [0, 1, 7, 1000] {
            let ranges = try (1...8).map { try ShardSpec(index: $0, count: 8).range(total: n) }
            XCTAssertEqual(ranges.first!.lowerBound, 0); XCTAssertEqual(ranges.last!.upperBound, n)
            for k in 1..<8 { XCTAssertEqual(ranges[k].lowerBound, ranges[k - 1].upperBound) }
        }
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", "-1/2"] {
            assertThrows(try ShardSpec(parsing: bad), contains: ["K/N"])
        }
    }

    /// A sample whose Newton iteration fails is recorded with its status and reason, its row is zeros,
    /// and the other samples are solved. One Newton step cannot reach 1e-10 for these nonlinear
    /// problems (they need 2–5), so `newton_max_iterations = 1` makes every solved sample fail.
    func testNewtonFailureIsRecordedNotFatal() throws {
        let data = try dataDirectory("newton")
        let summary = try PollutantStage.run(config: Fixture.config(overrides: ["fem.newton_max_iterations=1"]), dataDirectory: data)
        let status = try Npy.read(Int32.self, from: PollutantStage.femFolder(data).appendingPathComponent("status.npy")).values
        let c3 = try Npy.read(Double.self, from: PollutantStage.femFolder(data).appendingPathComponent("c3.npy"))
        for i in 0..<10 where i != 4 {
            XCTAssertEqual(status[i], FEMStatus.newtonNotConverged.rawValue, "sample \(i)")
            XCTAssertTrue(c3.row(i).allSatisfy { $0 == 0 })
            XCTAssertTrue(summary.records[i].reason!.contains("did not converge"), summary.records[i].reason!)
            XCTAssertEqual(summary.records[i].newtonIterations, 1)
        }
        XCTAssertEqual(summary.failures.count, 9)
        XCTAssertEqual(summary.successFraction, 0)
        XCTAssertEqual(summary.details["failures"]?.array?.count, 9)
    }

    /// A diverging problem fails with a typed status, never NaN: K12 = −2000 turns the reaction into
    /// production of c1 and c2 that feeds on itself (the batch's input check refuses K12 < 0, so the
    /// sample goes to the solver directly). Measured: the residual falls from 1.1e4 to ≈ 0.4 and
    /// stagnates there, "Newton did not converge in 30 iterations", status 2.
    func testDivergingSampleGetsAStatusNotNaN() throws {
        let config = try Fixture.config()
        let d = try PollutantDiscretization(settings: config.fem)
        let solver = PollutantSolver(discretization: d)
        // K12 < 0 makes c1 c2 a source of c1 and c2: the product blows up.
        let p = PollutantParameters(k12: -2000, k3: 1, diffusion: 0.01, u0: 0.05, uh: 0.0, uv: 0)
        let outcome = solver.solveSample(index: 7, parameters: p, windStatus: .solved, profile: try Fixture.profile(PollutantParameters(k12: 1, k3: 1, diffusion: 0.1, u0: 0.05, uh: 0, uv: 0)), nu: 1e-5, x0: 0.1)
        // What is promised whatever the rounding, which differs between BLAS kernels (so never assert that a method fails): either
        // Newton meets its tolerance with a finite field, or the sample gets a typed failure status,
        // a reason, finite residuals and zeros for c3 — never NaN.
        XCTAssertTrue(outcome.record.relativeResiduals.allSatisfy { $0.isFinite })
        if outcome.record.status == .converged {
            XCTAssertLessThan(try XCTUnwrap(outcome.record.finalRelativeResidual), config.fem.newtonTolerance * 10)
            XCTAssertTrue(outcome.c3.allSatisfy { $0.isFinite })
        } else {
            XCTAssertTrue([.newtonNotConverged, .lineSearchFailed, .nonFinite].contains(outcome.record.status), "\(outcome.record.status)")
            XCTAssertTrue(outcome.c3.allSatisfy { $0 == 0 })
            XCTAssertNotNil(outcome.record.reason)
        }
    }

    func testBadInputsGiveClearErrors() throws {
        let config = try Fixture.config()
        // Wrong shape of params.npy.
        let shape = try dataDirectory("shape")
        try Npy.write([Double](repeating: 1, count: 50), shape: [10, 5], to: BatchInputs.paramsURL(shape))
        assertThrows(try PollutantStage.run(config: config, dataDirectory: shape), contains: ["params.npy", "N × 6", "(10, 5)"])
        // A NaN parameter.
        let nan = try dataDirectory("nan")
        var rows = Fixture.params
        rows[3][1] = .nan
        try Npy.write(rows.flatMap { $0 }, shape: [10, 6], to: BatchInputs.paramsURL(nan))
        assertThrows(try PollutantStage.run(config: config, dataDirectory: nan), contains: ["params.npy", "sample 3", "K3 = nan", "not a finite number"])
        // A missing Blasius file.
        let missing = try dataDirectory("missing")
        try FileManager.default.removeItem(at: BatchInputs.windURL(missing, "profiles.npy"))
        assertThrows(try PollutantStage.run(config: config, dataDirectory: missing), contains: ["wind/profiles.npy", "is missing", "blasius-solve"])
        // Wind files of other parameters.
        let foreign = try dataDirectory("foreign")
        rows = Fixture.params
        rows[2][4] = 0.15
        try Npy.write(rows.flatMap { $0 }, shape: [10, 6], to: BatchInputs.paramsURL(foreign))
        assertThrows(try PollutantStage.run(config: config, dataDirectory: foreign), contains: ["sample 2", "other parameters", "rerun blasius-solve"])
        // Another ν than the wind files were made with.
        let nu = try dataDirectory("nu")
        assertThrows(try PollutantStage.run(config: Fixture.config(overrides: ["wind.nu=2e-5"]), dataDirectory: nu), contains: ["f_w", "ν = 2e-05"])
        // Wind status of another length.
        let short = try dataDirectory("short")
        try Npy.write([Int32](repeating: 0, count: 9), shape: [9], to: BatchInputs.windURL(short, "status.npy"))
        assertThrows(try PollutantStage.run(config: config, dataDirectory: short), contains: ["status.npy", "expected 10 status codes"])
        // A corrupt profile of a sample marked solved.
        let corrupt = try dataDirectory("corrupt")
        var profiles = try Npy.read(Double.self, from: BatchInputs.windURL(corrupt, "profiles.npy"))
        profiles.values[4 * 64 * 6 + 4 * 10] = 0   // η of node 10 of sample 6 no longer increases
        try Npy.write(profiles, to: BatchInputs.windURL(corrupt, "profiles.npy"))
        assertThrows(try PollutantStage.run(config: config, dataDirectory: corrupt), contains: ["profiles.npy", "sample 6", "increase strictly"])
    }

    /// The Figure 2 variations: the centre and each parameter at both ends of its range.
    func testFigureFieldVariations() throws {
        let config = try Fixture.config()
        let v = try FigureFields.variations(center: config.fem.fieldsCenter, ranges: config.sampling.ranges)
        XCTAssertEqual(v.count, 13)
        XCTAssertEqual(v[0].name, "center"); XCTAssertEqual(v[0].parameters.values, [10, 5, 0.25, 1, 0.1, 0])
        XCTAssertEqual(v[1].name, "K12_low"); XCTAssertEqual(v[1].parameters.k12, 1)
        XCTAssertEqual(v[12].name, "u_v_high"); XCTAssertEqual(v[12].parameters.uv, 0.2); XCTAssertEqual(v[12].parameters.uh, 0.1)
        for (k, variation) in v.dropFirst().enumerated() {
            let changed = zip(variation.parameters.values, v[0].parameters.values).filter { $0 != $1 }.count
            XCTAssertLessThanOrEqual(changed, 1, "variation \(k) changes one parameter")
        }
        // Solved and written on the tiny mesh: 13 files and the index.
        let folder = try Fixture.temporaryDirectory("fields")
        cleanup.append(folder)
        let d = try PollutantDiscretization(settings: config.fem)
        let files = try FigureFields.write(config: config, discretization: d, folder: folder)
        XCTAssertEqual(files.count, 14)
        let index = try JSONValue.parse(Data(contentsOf: folder.appendingPathComponent("fields.json")))
        XCTAssertEqual(index.array?.count, 13)
        XCTAssertTrue(index.array!.allSatisfy { $0["file"] != nil }, "every variation has a wind profile and converges")
    }
}
