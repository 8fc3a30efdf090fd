import Foundation
import XCTest
import _TestSupport

/// The hand-use subcommands of `blasius-solve` (profile, boundary) and `pollutant-fem` (solve,
/// convergence), run as a user runs them: their printed numbers against closed-form or published
/// values, their files, and their exit statuses. Skipped when the executables are not built.
final class SubcommandTests: XCTestCase {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
        var lines: [String] { stdout.split(separator: "\n").map(String.init) }
        /// The number after "# KEY = " on a summary line.
        func value(_ key: String) -> Double? {
            lines.first { $0.hasPrefix("# \(key) = ") }.flatMap { Double($0.dropFirst(key.count + 5).split(separator: " ").first ?? "") }
        }
    }

    func run(_ name: String, _ arguments: [String]) throws -> Output {
        guard let bin = FaultTests.binFolder(), FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent(name).path) else {
            throw XCTSkip("\(name) is not built (swift build); these tests run the executables")
        }
        let process = Process()
        process.executableURL = bin.appendingPathComponent(name)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = "1"
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes concurrently: a full stderr pipe must not block the child while stdout is read.
        nonisolated(unsafe) var errorData = Data()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { errorData = err.fileHandleForReading.readDataToEndOfFile() }
        let outputData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        XCTAssertNotEqual(process.terminationReason, .uncaughtSignal, "\(name) was killed by a signal")
        return Output(status: process.terminationStatus, stdout: String(decoding: outputData, as: UTF8.self),
                      stderr: String(decoding: errorData, as: UTF8.self))
    }

    func temporaryFolder() throws -> URL {
        let url = try makeTemporaryFolder("subcommands")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// λ = 0, f_w = 0 is Blasius's problem 2f''' + f f'' = 0: f''(0) = 0.332057336 (Blasius 1908;
    /// Howarth 1938 to 0.33206), f'(∞) = 1, β = lim(η − f) = 1.7207876 (displacement thickness).
    func testProfilePrintsBlasiusWallCurvatureAndTheProfile() throws {
        let result = try run("blasius-solve", ["profile", "--lambda", "0", "--fw", "0", "--points", "101"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let curvature = try XCTUnwrap(result.value("f''(0)"), result.stdout)
        XCTAssertEqual(curvature, 0.332057336, accuracy: 1e-7)
        XCTAssertEqual(try XCTUnwrap(result.value("beta")), 1.7207876, accuracy: 1e-5)
        // Without --out the profile is CSV on stdout: the header and 101 rows, f'(η_max) = 1.
        let table = result.lines.filter { !$0.hasPrefix("#") }
        XCTAssertEqual(table.first, "eta,f,fp,fpp")
        XCTAssertEqual(table.count, 102)
        let last = try XCTUnwrap(table.last).split(separator: ",").compactMap { Double($0) }
        XCTAssertEqual(last.count, 4)
        XCTAssertEqual(last[2], 1, accuracy: 1e-8)
        // With --out the same rows go to the file and stdout keeps the summary only.
        let folder = try temporaryFolder()
        let csv = folder.appendingPathComponent("profile.csv")
        let toFile = try run("blasius-solve", ["profile", "--lambda", "0", "--fw", "0", "--points", "101", "--out", csv.path])
        XCTAssertEqual(toFile.status, 0, toFile.stderr)
        XCTAssertEqual(try String(contentsOf: csv, encoding: .utf8).split(separator: "\n").map(String.init), table)
        XCTAssertTrue(toFile.lines.allSatisfy { $0.hasPrefix("#") }, toFile.stdout)
    }

    /// Below the fold of the reverse-wall branch there is no solution: exit status 2, and the printed
    /// λ_c(0) = −0.3541 (the turning point of Blasius's problem with a wall moving upstream; e.g.
    /// Riley & Weidman 1989, λ_c ≈ −0.35412). `boundary` tabulates the same fold.
    func testNoSolutionExitsWithStatusTwoAndNamesTheFold() throws {
        let result = try run("blasius-solve", ["profile", "--lambda", "-0.5", "--fw", "0"])
        XCTAssertEqual(result.status, 2, result.stdout + result.stderr)
        let line = try XCTUnwrap(result.lines.first { $0.hasPrefix("# no solution") }, result.stdout)
        let lc = try XCTUnwrap(line.components(separatedBy: "λ_c(f_w) = ").last?.split(separator: ";").first.flatMap { Double($0) }, line)
        XCTAssertEqual(lc, -0.35412, accuracy: 2e-4)

        let table = try run("blasius-solve", ["boundary", "--fw-from", "0", "--fw-to", "-2", "--count", "2"])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertEqual(table.lines.count, 4, table.stdout)   // the f_w* line, the header, two rows
        XCTAssertEqual(table.lines[1], "fw,lambda_c,fpp0_at_fold,note")
        let atZero = table.lines[2].split(separator: ",", omittingEmptySubsequences: false)
        XCTAssertEqual(Double(atZero[1]) ?? .nan, lc, accuracy: 1e-6)   // the same fold by both commands
        XCTAssertTrue(table.lines[3].hasSuffix("blow-off (solutions only for λ > 0)"), table.lines[3])   // f_w = −2 < f_w* ≈ −1.238
    }

    /// `pollutant-fem solve` on the smoke mesh: the printed count of observation points, and the same c3
    /// in the .csv file as printed by the summary's extrema.
    func testSolveWritesTheObservationsItSummarises() throws {
        let folder = try temporaryFolder()
        let csv = folder.appendingPathComponent("c3.csv"), npy = folder.appendingPathComponent("c3.npy")
        let common = ["solve", "--config", FaultTests.smokeConfig, "--K12", "10", "--K3", "5", "--D", "0.25", "--U0", "1", "--uh", "0.1", "--uv", "0"]
        let result = try run("pollutant-fem", common + ["--observations", csv.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let summary = try XCTUnwrap(result.lines.first { $0.hasPrefix("# c3 at the 96 observation points") }, result.stdout)
        let rows = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n").dropFirst()
        XCTAssertEqual(rows.count, 96)   // 12 × 8 observation points (configs/smoke.toml)
        let c3 = rows.compactMap { $0.split(separator: ",").last.flatMap { Double($0) } }
        XCTAssertEqual(c3.count, 96)
        func printed(_ key: String) -> Double? { summary.components(separatedBy: "\(key) ").last?.split(separator: ",").first.flatMap { Double($0) } }
        XCTAssertEqual(c3.max() ?? .nan, try XCTUnwrap(printed("max")), accuracy: 1e-5 * max(1, c3.max() ?? 1))
        XCTAssertTrue(result.lines.contains { $0.hasPrefix("# balance c3:") }, result.stdout)
        // The .npy: a NumPy v1 header for shape (96, 3) and 96 × 3 float64 values.
        let binary = try run("pollutant-fem", common + ["--observations", npy.path])
        XCTAssertEqual(binary.status, 0, binary.stderr)
        let bytes = try Data(contentsOf: npy)
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        XCTAssertTrue(String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self).contains("'shape': (96, 3)"))
        XCTAssertEqual(bytes.count, 10 + headerLength + 96 * 3 * 8)
        // A non-physical parameter is one error line naming it.
        let bad = try run("pollutant-fem", ["solve", "--config", FaultTests.smokeConfig, "--K12", "10", "--K3", "5", "--D=-1",
                                            "--U0", "1", "--uh", "0", "--uv", "0"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("pollutant-fem solve:"), bad.stderr)
    }

    /// `pollutant-fem convergence`: the arguments are checked before any solve; one case on two meshes
    /// gives one table row and one CSV row whose change is a small percentage.
    func testConvergenceChecksItsArgumentsAndWritesOneRowPerCaseAndRefinement() throws {
        let folder = try temporaryFolder()
        let common = ["convergence", "--config", FaultTests.smokeConfig, "--data-dir", folder.path]
        let noMesh = try run("pollutant-fem", common + ["--meshes", ","])
        XCTAssertNotEqual(noMesh.status, 0)
        XCTAssertTrue(noMesh.stderr.contains("--meshes: expected at least one NXxNY"), noMesh.stderr)
        let badMesh = try run("pollutant-fem", common + ["--meshes", "12by8"])
        XCTAssertTrue(badMesh.stderr.contains("'12by8' is not NXxNY"), badMesh.stderr)
        let badCase = try run("pollutant-fem", common + ["--cases", "centre,nope"])
        XCTAssertNotEqual(badCase.status, 0)
        XCTAssertTrue(badCase.stderr.contains("--cases: unknown case 'nope'"), badCase.stderr)

        let csv = folder.appendingPathComponent("convergence.csv")
        let result = try run("pollutant-fem", common + ["--meshes", "24x16,48x32", "--cases", "centre", "--csv", csv.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.lines.contains { $0.hasPrefix("centre ") && $0.contains("Newton its ") }, result.stdout)
        let rows = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(rows.first, "case,coarse,fine,relative_l2_change,relative_max_change")
        XCTAssertEqual(rows.count, 2, rows.joined(separator: "\n"))
        let fields = rows[1].split(separator: ",").map(String.init)
        XCTAssertEqual(Array(fields.prefix(3)), ["centre", "24x16", "48x32"])
        // A refinement of a smooth, diffusive case changes c3 by a few percent at most, and not by zero.
        let change = try XCTUnwrap(Double(fields[3]))
        XCTAssertGreaterThan(change, 0)
        XCTAssertLessThan(change, 0.2)
    }

    /// `train-dmd bench-gp`: its digest of the fitted bits is the same in two runs (what it is for:
    /// checking that a change to the likelihood code keeps the results), and a bad kernel is a usage
    /// error naming the option.
    func testGaussianProcessBenchmarkPrintsARepeatableDigest() throws {
        let arguments = ["bench-gp", "--samples", "40", "--dimension", "3", "--restarts", "2", "--repeats", "2"]
        let first = try run("train-dmd", arguments), second = try run("train-dmd", arguments)
        XCTAssertEqual(first.status, 0, first.stderr)
        func digest(_ o: Output) -> String? { o.lines.first { $0.hasPrefix("digest ") }.map { String($0.dropFirst(7)) } }
        let d = try XCTUnwrap(digest(first), first.stdout)
        XCTAssertEqual(d.count, 64)
        XCTAssertEqual(digest(second), d)
        XCTAssertTrue(first.stdout.contains("fit (2 starts)"), first.stdout)
        let bad = try run("train-dmd", ["bench-gp", "--kernel", "cubic"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--kernel"), bad.stderr)
    }
}
