import XCTest
import Foundation
import NumericalFoundations
import Reporting
@testable import Pipeline

/// The acceleration study on a tiny synthetic data folder, in this process: the
/// targets come from the baseline, the runs stop at T1, and an interrupted study resumes to the
/// same numbers, bit for bit (every training value; only the clocks differ).
final class AccelerationStudyTests: XCTestCase {
    static func makeData() throws -> (URL, PipelineConfig) {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("study-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        for sub in ["samples", "fem"] { try FileManager.default.createDirectory(at: data.appendingPathComponent(sub), withIntermediateDirectories: true) }
        let config = try PipelineConfig.parse("[surrogate]\ntuned_hidden = [10, 10]\ntuned_warmup_epochs = 2\n")
        let box = config.sampling.ranges
        let p = 12, n = 60
        var params: [Double] = []
        for i in 0..<n { for j in 0..<6 { params.append(box[j].lowerBound + (box[j].upperBound - box[j].lowerBound) * Double((i * 7 + j * 11) % n) / Double(n - 1)) } }
        var c3: [Double] = []
        for i in 0..<n {
            let t = (params[6 * i] - box[0].lowerBound) / (box[0].upperBound - box[0].lowerBound)
            let u = (params[6 * i + 2] - box[2].lowerBound) / (box[2].upperBound - box[2].lowerBound)
            for k in 0..<p { c3.append(1e-3 * exp(2 * t * Double(k) / Double(p)) * (1 + u)) }
        }
        try Npy.write(params, shape: [n, 6], to: data.appendingPathComponent("samples/params.npy"))
        try Npy.write((0..<n).map { UInt8($0 % 5 == 0 ? 1 : 0) }, shape: [n], to: data.appendingPathComponent("samples/split.npy"))
        try Npy.write(c3, shape: [n, p], to: data.appendingPathComponent("fem/c3.npy"))
        try Npy.write([Int32](repeating: 0, count: n), shape: [n], to: data.appendingPathComponent("fem/status.npy"))
        return (data, config)
    }

    func testStudySetsTargetsStopsAtThemAndResumesBitForBit() throws {
        let (data, config) = try Self.makeData()
        defer { try? FileManager.default.removeItem(at: data) }
        let folder = data.appendingPathComponent("study")
        let prepared = try SurrogateFitStage.prepare(config: config, dataDirectory: data)
        var executed: [String] = []
        let executor: AccelerationStudy.Executor = { runs in
            for (spec, runFolder) in runs {
                executed.append(spec.folderName)
                try AccelerationRun.execute(spec, prepared: prepared, config: config, folder: runFolder)
            }
        }
        let methods = try ["adam", "rre", "adam_lbfgs", "dmd_clamped"].map(AccelerationMethod.named)
        let first = try AccelerationStudy.run(config: config, dataDirectory: data, folder: folder, methods: methods, seeds: 2, epochs: 24, executor: executor)
        XCTAssertEqual(executed.count, 8)
        XCTAssertEqual(first.runs.count, 8)
        // T1 is the worse of the two baseline seeds' best validation MSE: both reach it, one exactly at its best.
        let base = first.runs.filter { $0.method == "adam" }
        XCTAssertEqual(first.targets.primary, base.map(\.bestValidationMSE).max()!)
        XCTAssertTrue(base.allSatisfy { $0.primary != nil && $0.epochsRun == 24 })
        XCTAssertLessThanOrEqual(first.targets.primary, first.targets.secondary)
        // Every other run stops at the epoch where it first reaches T1, or runs all 24.
        for run in first.runs where run.method != "adam" {
            if let hit = run.primary { XCTAssertEqual(hit.epoch, run.epochsRun, run.method) } else { XCTAssertEqual(run.epochsRun, 24, run.method) }
        }
        XCTAssertEqual(first.rows.first { $0.method == "adam" }?.speedupPrimary ?? 0, 1, accuracy: 1e-12)
        // The only plain-Adam variant here is the baseline, so it is also the best Adam.
        XCTAssertEqual(first.bestAdam, "adam")
        XCTAssertEqual(first.rows.first { $0.method == "adam" }?.speedupOverBestAdam ?? 0, 1, accuracy: 1e-12)
        for name in [AccelerationStudy.tableFile, AccelerationStudy.summaryFile, AccelerationStudy.summaryJSON, AccelerationStudy.figureFile] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path), name)
        }
        let histories = try first.runs.map { try AccelerationRun.readHistory(folder.appendingPathComponent("runs/\($0.method)/seed_\($0.seed)")) }

        // An interrupted study: one run lost its result (killed before writing it), one never started.
        let runs = folder.appendingPathComponent("runs")
        try FileManager.default.removeItem(at: runs.appendingPathComponent("rre/seed_1/result.json"))
        try FileManager.default.removeItem(at: runs.appendingPathComponent("dmd_clamped/seed_0"))
        executed = []
        let second = try AccelerationStudy.run(config: config, dataDirectory: data, folder: folder, methods: methods, seeds: 2, epochs: 24, executor: executor)
        XCTAssertEqual(executed.sorted(), ["dmd_clamped/seed_0", "rre/seed_1"], "only the missing runs are redone")
        let again = try second.runs.map { try AccelerationRun.readHistory(folder.appendingPathComponent("runs/\($0.method)/seed_\($0.seed)")) }
        XCTAssertEqual(again.count, histories.count)
        for (a, b) in zip(histories, again) {
            XCTAssertEqual(a.map(\.validationMSE), b.map(\.validationMSE))
            XCTAssertEqual(a.map(\.trainMSE), b.map(\.trainMSE))
            XCTAssertEqual(a.map(\.gradientEvaluations), b.map(\.gradientEvaluations))
        }
        XCTAssertEqual(second.targets, first.targets)

        // Another setup in the same folder is refused, naming the file.
        XCTAssertThrowsError(try AccelerationStudy.run(config: config, dataDirectory: data, folder: folder, methods: methods, seeds: 2, epochs: 30,
                                                       executor: executor)) { error in
            XCTAssertTrue("\(error)".contains("setup.json"), "\(error)")
        }
    }

    func testUnknownMethodIsNamed() {
        XCTAssertThrowsError(try AccelerationMethod.named("sgd")) { XCTAssertTrue("\($0)".contains("unknown method \"sgd\"")) }
    }

    /// A band renders as one polygon per unbroken run of drawable points.
    func testBandSeriesRendersAsPolygons() throws {
        let band = BandSeries(x: [1, 2, 3, 4, 5], lower: [1, 1, .nan, 1, 1], upper: [2, 2, 2, 2, 2])
        let figure = Figure(name: "band", title: "band", panels: [Panel(nil, .xy(XYPlot(xAxis: Axis("x"), yAxis: Axis("y"), series: [.band(band)])))])
        let svg = try figure.svg()
        XCTAssertEqual(svg.components(separatedBy: "<polygon").count - 1, 2)
    }
}
