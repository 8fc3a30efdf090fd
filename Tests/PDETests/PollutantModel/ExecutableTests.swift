import Foundation
import XCTest
import NumericalFoundations
@testable import PDE

/// The `pollutant-fem` executable's exit status and messages (skipped when it has not been built).
final class ExecutableTests: XCTestCase {
    /// Exit 0 iff converged / samples with a wind profile ≥ fem.min_success_fraction; failures printed;
    /// a shard exits 0 once complete (the merge judges the whole dataset); bad input is one clear line.
    func testExitStatusFollowsTheSuccessFraction() throws {
        let exe = try Fixture.executable()
        let data = try Fixture.makeDataDirectory("exe")
        defer { try? FileManager.default.removeItem(at: data) }
        let config = try Fixture.configFile(in: data).path
        let ok = try Fixture.run(exe, ["--config", config, "--data-dir", data.path])
        XCTAssertEqual(ok.status, 0, ok.output)
        XCTAssertTrue(ok.output.contains("9 converged, 1 skipped (no wind profile), 0 failed"), ok.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: data.appendingPathComponent("fem/manifest.json").path))

        // One Newton step is not enough for any sample: 0 % converge, below 0.9 → exit 1, failures listed.
        let failing = try Fixture.run(exe, ["--config", config, "--data-dir", data.path, "--set", "fem.newton_max_iterations=1"])
        XCTAssertEqual(failing.status, 1, failing.output)
        XCTAssertTrue(failing.output.contains("sample 0: newton_not_converged (2)"), failing.output)
        XCTAssertTrue(failing.output.contains("below fem.min_success_fraction = 0.9"), failing.output)
        // The same with a threshold of 0: exit 0, still listed.
        let tolerated = try Fixture.run(exe, ["--config", config, "--data-dir", data.path, "--set", "fem.newton_max_iterations=1",
                                              "--set", "fem.min_success_fraction=0"])
        XCTAssertEqual(tolerated.status, 0, tolerated.output)
        XCTAssertTrue(tolerated.output.contains("sample 0: newton_not_converged"), tolerated.output)
        // A failing shard still exits 0; merging the failing shards then applies the threshold.
        for k in 1...2 {
            let shard = try Fixture.run(exe, ["--config", config, "--data-dir", data.path, "--set", "fem.newton_max_iterations=1", "--shard", "\(k)/2"])
            XCTAssertEqual(shard.status, 0, shard.output)
        }
        let merged = try Fixture.run(exe, ["merge", "--config", config, "--data-dir", data.path, "--set", "fem.newton_max_iterations=1"])
        XCTAssertEqual(merged.status, 1, merged.output)

        // Bad input: one line naming the file and the problem, non-zero exit, no trap.
        try FileManager.default.removeItem(at: BatchInputs.windURL(data, "summary.npy"))
        let missing = try Fixture.run(exe, ["--config", config, "--data-dir", data.path])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.output.contains("wind/summary.npy is missing: run blasius-solve"), missing.output)
        let badShard = try Fixture.run(exe, ["--config", config, "--data-dir", data.path, "--shard", "3/2"])
        XCTAssertNotEqual(badShard.status, 0)
        XCTAssertTrue(badShard.output.contains("K/N"), badShard.output)
    }
}
