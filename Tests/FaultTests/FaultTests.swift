import Foundation
import XCTest
import _TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The stage executables run as a user runs them, on faulty input: each test asserts the exit status
/// (never a signal) and the error line on stderr. The executables are those built beside the test
/// bundle (`builtExecutableFolder`); the tests are skipped when they are not built.
final class FaultTests: XCTestCase {
    struct Outcome {
        var status: Int32
        var signalled: Bool
        var stderr: String
        var lines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
        var firstLine: String { lines.first ?? "" }
        /// The first line ArgumentParser prints for an error ("Error: …").
        var errorLine: String { lines.first { $0.hasPrefix("Error: ") } ?? "" }
    }

    static let packageRoot = _TestSupport.packageRoot(of: #filePath)
    static var smokeConfig: String { packageRoot.appendingPathComponent("configs/smoke.toml").path }

    /// FAULT_TESTS_BIN: another build's executables (e.g. to check that these tests fail on an older build).
    static func binFolder() -> URL? {
        builtExecutableFolder(holding: "evaluate", packageRoot: packageRoot, override: ProcessInfo.processInfo.environment["FAULT_TESTS_BIN"])
    }

    func executable(_ name: String) throws -> String {
        guard let bin = Self.binFolder(), FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent(name).path) else {
            throw XCTSkip("\(name) is not built (swift build); these tests run the executables")
        }
        return bin.appendingPathComponent(name).path
    }

    /// Runs `name arguments…`; with `fileSizeBlocks`, under `ulimit -f` (512-byte blocks) through /bin/sh.
    @discardableResult
    func run(_ name: String, _ arguments: [String], fileSizeBlocks: Int? = nil) throws -> Outcome {
        let exe = try executable(name)
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = "1"
        let child: ChildOutcome
        if let blocks = fileSizeBlocks {
            child = try runChild(URL(fileURLWithPath: "/bin/sh"), ["-c", "ulimit -f \(blocks); exec \"$0\" \"$@\"", exe] + arguments,
                                 environment: environment)
        } else {
            child = try runChild(URL(fileURLWithPath: exe), arguments, environment: environment)
        }
        return Outcome(status: child.status, signalled: child.signalled, stderr: child.output)
    }

    func common(_ data: URL) -> [String] { ["--config", Self.smokeConfig, "--data-dir", data.path] }

    func assertFails(_ outcome: Outcome, _ expected: String, firstLine: Bool = true, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(outcome.signalled, "killed by a signal: \(outcome.stderr)", file: file, line: line)
        XCTAssertNotEqual(outcome.status, 0, outcome.stderr, file: file, line: line)
        let text = firstLine ? outcome.firstLine : outcome.errorLine
        XCTAssertTrue(text.contains(expected), "expected «\(expected)» in «\(text)»; stderr:\n\(outcome.stderr)", file: file, line: line)
        XCTAssertFalse(outcome.stderr.contains("NSCocoaErrorDomain"), outcome.stderr, file: file, line: line)
    }

    // MARK: - The smoke data folder, built once

    nonisolated(unsafe) static var fixture: URL?
    nonisolated(unsafe) static var fixtureError: String?

    /// samples, wind, fem (with fields) and both models of configs/smoke.toml, in a temporary folder.
    func smokeData() throws -> URL {
        _ = try executable("evaluate")
        if let error = Self.fixtureError { throw XCTSkip("the smoke data could not be built: \(error)") }
        if Self.fixture == nil {
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("fault-fixture-\(getpid())")
            try? FileManager.default.removeItem(at: root)
            for (exe, extra) in [("lhs-sample", []), ("blasius-solve", []), ("pollutant-fem", []), ("train-dmd", ["--no-dmd"]), ("train-dmd", [])] as [(String, [String])] {
                let o = try run(exe, common(root) + extra)
                guard o.status == 0 else {
                    Self.fixtureError = "\(exe) \(extra) exited \(o.status): \(o.stderr)"
                    XCTFail(Self.fixtureError!)
                    throw XCTSkip(Self.fixtureError!)
                }
            }
            Self.fixture = root
        }
        return Self.fixture!
    }

    override class func tearDown() {
        if let fixture { try? FileManager.default.removeItem(at: fixture) }
        fixture = nil
        super.tearDown()
    }

