import Foundation
import XCTest
import _TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Never a silent wrong answer: inputs are checked against the outputs they came from, refused
/// commands leave complete folders complete, an empty data folder is refused, SIGTERM/SIGINT stop a
/// stage cleanly, and pipeline.sh reruns what is stale, reads the configuration as the stages do and
/// passes signals on.
extension FaultTests {
    // MARK: Inputs checked against the outputs they came from

    func testEveryStageRefusesParametersThatAreNotTheOnesItsInputsCameFrom() throws {
        let data = try copyOfSmokeData()
        // Another seed overwrites samples/; wind/, fem/ and the models still belong to the old parameters.
        XCTAssertEqual(try run("lhs-sample", common(data) + ["--seed", "5"]).status, 0)
        let expected = "Error: \(data.path)/samples/params.npy is not the file \(data.path)/wind was made from: SHA-256 "
        let commands: [(String, [String])] = [
            ("pollutant-fem", common(data)), ("train-dmd", common(data) + ["--no-dmd"]),
            ("train-dmd", ["fit", "--models", "pod_gp"] + common(data)), ("evaluate", common(data)),
            ("uq-propagate", common(data) + ["--set", "uq.model=plain"]),
            ("train-dmd", ["compare"] + common(data)),
            ("train-dmd", ["sweep", "--m", "2", "--s", "1", "--epochs", "1"] + common(data)),
            ("train-dmd", ["learning-curve", "--sizes", "4", "--models", "pod_gp"] + common(data)),
            ("train-dmd", ["study", "--seeds", "1", "--epochs", "3"] + common(data)),
        ]
        for (exe, arguments) in commands {
            let o = try run(exe, arguments)
            assertFails(o, expected)
            XCTAssertTrue(o.firstLine.contains("in \(data.path)/wind/manifest.json; rerun blasius-solve"), o.firstLine)
            XCTAssertEqual(o.lines.count, 1, o.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: data.appendingPathComponent("report/metrics.json").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: data.appendingPathComponent("uq/manifest.json").path))
        // The wind stage catches up; fem/ is still the old parameters' and says so.
        XCTAssertEqual(try run("blasius-solve", common(data)).status, 0)
        assertFails(try run("evaluate", common(data)), "Error: \(data.path)/samples/params.npy is not the file \(data.path)/fem was made from")
    }

    func testModelOfAnotherDatasetOfTheSameShapeIsRefused() throws {
        let data = try copyOfSmokeData()
        // Other c3 values of the same shape: what a model trained elsewhere was made from.
        let c3 = data.appendingPathComponent("fem/c3.npy")
        var bytes = try Data(contentsOf: c3)
        bytes[bytes.count - 1] ^= 0x01
        try bytes.write(to: c3)
        let expected = "Error: \(c3.path) is not the file \(data.path)/models/plain was made from"
        assertFails(try run("evaluate", common(data)), expected)
        assertFails(try run("uq-propagate", common(data) + ["--set", "uq.model=plain"]), expected)
    }

    func testUnfinishedUpstreamFolderIsRefused() throws {
        let data = try copyOfSmokeData()
        // A fem run that stopped after removing the earlier run's manifest: c3.npy may be the old one.
        try FileManager.default.removeItem(at: data.appendingPathComponent("fem/manifest.json"))
        assertFails(try run("train-dmd", common(data) + ["--no-dmd"]),
                    "Error: \(data.path)/fem/manifest.json is missing: \(data.path)/fem is not the finished output of pollutant-fem")
    }

