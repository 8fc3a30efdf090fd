import Foundation
import XCTest
@testable import NumericalFoundations
@testable import PDE
@testable import Pipeline

/// fem/dc3_dtheta.npy: written beside the unchanged c3.npy, carried through checkpoints, shards and
/// merge, read back with its shape checked.
final class SensitivityDatasetTests: XCTestCase {
    var cleanup: [URL] = []
    override func tearDown() {
        for url in cleanup { try? FileManager.default.removeItem(at: url) }
        cleanup = []
    }

    func dataDirectory(_ name: String) throws -> URL {
        let url = try Fixture.makeDataDirectory(name)
        cleanup.append(url)
        return url
    }

    func files(_ data: URL, _ names: [String]) throws -> [Data] {
        try names.map { try Fixture.bytes(PollutantStage.femFolder(data).appendingPathComponent($0)) }
    }

    static let on = ["fem.sensitivities=true"]

    func testDatasetRoundTripsAndLeavesTheOtherFilesUnchanged() throws {
        let plain = try dataDirectory("sens-off"), with = try dataDirectory("sens-on")
        let off = try PollutantStage.run(config: Fixture.config(), dataDirectory: plain)
        XCTAssertFalse(off.outputs.contains { $0.lastPathComponent == "dc3_dtheta.npy" })
        XCTAssertFalse(FileManager.default.fileExists(atPath: PollutantStage.femFolder(plain).appendingPathComponent("dc3_dtheta.npy").path))
        let config = try Fixture.config(overrides: Self.on)
        let summary = try PollutantStage.run(config: config, dataDirectory: with)
        XCTAssertTrue(summary.outputs.contains { $0.lastPathComponent == "dc3_dtheta.npy" })
        XCTAssertEqual(try files(with, ["c3.npy", "status.npy", "points.npy"]), try files(plain, ["c3.npy", "status.npy", "points.npy"]))

        let n = Fixture.params.count, points = config.fem.observationCount
        let url = PollutantStage.femFolder(with).appendingPathComponent("dc3_dtheta.npy")
        let derivatives = try SensitivityFile.load(url, samples: n, points: points)
        let status = try Npy.read(Int32.self, from: PollutantStage.femFolder(with).appendingPathComponent("status.npy")).values
        let width = points * 6
        for i in 0..<n {
            let row = derivatives[(i * width)..<((i + 1) * width)]
            if status[i] == 0 { XCTAssertTrue(row.contains { $0 != 0 }, "sample \(i)") } else { XCTAssertTrue(row.allSatisfy { $0 == 0 }, "sample \(i)") }
        }
        XCTAssertNotEqual(status[4], 0, "sample 4 has no wind profile")
        // Sample 0 against a direct computation.
        let p = try PollutantParameters(row: Fixture.params[0])
        let discretization = try PollutantDiscretization(settings: config.fem)
        let options = SensitivityOptions(wind: InProcessWind.Options(config.wind))
        let profile = try InProcessWind.profile(for: p, options: options.wind).profile
        let direct = try PollutantSolver(discretization: discretization, newton: NewtonOptions(config.fem))
            .solveWithSensitivities(p, profile: profile, options: options).sensitivities.observations
        XCTAssertEqual(Array(derivatives[0..<width]), direct)

        // A mis-shaped file: one error naming the file and the expected shape.
        let bad = PollutantStage.femFolder(with).appendingPathComponent("bad.npy")
        try Npy.write(Array(derivatives[0..<(n * points * 5)]), shape: [n, points, 5], to: bad)
        assertThrows(try SensitivityFile.load(bad, samples: n, points: points), contains: ["bad.npy", "shape", "\(points), 6"])
        try Npy.write([Float](repeating: 0, count: n * points * 6), shape: [n, points, 6], to: bad)
        assertThrows(try SensitivityFile.load(bad, samples: n, points: points), contains: ["bad.npy", "dtype"])
    }

    func testShardsResumeAndMergeCarryTheSensitivities() throws {
        let reference = try dataDirectory("sens-reference")
        let config = try Fixture.config(overrides: Self.on)
        _ = try PollutantStage.run(config: config, dataDirectory: reference)
        let names = ["c3.npy", "status.npy", "dc3_dtheta.npy"]

        // Interrupted after chunk 0, resumed.
        let data = try dataDirectory("sens-resumed")
        let stop = StopSignal(), done = SharedCounter()
        XCTAssertThrowsError(try PollutantStage.run(config: Fixture.config(overrides: Self.on + ["fem.threads=1"]), dataDirectory: data, stop: stop,
                                                    makeProgress: { _ in { _ in if done.next() == 3 { stop.request() } } }))
        XCTAssertTrue(FileManager.default.fileExists(atPath: PollutantStage.femFolder(data).appendingPathComponent("checkpoints/chunk-000000-dtheta.npy").path))
        let resumed = try PollutantStage.run(config: config, dataDirectory: data)
        XCTAssertEqual(resumed.restoredChunks, 1)
        XCTAssertEqual(try files(data, names), try files(reference, names))

        // Three shards, merged.
        let sharded = try dataDirectory("sens-sharded")
        for k in 1...3 { _ = try PollutantStage.run(config: config, dataDirectory: sharded, shard: ShardSpec(index: k, count: 3)) }
        _ = try PollutantStage.merge(config: config, dataDirectory: sharded)
        XCTAssertEqual(try files(sharded, names), try files(reference, names))
    }

    func testOffByDefault() throws {
        XCTAssertFalse(try Fixture.config().fem.sensitivities)
    }

    /// `pollutant-fem solve --sensitivities-file`: the table of one sample, as .npy (P × 8) and .csv.
    func testSingleSolveWritesOneSamplesSensitivities() throws {
        let folder = try Fixture.temporaryDirectory("sens-solve")
        cleanup.append(folder)
        let config = try Fixture.config()
        let p = try PollutantParameters(row: Fixture.params[0])
        var lines: [String] = []
        let npy = folder.appendingPathComponent("dtheta.npy"), csv = folder.appendingPathComponent("dtheta.csv")
        try SingleSolve.run(config: config, parameters: p, outputs: SingleSolve.Outputs(sensitivitiesFile: npy), print: { lines.append($0) })
        try SingleSolve.run(config: config, parameters: p, outputs: SingleSolve.Outputs(sensitivitiesFile: csv), print: { _ in })
        let points = config.fem.observationCount
        let table = try Npy.read(Double.self, from: npy)
        XCTAssertEqual(table.shape, [points, 8])
        for name in PollutantParameters.names { XCTAssertTrue(lines.contains { $0.hasPrefix("# dc3/d\(name):") }, name) }
        XCTAssertTrue(lines.contains { $0.hasPrefix("# sensitivities:") })
        let rows = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.first, "x,y,dc3_dK12,dc3_dK3,dc3_dD,dc3_dU0,dc3_du_h,dc3_du_v")
        XCTAssertEqual(rows.count, points + 1)
        XCTAssertEqual(Double(rows[1].split(separator: ",")[2]), table.values[2])
    }
}