    /// A private copy of the smoke data folder.
    func copyOfSmokeData() throws -> URL {
        let source = try smokeData()
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("fault-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: source, to: copy)
        addTeardownBlock { try? FileManager.default.removeItem(at: copy) }
        return copy
    }

    func emptyFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fault-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    // MARK: 1, 2. evaluate --models

    func testRepeatedModelIsAnErrorNotATrap() throws {
        let data = try copyOfSmokeData()
        for list in ["plain,plain", "dmd,plain,dmd"] {
            let o = try run("evaluate", common(data) + ["--models", list])
            assertFails(o, "Error: evaluate: --models \"\(list)\": model ")
            XCTAssertTrue(o.firstLine.contains("is named twice; expected each model once"), o.firstLine)
        }
    }

    func testModelListIsTrimmedAndUnknownOrMissingModelsAreErrors() throws {
        let data = try copyOfSmokeData()
        let spaced = try run("evaluate", common(data) + ["--models", "plain, dmd"])
        XCTAssertEqual(spaced.status, 0, spaced.stderr)
        let metrics = try String(contentsOf: data.appendingPathComponent("report/metrics.json"), encoding: .utf8)
        XCTAssertTrue(metrics.contains("\"dmd\""), "the spaced name was dropped")

        let bogus = try run("evaluate", common(data) + ["--models", "bogus,plain"])
        assertFails(bogus, "Error: evaluate: --models: \(data.path)/models/bogus holds no trained model (no model.json)")
        let empty = try run("evaluate", common(data) + ["--models", "plain,"])
        assertFails(empty, "Error: evaluate: --models \"plain,\": an empty model name")

        try FileManager.default.removeItem(at: data.appendingPathComponent("models/dmd"))
        let named = try run("evaluate", common(data) + ["--models", "plain,dmd"])
        assertFails(named, "Error: evaluate: --models: \(data.path)/models/dmd holds no trained model")
    }

    func testMissingDefaultModelIsStatedOnStderrAndInTheReport() throws {
        let data = try copyOfSmokeData()
        try FileManager.default.removeItem(at: data.appendingPathComponent("models/dmd"))
        let o = try run("evaluate", common(data))
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertEqual(o.firstLine, "evaluate: warning: \(data.path)/models/dmd holds no trained model; the report says so and covers the others")
        let report = try String(contentsOf: data.appendingPathComponent("report/report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("Model dmd is missing"), report)
        let metrics = try String(contentsOf: data.appendingPathComponent("report/metrics.json"), encoding: .utf8)
        XCTAssertTrue(metrics.contains("\"missing_models\""), metrics)
    }

    // MARK: 3. One run per output folder

    /// Holds FOLDER/.lock as another run would (flock, our pid in the file).
    func holdLock(_ folder: URL) throws -> Int32 {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let fd = open(folder.appendingPathComponent(".lock").path, O_RDWR | O_CREAT, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        XCTAssertEqual(flock(fd, LOCK_EX | LOCK_NB), 0)
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBufferPointer { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return fd
    }

    func testEveryStageRefusesAFolderInUse() throws {
        let data = try copyOfSmokeData()
        let stages: [(exe: String, extra: [String], folder: String)] = [
            ("lhs-sample", [], "samples"), ("blasius-solve", [], "wind"), ("pollutant-fem", [], "fem"),
            ("train-dmd", ["--no-dmd"], "models/plain"), ("evaluate", [], "report"),
        ]
        for stage in stages {
            let folder = data.appendingPathComponent(stage.folder)
            let fd = try holdLock(folder)
            let before = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
            let o = try run(stage.exe, common(data) + stage.extra)
            close(fd)
            assertFails(o, "Error: \(folder.path) is in use by another run (pid \(getpid())); wait for it to finish or stop it")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(), before, "\(stage.exe) wrote into a locked folder")
        }
        // Subcommand stages: the fit stage's model folders and the uncertainty study's folder.
        for (exe, arguments, folderName) in [("train-dmd", ["fit", "--models", "pod_nn"], "models/pod_nn"), ("uq-propagate", [], "uq")] {
            let folder = data.appendingPathComponent(folderName)
            let fd = try holdLock(folder)
            let before = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
            let o = try run(exe, arguments + common(data))
            close(fd)
            assertFails(o, "Error: \(folder.path) is in use by another run (pid \(getpid())); wait for it to finish or stop it")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(), before, "\(exe) wrote into a locked folder")
        }
        // Released (the holder closed it): the stage runs.
        let again = try run("lhs-sample", common(data))
        XCTAssertEqual(again.status, 0, again.stderr)
    }

    // MARK: 4. A write that fails fails the stage; no stale fields

    func testFullDiskWhileWritingFieldsFailsTheStageAndLeavesNoStaleFields() throws {
        let data = try copyOfSmokeData()
        let fem = data.appendingPathComponent("fem")
        let c3Size = try FileManager.default.attributesOfItem(atPath: fem.appendingPathComponent("c3.npy").path)[.size] as! Int
        let vtuSize = try FileManager.default.attributesOfItem(atPath: fem.appendingPathComponent("fields/center.vtu").path)[.size] as! Int
        let blocks = (c3Size + 8192) / 512 + 1
        XCTAssertGreaterThan(vtuSize, blocks * 512, "the limit must let c3.npy through and stop the fields")
        // A field of an earlier run (another mesh) that this run does not write.
        try Data("old".utf8).write(to: fem.appendingPathComponent("fields/old_mesh.vtu"))

        // Without the sensitivities, whose checkpoint file would hit the limit before the fields do.
        let o = try run("pollutant-fem", common(data) + ["--set", "fem.nx=20", "--set", "fem.sensitivities=false"], fileSizeBlocks: blocks)
        assertFails(o, "Error: pollutant-fem: cannot write the Figure 2 fields: \(fem.path)/fields/", firstLine: false)
        XCTAssertTrue(o.errorLine.contains(".vtu: cannot write: File too large"), o.errorLine)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fem.appendingPathComponent("fields").path), "stale fields left beside the new c3")
        XCTAssertFalse(FileManager.default.fileExists(atPath: fem.appendingPathComponent("manifest.json").path), "an earlier manifest left beside the new c3")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: fem.path).filter { $0.hasPrefix(".fields") }
        XCTAssertEqual(leftovers, [])

        // Without the limit the fields are rewritten whole: the earlier run's extra file is gone.
        try FileManager.default.createDirectory(at: fem.appendingPathComponent("fields"), withIntermediateDirectories: true)
        try Data("old".utf8).write(to: fem.appendingPathComponent("fields/old_mesh.vtu"))
        let ok = try run("pollutant-fem", common(data))
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fem.appendingPathComponent("fields/old_mesh.vtu").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: fem.appendingPathComponent("fields/center.vtu").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: fem.appendingPathComponent("manifest.json").path))
    }

    func testFileSizeLimitOnTheFirstOutputIsAnErrorNotASignal() throws {
        let data = try emptyFolder()
        let o = try run("lhs-sample", common(data), fileSizeBlocks: 0)
        assertFails(o, "Error: \(data.path)/samples/params.npy: cannot write: File too large")
    }

    // MARK: 5. A damaged checkpoint is never resumed

    func testFlippedByteInCheckpointIsRefusedOrRestartedWithTheReason() throws {
        let data = try copyOfSmokeData()
        let checkpoint = data.appendingPathComponent("models/plain/checkpoint.bin")
        var bytes = try Data(contentsOf: checkpoint)
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: checkpoint)

        let refused = try run("train-dmd", common(data) + ["--no-dmd", "--resume"])
        assertFails(refused, "Error: \(checkpoint.path): checksum mismatch: the file is damaged or truncated", firstLine: false)

        let restarted = try run("train-dmd", common(data) + ["--no-dmd", "--resume-if-compatible"])
        XCTAssertEqual(restarted.status, 0, restarted.stderr)
        XCTAssertTrue(restarted.lines.contains { $0.contains("cannot be read") && $0.contains("checksum mismatch") }, restarted.stderr)
        XCTAssertTrue(restarted.lines.contains { $0.contains("starting afresh") }, restarted.stderr)
    }

    // MARK: 6. Files where folders belong

    func testFileWhereAFolderBelongsIsOneLineNamingThePath() throws {
        let root = try emptyFolder()
        let file = root.appendingPathComponent("data")
        try Data("x".utf8).write(to: file)
        let o = try run("lhs-sample", common(file))
        assertFails(o, "Error: \(file.path): expected a folder, found a file")

        let data = try copyOfSmokeData()
        let fem = data.appendingPathComponent("fem")
        try FileManager.default.removeItem(at: fem)
        try Data("x".utf8).write(to: fem)
        let p = try run("pollutant-fem", common(data))
        assertFails(p, "Error: \(fem.path): expected a folder, found a file")
    }

    // MARK: 7. Early, well-blamed configuration errors

    func testTrainFractionOneIsRejectedUpFrontNamingTheKey() throws {
        let data = try emptyFolder()
        let set = try run("lhs-sample", common(data) + ["--set", "sampling.train_fraction=1.0"])
        assertFails(set, "Error: --set sampling.train_fraction=1.0: key 'sampling.train_fraction': value 1.0 leaves no test sample")
        XCTAssertTrue(set.firstLine.contains("expected 0 ≤ value < 1 with at least one test sample"), set.firstLine)

        let config = data.appendingPathComponent("all-train.toml")
        try "[sampling]\nn_samples = 10\ntrain_fraction = 0.96\n".write(to: config, atomically: true, encoding: .utf8)
        let file = try run("lhs-sample", ["--config", config.path, "--data-dir", data.path])
        assertFails(file, "Error: \(config.path): key 'sampling.train_fraction': value 0.96 leaves no test sample")
    }

    func testOutOfRangeFlagIsBlamedOnTheFlagNotTheFile() throws {
        let data = try copyOfSmokeData()
        let epochs = try run("train-dmd", common(data) + ["--no-dmd", "--epochs", "0"])
        assertFails(epochs, "Error: --epochs 0: key 'training.epochs': value 0 is out of range")
        let samples = try run("lhs-sample", common(data) + ["--samples", "0"])
        assertFails(samples, "Error: --samples 0: key 'sampling.n_samples': value 0 is out of range")
        let set = try run("pollutant-fem", common(data) + ["--set", "fem.threads=0"])
        assertFails(set, "Error: --set fem.threads=0: key 'fem.threads': value 0 is out of range")
        let unknown = try run("lhs-sample", common(data) + ["--set", "sampling.bogus=1"])
        assertFails(unknown, "Error: --set sampling.bogus=1: key 'sampling.bogus': unknown key")
    }

    func testThreadsZeroIsRejected() throws {
        let data = try copyOfSmokeData()
        let params = data.appendingPathComponent("sets.csv")
        try "10,5,0.1,1,0,0\n".write(to: params, atomically: true, encoding: .utf8)
        let predict = try run("train-dmd", ["predict", "--model", data.appendingPathComponent("models/plain").path, "--params", params.path,
                                            "--out", data.appendingPathComponent("p.npy").path, "--threads", "0"])
        assertFails(predict, "Error: --threads must be at least 1, got 0")
        let train = try run("train-dmd", common(data) + ["--no-dmd", "--threads", "0"])
        assertFails(train, "Error: --threads must be at least 1, got 0")
    }

    func testEmptyConfigurationSaysEveryDefaultIsUsed() throws {
        let data = try emptyFolder()
        let config = data.appendingPathComponent("empty.toml")
        try "# nothing here\n".write(to: config, atomically: true, encoding: .utf8)
        let o = try run("lhs-sample", ["--config", config.path, "--data-dir", data.path, "--samples", "5"])
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertEqual(o.firstLine, "note: \(config.path) sets no keys: every value not given by a flag or --set is the default, "
                       + "i.e. the paper's full setup (1000 samples, a 120 x 80 mesh, 3000 epochs)")
        let smoke = try run("lhs-sample", common(data))
        XCTAssertFalse(smoke.stderr.contains("sets no keys"), smoke.stderr)
    }

    // MARK: 8. Temporaries of killed writers

    func testStaleTemporariesOfDeadWritersAreRemovedLiveOnesKept() throws {
        let data = try emptyFolder()
        let samples = data.appendingPathComponent("samples")
        try FileManager.default.createDirectory(at: samples, withIntermediateDirectories: true)
        // A pid that no longer runs: a child that has exited and been reaped.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let dead = child.processIdentifier
        XCTAssertNotEqual(kill(dead, 0), 0)
        let stale = samples.appendingPathComponent(".params.npy.tmp-\(dead)-12345")
        let live = samples.appendingPathComponent(".params.npy.tmp-\(getpid())-67890")   // this test process runs
        let other = samples.appendingPathComponent(".other.npy.tmp-\(dead)-1")             // another output's: not touched
        for url in [stale, live, other] { try Data("partial".utf8).write(to: url) }
        let o = try run("lhs-sample", common(data))
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale.path), "the dead writer's temporary stays")
        XCTAssertTrue(FileManager.default.fileExists(atPath: live.path), "a live writer's temporary was removed")
        XCTAssertTrue(FileManager.default.fileExists(atPath: other.path))
    }

    // MARK: Messages that name the cause

    /// A negative number after a space is a value, not an unknown option: the range check names it.
    func testNegativeFlagValueIsOutOfRangeNotMissing() throws {
        let data = try copyOfSmokeData()
        assertFails(try run("lhs-sample", common(data) + ["--samples", "-5"]), "Error: --samples -5: key 'sampling.n_samples': value -5 is out of range")
        assertFails(try run("train-dmd", common(data) + ["--no-dmd", "--epochs", "-3"]), "Error: --epochs -3: key 'training.epochs': value -3 is out of range")
    }

    /// A data folder that does not exist is a mistyped --data-dir: refused, and nothing is created there.
    func testMistypedDataDirIsRefusedAndLeavesNothingBehind() throws {
        let parent = try emptyFolder()
        let typo = parent.appendingPathComponent("dtaa")
        for (name, arguments) in [("blasius-solve", [String]()), ("pollutant-fem", []), ("train-dmd", ["--no-dmd"]), ("train-dmd", ["fit"]),
                                  ("uq-propagate", []), ("evaluate", [])] {
            let outcome = try run(name, (arguments == ["fit"] ? ["fit"] : []) + common(typo) + (arguments == ["fit"] ? [] : arguments))
            assertFails(outcome, "Error: --data-dir \(typo.path): no such folder")
            XCTAssertFalse(FileManager.default.fileExists(atPath: typo.path), "\(name) \(arguments) created \(typo.path)")
        }
    }

    /// A params.npy of no rows is named as such by the wind and the FEM stage (not "0.0 % converged").
    func testEmptyParameterTableIsNamed() throws {
        let data = try copyOfSmokeData()
        let params = data.appendingPathComponent("samples/params.npy")
        let dict = Array("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 6), }".utf8)
        let empty = Data([0x93] + Array("NUMPY".utf8) + [1, 0, 118, 0] + dict
                         + Array(repeating: UInt8(ascii: " "), count: 118 - dict.count - 1) + [0x0A])
        try empty.write(to: params)
        let wind = try run("blasius-solve", common(data))
        XCTAssertNotEqual(wind.status, 0)
        XCTAssertTrue(wind.stderr.contains("params.npy holds no samples (shape (0, 6))"), wind.stderr)
    }

    /// train_fraction must leave a training sample as well as a test sample, refused at lhs already.
    func testTrainFractionWithoutTrainingSampleIsRejectedAtLHS() throws {
        let data = try emptyFolder()
        assertFails(try run("lhs-sample", common(data) + ["--set", "sampling.train_fraction=0.0"]),
                    "Error: --set sampling.train_fraction=0.0: key 'sampling.train_fraction': value 0.0 leaves no training sample")
        let one = try run("lhs-sample", common(data) + ["--samples", "1", "--set", "sampling.train_fraction=0.4"])
        XCTAssertNotEqual(one.status, 0)
        XCTAssertTrue(one.stderr.contains("leaves no") && one.stderr.contains("train_fraction"), one.stderr)
    }

    /// Wind profiles made with another profile_points than the configuration's are refused by the FEM stage.
    func testWindOfAnotherProfileResolutionIsRefusedByFEM() throws {
        let data = try copyOfSmokeData()
        let wind = try run("blasius-solve", common(data) + ["--set", "wind.profile_points=51"])
        XCTAssertEqual(wind.status, 0, wind.stderr)
        let fem = try run("pollutant-fem", common(data))
        XCTAssertNotEqual(fem.status, 0)
        XCTAssertTrue(fem.stderr.contains("holds 51 nodes per profile but [wind] profile_points = 101"), fem.stderr)
    }
}