    func testFEMManifestRecordsTheParametersItRead() throws {
        let data = try copyOfSmokeData()
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: data.appendingPathComponent("fem/manifest.json"))) as! [String: Any]
        let inputs = manifest["inputs"] as! [[String: Any]]
        let params = try XCTUnwrap(inputs.first { ($0["path"] as! String).hasSuffix("samples/params.npy") })
        let wind = try JSONSerialization.jsonObject(with: Data(contentsOf: data.appendingPathComponent("wind/manifest.json"))) as! [String: Any]
        let windParams = try XCTUnwrap((wind["inputs"] as! [[String: Any]]).first)
        XCTAssertEqual(params["sha256"] as? String, windParams["sha256"] as? String)
    }

    // MARK: A refused merge changes nothing

    func testRefusedMergeLeavesACompleteFEMFolderComplete() throws {
        let data = try copyOfSmokeData()
        let manifest = data.appendingPathComponent("fem/manifest.json")
        let before = try Data(contentsOf: manifest)
        assertFails(try run("pollutant-fem", ["merge"] + common(data)), "Error: pollutant-fem merge: \(data.path)/fem/shards holds no shards")
        XCTAssertEqual(try? Data(contentsOf: manifest), before, "a refused merge removed the complete folder's manifest")
        XCTAssertEqual(try run("pollutant-fem", ["run", "--shard", "1/2"] + common(data)).status, 0)
        assertFails(try run("pollutant-fem", ["merge"] + common(data)), "are in no shard (the last shard is missing)")
        XCTAssertEqual(try? Data(contentsOf: manifest), before, "a refused merge removed the complete folder's manifest")
    }

    // MARK: An empty data folder

    func testEmptyDataDirIsRefusedByEveryStage() throws {
        let folder = try emptyFolder()
        for (exe, extra) in [("lhs-sample", []), ("blasius-solve", []), ("pollutant-fem", []), ("train-dmd", []), ("train-dmd", ["fit"]),
                             ("uq-propagate", []), ("evaluate", [])] as [(String, [String])] {
            let o = try runIn(folder, exe, extra + ["--config", Self.smokeConfig, "--data-dir", ""])
            assertFails(o, "Error: --data-dir is empty: name the data folder", firstLine: false)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [], "\(exe) wrote into the current folder")
        }
    }

    // MARK: SIGTERM and SIGINT

    func testTermStopsTheFEMStageCleanlyAndReleasesTheLock() throws {
        let data = try copyOfSmokeData()
        let fem = data.appendingPathComponent("fem")
        // A batch slow enough (about 30× the smoke mesh per sample, one thread) that it is still running when
        // the signal comes, also in an optimised build (a 48 × 32 mesh sometimes finished its last sample first).
        let process = try start("pollutant-fem", common(data) + ["--set", "fem.threads=1", "--set", "fem.nx=128", "--set", "fem.ny=96"])
        Thread.sleep(forTimeInterval: 1.5)
        XCTAssertTrue(process.isRunning, "the batch finished before the signal; make it slower")
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .exit, "killed by the signal instead of stopping")
        XCTAssertEqual(process.terminationStatus, 143)
        let left = try FileManager.default.contentsOfDirectory(atPath: fem.path).filter { $0.contains(".tmp-") }
        XCTAssertEqual(left, [], "temporaries left in fem/")
        XCTAssertTrue(lockIsFree(fem))
    }

    // MARK: pipeline.sh

    func testPipelineRerunsAStageWhoseInputHashChangedEvenWithAnOldTime() throws {
        let data = try copyOfSmokeData()
        XCTAssertEqual(try pipeline(Self.smokeConfig, data, ["lhs", "wind"]).status, 0)
        let params = data.appendingPathComponent("samples/params.npy")
        let time = try FileManager.default.attributesOfItem(atPath: params.path)[.modificationDate] as! Date
        XCTAssertEqual(try run("lhs-sample", common(data) + ["--seed", "5"]).status, 0)
        // Other parameters with the old time (as `cp -p` or a restore from a backup gives).
        try FileManager.default.setAttributes([.modificationDate: time.addingTimeInterval(-3600)], ofItemAtPath: params.path)
        let o = try pipeline(Self.smokeConfig, data, ["wind"])
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertTrue(o.stderr.contains("[wind] running blasius-solve"), o.stderr)
    }

    func testPipelineRerunsAStageWhoseOutputsAnotherRunRewrote() throws {
        let data = try copyOfSmokeData()
        XCTAssertEqual(try pipeline(Self.smokeConfig, data, ["lhs"]).status, 0)
        XCTAssertTrue(try pipeline(Self.smokeConfig, data, ["lhs"]).stderr.contains("[lhs] up to date"))
        // By hand, with another seed than the configuration's.
        XCTAssertEqual(try run("lhs-sample", common(data) + ["--seed", "5"]).status, 0)
        let o = try pipeline(Self.smokeConfig, data, ["lhs"])
        XCTAssertTrue(o.stderr.contains("[lhs] running lhs-sample"), o.stderr)
    }

    func testPipelineReadsAConfigurationWithAByteOrderMarkAsTheStagesDo() throws {
        let data = try copyOfSmokeData()
        let text = try String(contentsOfFile: Self.smokeConfig, encoding: .utf8).replacingOccurrences(of: "[uq]\n", with: "[uq]\nmodel = \"plain\"\n")
        let config = data.appendingPathComponent("bom.toml")
        try (Data([0xEF, 0xBB, 0xBF]) + Data(text.utf8)).write(to: config)
        let first = try pipeline(config.path, data, ["uq"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let second = try pipeline(config.path, data, ["uq"])
        XCTAssertTrue(second.stderr.contains("[uq] up to date"), second.stderr)
        // A configuration Python cannot read stops the script with the reason, never a silent default.
        try Data("[uq\n".utf8).write(to: config)
        let broken = try pipeline(config.path, data, ["uq"])
        XCTAssertNotEqual(broken.status, 0)
        XCTAssertTrue(broken.stderr.contains("cannot read the configuration \(config.path)"), broken.stderr)
    }

    func testPipelinePassesTermToTheRunningStage() throws {
        let data = try copyOfSmokeData()
        // A mesh slow enough (about 30× the smoke mesh per sample) that the stage is still running when
        // the signal comes 3 s later, also in an optimised build.
        let text = try String(contentsOfFile: Self.smokeConfig, encoding: .utf8).replacingOccurrences(of: "nx = 24\nny = 16\n", with: "nx = 128\nny = 96\nthreads = 1\n")
        let config = data.appendingPathComponent("slow.toml")
        try text.write(to: config, atomically: true, encoding: .utf8)
        let process = try startPipeline(config.path, data, ["fem"])
        Thread.sleep(forTimeInterval: 3)
        XCTAssertTrue(process.isRunning, "the stage finished before the signal; make it slower")
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 143)
        XCTAssertTrue(lockIsFree(data.appendingPathComponent("fem")), "the stage still holds fem/.lock after pipeline.sh stopped")
    }

    // MARK: Helpers

    /// True when nobody holds FOLDER/.lock.
    func lockIsFree(_ folder: URL) -> Bool {
        let fd = open(folder.appendingPathComponent(".lock").path, O_RDWR)
        guard fd >= 0 else { return true }
        defer { close(fd) }
        return flock(fd, LOCK_EX | LOCK_NB) == 0
    }

    /// Runs `name` with the current folder `folder`.
    func runIn(_ folder: URL, _ name: String, _ arguments: [String]) throws -> Outcome {
        let child = try runChild(URL(fileURLWithPath: try executable(name)), arguments, in: folder)
        return Outcome(status: child.status, signalled: child.signalled, stderr: child.output)
    }

    /// Starts `name` without waiting (stderr discarded).
    func start(_ name: String, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try executable(name))
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = "1"
        process.environment = environment
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Starts pipeline.sh on these executables (PIPELINE_BIN: no build).
    func startPipeline(_ config: String, _ data: URL, _ stages: [String], errors: Pipe? = nil) throws -> Process {
        guard let bin = Self.binFolder() else { throw XCTSkip("the executables are not built") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Self.packageRoot.appendingPathComponent("pipeline.sh").path, "--config", config, "--data-dir", data.path] + stages
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = "1"
        environment["PIPELINE_BIN"] = bin.path
        process.environment = environment
        process.standardError = errors ?? FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    func pipeline(_ config: String, _ data: URL, _ stages: [String]) throws -> Outcome {
        let errors = Pipe()
        let process = try startPipeline(config, data, stages, errors: errors)
        let text = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
                       stderr: String(decoding: text, as: UTF8.self))
    }
}
