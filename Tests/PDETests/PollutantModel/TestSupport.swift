import Foundation
import XCTest
import _TestSupport
import NumericalFoundations
@testable import PDE
import Pipeline

/// Fixtures shared by the tests: small configurations, Blasius profiles, and data folders laid out as
/// `lhs-sample` and `blasius-solve` leave them.
enum Fixture {
    /// The tiny setup as TOML: coarse mesh, few observation points, small chunks, no figure fields.
    /// Its last section is `[fem]`, so text appended to it adds `[fem]` keys.
    static let tinyConfigText = """
        [wind]
        profile_points = 64
        [fem]
        nx = 12
        ny = 8
        observation_nx = 6
        observation_ny = 4
        chunk_size = 3
        fields = false
        """

    /// The tiny configuration, on two threads, with extra `[fem]` keys.
    static func config(_ fem: String = "", overrides: [String] = []) throws -> PipelineConfig {
        try PipelineConfig.parse(tinyConfigText + "\nthreads = 2\n" + fem, file: "test.toml", overrides: overrides)
    }

    static func profile(_ p: PollutantParameters, nu: Double = 1e-5) throws -> BlasiusProfile {
        let settings = try config().wind
        var wind = settings
        wind.nu = nu
        return try InProcessWind.profile(for: p, options: InProcessWind.Options(wind)).profile
    }

    /// Ten parameter rows inside the paper's box; sample 4 (u_h = 0, u_v = 0.1) has no similarity
    /// solution (blow-off, formulation.md §2a).
    static let params: [[Double]] = [
        [5, 1, 0.1, 1.0, 0.05, 0.0],
        [12, 3, 0.05, 0.5, 0.1, -0.05],
        [2, 0.5, 0.3, 1.5, -0.1, 0.0],
        [18, 8, 0.02, 2.0, 0.0, 0.0],
        [10, 5, 0.2, 1.0, 0.0, 0.1],
        [7, 0, 0.4, 0.2, 0.15, 0.05],
        [15, 2, 0.08, 0.8, -0.05, -0.2],
        [3, 9, 0.15, 1.2, 0.2, 0.0],
        [9, 4, 0.03, 0.05, 0.02, 0.0],
        [20, 6, 0.25, 1.8, 0.1, 0.1],
    ]

    static func temporaryDirectory(_ name: String) throws -> URL { try makeTemporaryFolder("pollutant-tests-\(name)") }

    /// Writes samples/params.npy and the wind files of `blasius-solve` (same layout: profiles N × K × 4,
    /// summary N × 4 = (λ, f_w, f''(0), β), status N int32, zero rows where there is no profile).
    static func makeDataDirectory(_ name: String, params rows: [[Double]] = params, wind: WindSettings? = nil) throws -> URL {
        let data = try temporaryDirectory(name)
        let settings = try wind ?? config().wind
        let n = rows.count
        try Npy.write(rows.flatMap { $0 }, shape: [n, 6], to: data.appendingPathComponent("samples/params.npy"))
        let k = settings.profilePoints
        let solver = BlasiusSolver(tolerance: settings.tolerance, profilePoints: k)
        var profiles = [Double](repeating: 0, count: n * k * 4), summary = [Double](repeating: 0, count: n * 4)
        var status = [Int32](repeating: 0, count: n)
        for (i, row) in rows.enumerated() {
            let similarity = try SimilarityParameters(U0: row[3], uh: row[4], uv: row[5], nu: settings.nu)
            let outcome = WindBatch.solveSample(similarity, solver: solver, policy: .skip)
            status[i] = outcome.status.rawValue
            guard let s = outcome.solution else { continue }
            profiles.replaceSubrange((i * k * 4)..<((i + 1) * k * 4), with: s.profile.rows)
            summary.replaceSubrange((i * 4)..<(i * 4 + 4), with: [s.lambda, s.fw, s.wallCurvature, s.displacement])
        }
        let wind = data.appendingPathComponent("wind")
        try Npy.write(profiles, shape: [n, k, 4], to: wind.appendingPathComponent("profiles.npy"))
        try Npy.write(summary, shape: [n, 4], to: wind.appendingPathComponent("summary.npy"))
        try Npy.write(status, shape: [n], to: wind.appendingPathComponent("status.npy"))
        return data
    }

    static func bytes(_ url: URL) throws -> Data { try Data(contentsOf: url) }

    static let packageRoot = _TestSupport.packageRoot(of: #filePath)

    /// The built `pollutant-fem` (POLLUTANT_FEM: another executable, as the SLURM script takes it);
    /// skips the test if absent.
    static func executable() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["POLLUTANT_FEM"], FileManager.default.isExecutableFile(atPath: path) {
            return URL(fileURLWithPath: path)
        }
        guard let folder = builtExecutableFolder(holding: "pollutant-fem", packageRoot: packageRoot) else {
            throw XCTSkip("pollutant-fem is not built (swift build); this test runs the executable")
        }
        return folder.appendingPathComponent("pollutant-fem")
    }

    /// Runs a program; returns its exit status and its standard output and error together.
    static func run(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, output: String) {
        let child = try runChild(executable, arguments, environment: sameKernel(environment ?? ProcessInfo.processInfo.environment),
                                 mergeOutput: true)
        return (child.status, child.output)
    }

    /// `environment` with the test process's OpenBLAS kernel: an executable would otherwise restart
    /// itself with a faster one on a CPU where OpenBLAS falls back to generic kernels, and its bytes would
    /// differ from the in-process reference in the last bits.
    static func sameKernel(_ environment: [String: String]) -> [String: String] {
        var e = environment
        if e["OPENBLAS_CORETYPE"] == nil { e["OPENBLAS_CORETYPE"] = BLASThreads.coreName }
        return e
    }

    /// The tiny configuration as a file (for the executable).
    static func configFile(in folder: URL, extra: String = "") throws -> URL {
        let url = folder.appendingPathComponent("tiny.toml")
        try (tinyConfigText + "\n" + extra + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }
}

extension XCTestCase {
    /// Asserts that `body` throws an error whose description contains every fragment.
    func assertThrows<T>(_ body: @autoclosure () throws -> T, contains fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try body()
            XCTFail("expected an error containing \(fragments)", file: file, line: line)
        } catch {
            let text = "\(error)"
            for f in fragments where !text.contains(f) {
                XCTFail("error \"\(text)\" lacks \"\(f)\"", file: file, line: line)
            }
        }
    }
}
