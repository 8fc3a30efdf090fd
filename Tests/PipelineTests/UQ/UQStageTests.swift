import XCTest
import PDE
import Foundation
import NumericalFoundations
import Surrogates
import Uncertainty
@testable import Pipeline

/// The whole stage on a tiny synthetic data folder: a 4 × 3 observation grid, 40 samples, a
/// random-weight model. Checks the files, their shapes and the internal consistency of the numbers.
final class UQStageTests: XCTestCase {
    func testStageWritesEveryOutput() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("uq-stage-test-\(getpid())")
        try? FileManager.default.removeItem(at: data)
        defer { try? FileManager.default.removeItem(at: data) }
        for sub in ["samples", "wind", "fem", "models/plain"] {
            try FileManager.default.createDirectory(at: data.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        let config = try PipelineConfig.parse("[uq]\nmodel = \"plain\"\nn_samples = 500\nsobol_n = 64\nbootstrap = 10\nquantile_sample = 200\nthreads = 1\n")
        let box = config.sampling.ranges
        let xs = [0.1, 0.4, 0.7, 1.0], ys = [0.05, 0.3, 0.6]
        var points: [Double] = []
        for y in ys { for x in xs { points += [x, y] } }
        let p = xs.count * ys.count, n = 40
        var params: [Double] = []
        for i in 0..<n { for j in 0..<6 { params.append(box[j].lowerBound + (box[j].upperBound - box[j].lowerBound) * Double((i * 7 + j * 11) % 40) / 39) } }
        // Wind status as the wind stage would write it (0 solved, 3 blow-off), from the same test.
        let feasibility = try UQStage.Feasibility(box: box, nu: config.wind.nu)
        let wind = (0..<n).map { feasibility(params[(6 * $0)..<(6 * $0 + 6)]) ? Int32(0) : Int32(3) }
        var c3: [Double] = []
        for i in 0..<n {
            for k in 0..<p {
                let value: Double = 1e-3 * (1 + Double(k) / Double(p)) * (1 + params[6 * i] / 20)
                c3.append(wind[i] == 0 ? value : 0)
            }
        }
        try Npy.write(points, shape: [p, 2], to: data.appendingPathComponent("fem/points.npy"))
        try Npy.write(params, shape: [n, 6], to: data.appendingPathComponent("samples/params.npy"))
        let split: [UInt8] = (0..<n).map { $0 % 4 == 0 ? 1 : 0 }
        try Npy.write(split, shape: [n], to: data.appendingPathComponent("samples/split.npy"))
        try Npy.write(c3, shape: [n, p], to: data.appendingPathComponent("fem/c3.npy"))
        let femStatus: [Int32] = wind.map { $0 == 0 ? 0 : 5 }
        try Npy.write(femStatus, shape: [n], to: data.appendingPathComponent("fem/status.npy"))
        try Npy.write(wind, shape: [n], to: data.appendingPathComponent("wind/status.npy"))
        let layout = try NetworkLayout(widths: [6, 8, p], activation: .softsign)
        try SurrogateModel.write(network: Network<Float>(layout: layout, seed: 3),
                                 description: ModelDescription(layout: layout, precision: .float32, inputNames: PollutantParameters.names,
                                                               epochsCompleted: 1, epochsPlanned: 1, trainSamples: 30, testSamples: 10),
                                 inputScaler: InputScaler(ranges: box),
                                 outputScaler: OutputScaler(mean: [Double](repeating: 1e-3, count: p), standardDeviation: [Double](repeating: 1e-4, count: p)),
                                 to: data.appendingPathComponent("models/plain"))

        var record = StageRecord(stage: "uq-propagate", config: config, seed: config.uq.seed)
        let out = try UQStage.run(config: config, data: data, record: &record)
        let uq = data.appendingPathComponent("uq")
        for (name, shape) in [("mean", [p]), ("std", [p]), ("q05", [p]), ("q95", [p]), ("sobol_first", [6, p]), ("sobol_total", [6, p])] {
            let a = try Npy.read(Double.self, from: uq.appendingPathComponent("\(name).npy"), expectedShape: shape.map { $0 })
            XCTAssertTrue(a.values.allSatisfy { $0.isFinite }, name)
        }
        let mean = try Npy.read(Double.self, from: uq.appendingPathComponent("mean.npy")).values
        let q05 = try Npy.read(Double.self, from: uq.appendingPathComponent("q05.npy")).values
        let q95 = try Npy.read(Double.self, from: uq.appendingPathComponent("q95.npy")).values
        for k in 0..<p { XCTAssertLessThanOrEqual(q05[k], mean[k]); XCTAssertLessThanOrEqual(mean[k], q95[k]) }
        let fem = try JSONValue.parse(Data(contentsOf: uq.appendingPathComponent("fem_comparison.json")))
        XCTAssertEqual(fem["indicator_check"]?["agree"]?.number, Double(n))
        XCTAssertEqual(fem["comparable"], .bool(true))
        let sobol = try JSONValue.parse(Data(contentsOf: uq.appendingPathComponent("sobol_integral.json")))
        XCTAssertEqual(sobol["indices"]?.array?.count, 6)
        XCTAssertNotNil(sobol["existence_indicator"])
        for f in ["uq.md", "sobol_integral.csv", "figures/mean_map.svg", "figures/std_map.svg", "figures/sobol_integral.svg"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: uq.appendingPathComponent(f).path), f)
        }
        XCTAssertGreaterThan(out.files.count, 12)
        // Same configuration, same bits.
        let first = try Data(contentsOf: uq.appendingPathComponent("sobol_first.npy"))
        var again = StageRecord(stage: "uq-propagate", config: config, seed: config.uq.seed)
        _ = try UQStage.run(config: config, data: data, record: &again)
        XCTAssertEqual(try Data(contentsOf: uq.appendingPathComponent("sobol_first.npy")), first)
    }
    /// A batch the model cannot predict whole is predicted row by row: the rows it can predict keep
    /// their values, the others are reported by index and reason (then skipped by the propagation).
    func testABatchTheModelCannotPredictWholeIsPredictedRowByRow() throws {
        final class PickySurrogate: FieldSurrogate {
            let kind = "picky", inputNames = PollutantParameters.names, inputWidth = 6, outputWidth = 2, parameterCount = 0
            let windViscosity: Double? = nil
            let descriptorInputs: DescriptorInputs? = nil
            let inputScaler: InputScaler
            var calls = 0
            init() throws { inputScaler = try InputScaler(ranges: PipelineConfig.parse("").sampling.ranges) }
            func predict(parameters x: [Double], rows: Int, threads: Int) throws -> [Double] {
                calls += 1
                if let bad = (0..<rows).first(where: { x[6 * $0] > 15 }) { throw StageError("coarse solve failed at K12 = \(x[6 * bad])") }
                var out: [Double] = []
                for r in 0..<rows { let a: Double = x[6 * r], b: Double = x[6 * r + 1]; out.append(a); out.append(2 * b) }
                return out
            }
            func predictWithUncertainty(parameters: [Double], rows: Int, threads: Int) throws -> (mean: [Double], standardDeviation: [Double])? { nil }
        }
        let picky = try PickySurrogate()
        let model = UQStage.rowTolerant(picky, outputs: 2, threads: 1)
        func row(_ k12: Double, _ k3: Double) -> [Double] { [k12, k3, 0.1, 1, 0, 0] }
        let clean = row(2, 3) + row(4, 5)
        XCTAssertEqual(try model(clean, 2), [2, 6, 4, 10])
        XCTAssertEqual(picky.calls, 1, "a batch it can predict whole takes one call")
        let mixed = row(2, 3) + row(16, 1) + row(4, 5)
        XCTAssertThrowsError(try model(mixed, 3)) { error in
            guard let partial = error as? ModelRowFailures else { return XCTFail("\(error)") }
            XCTAssertEqual(Array(partial.failures.keys), [1])
            XCTAssertTrue(partial.failures[1]!.contains("K12 = 16"), partial.failures[1]!)
            XCTAssertEqual(Array(partial.values[0..<2]), [2, 6])
            XCTAssertEqual(Array(partial.values[4..<6]), [4, 10])
        }
    }
}
