import XCTest
import PDE
import Foundation
import NumericalFoundations
import Uncertainty
@testable import Pipeline

/// The FEM Monte Carlo reference on the smoke configuration's mesh (24 × 16, 12 × 8 observation points).
final class FEMReferenceTests: XCTestCase {
    static let toml = """
        [wind]
        no_solution = "skip"
        profile_points = 101
        [fem]
        nx = 24
        ny = 16
        observation_nx = 12
        observation_ny = 8
        chunk_size = 4
        threads = 1
        [uq]
        fem_reference_samples = 10
        fem_reference_bootstrap = 200
        """

    /// Every kept row has a wind similarity solution by the wind stage's own solver, lies in the box, and
    /// the counts add up; the same seed gives the same rows.
    func testRejectionSamplerNeverReturnsAnInfeasibleRow() throws {
        let config = try PipelineConfig.parse(Self.toml)
        let box = config.sampling.ranges
        let feasibility = try UQStage.Feasibility(box: box, nu: config.wind.nu)
        let inputs = try UQStage.inputModel(config)
        let draws = try FEMReference.drawFeasible(count: 300, inputs: inputs, feasibility: feasibility, wind: config.wind, seed: 11)
        XCTAssertEqual(draws.count, 300)
        XCTAssertEqual(draws.draws, 300 + draws.rejectedByIndicator + draws.rejectedBySolve)
        // About a quarter of the box has no wind (docs/uq.md): measured 74 of 374 draws rejected.
        XCTAssertGreaterThan(draws.rejectedByIndicator, 40)
        let solver = BlasiusSolver(tolerance: config.wind.tolerance, profilePoints: config.wind.profilePoints)
        for i in 0..<300 {
            let row = Array(draws.rows[(6 * i)..<(6 * i + 6)])
            for j in 0..<6 { XCTAssertTrue(box[j].contains(row[j]), "row \(i), column \(j)") }
            let s = try SimilarityParameters(U0: row[3], uh: row[4], uv: row[5], nu: config.wind.nu)
            var statistics = SolveStatistics()
            guard case .solved = solver.solve(lambda: s.lambda, fw: s.fw, statistics: &statistics) else {
                return XCTFail("row \(i) (λ = \(s.lambda), f_w = \(s.fw)) has no wind solution")
            }
            XCTAssertEqual(draws.windStatus[i], .solved)
            XCTAssertNotNil(draws.profiles[i])
        }
        let again = try FEMReference.drawFeasible(count: 300, inputs: inputs, feasibility: feasibility, wind: config.wind, seed: 11)
        XCTAssertEqual(again.rows, draws.rows)
        print("measured draws \(draws.draws), rejected by the indicator \(draws.rejectedByIndicator), by the solve \(draws.rejectedBySolve)")
    }

    private func folder(_ name: String) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fem-reference-\(name)-\(getpid())")
        try? FileManager.default.removeItem(at: url)
        return url
    }

    private func outputs(_ layout: DataLayout) throws -> [String: Data] {
        let f = layout.uqFEMReference
        var out: [String: Data] = [:]
        for url in [f.params, f.c3, f.status, f.points, f.mean, f.std, f.meanInterval, f.stdInterval] {
            out[url.lastPathComponent] = try Data(contentsOf: url)
        }
        return out
    }

    /// A run stopped after its first chunk resumes from it and ends with the bytes of an uninterrupted run.
    func testInterruptedRunResumesBitForBit() throws {
        let config = try PipelineConfig.parse(Self.toml)
        let whole = DataLayout(folder("whole")), resumed = DataLayout(folder("resumed"))
        defer { try? FileManager.default.removeItem(at: whole.root); try? FileManager.default.removeItem(at: resumed.root) }
        var record = StageRecord(stage: "test", config: config, seed: config.uq.seed)
        let full = try FEMReference.run(config: config, layout: whole, stop: nil, record: &record)
        XCTAssertEqual(full.converged + full.failed, 10)
        XCTAssertGreaterThanOrEqual(full.converged, 9)
        // A finished run of the same settings is recognised (and redone after a change of seed or a changed c3.npy).
        XCTAssertNil(FEMReference.finishedRun(config: config, folder: whole.uqFEMReference))
        for f in full.files { record.output(f) }
        try record.finish(manifestAt: whole.uqFEMReference.manifest)
        XCTAssertNotNil(FEMReference.finishedRun(config: config, folder: whole.uqFEMReference))
        XCTAssertNotNil(FEMReference.finishedRun(config: try PipelineConfig.parse(Self.toml.replacingOccurrences(of: "threads = 1", with: "threads = 2")),
                                                 folder: whole.uqFEMReference))
        XCTAssertNil(FEMReference.finishedRun(config: try PipelineConfig.parse(Self.toml + "\nseed = 19\n"), folder: whole.uqFEMReference))

        let stop = StopSignal()
        let seen = FailureCount()
        var first = StageRecord(stage: "test", config: config, seed: config.uq.seed)
        XCTAssertThrowsError(try FEMReference.run(config: config, layout: resumed, stop: stop, record: &first, observe: { _ in
            seen.increment()
            if seen.value == 5 { stop.request() }
        })) { error in XCTAssertTrue(error is BatchInterrupted, "\(error)") }
        var second = StageRecord(stage: "test", config: config, seed: config.uq.seed)
        _ = try FEMReference.run(config: config, layout: resumed, stop: nil, record: &second)
        XCTAssertEqual(second.manifest.details["restored_chunks"]?.number, 1)
        XCTAssertEqual(second.manifest.details["solved_in_this_run"]?.number, 6)
        XCTAssertEqual(try outputs(whole), try outputs(resumed))
        XCTAssertFalse(FileManager.default.fileExists(atPath: resumed.uqFEMReference.checkpoints.path))
        // The maps are those of the converged rows, inside their own intervals.
        let mean = try Npy.read(Double.self, from: whole.uqFEMReference.mean).values
        let interval = try Npy.read(Double.self, from: whole.uqFEMReference.meanInterval, expectedShape: [2, mean.count]).values
        for k in 0..<mean.count { XCTAssertTrue(interval[k] <= mean[k] && mean[k] <= interval[mean.count + k], "point \(k)") }
    }

    /// The comparison's numbers on constructed maps: a surrogate equal to the reference differs by 0 and
    /// lies inside every interval; one 10 % above differs by exactly 0.1 everywhere.
    func testComparisonOfConstructedMaps() throws {
        var g = SeededGenerator(seed: 4)
        let n = 300, p = 6
        let values = (0..<(n * p)).map { k in 1 + Double(k % p) + 0.3 * g.nextGaussian() }
        let b = try MapBootstrap(values: values, rows: n, outputs: p, resamples: 400, seed: 1, stream: 6)
        var points: [Double] = []
        for y in [0.0, 1.0] { for x in [0.0, 0.5, 2.0] { points += [x, y] } }
        let weights = try Quadrature.tensorTrapezoidWeights(points: points)
        let same = FEMReferenceComparison.compare("mean", surrogate: b.mean, reference: b.mean, resamples: b.means,
                                                  intervals: b.meanIntervals, weights: weights, confidence: 0.95)
        XCTAssertEqual(same.relativeL2, 0)
        XCTAssertEqual(same.shareInside, 1)
        XCTAssertTrue(same.withinSamplingError)
        // The sampling level: σ/√n relative to a mean of about 3.5 in the weighted norm, ≈ 0.3/√300/3.5 · 1.96-ish.
        XCTAssertGreaterThan(same.samplingError, 0.002); XCTAssertLessThan(same.samplingError, 0.02)
        let above = FEMReferenceComparison.compare("mean", surrogate: b.mean.map { 1.1 * $0 }, reference: b.mean, resamples: b.means,
                                                   intervals: b.meanIntervals, weights: weights, confidence: 0.95)
        XCTAssertEqual(above.relativeL2, 0.1, accuracy: 1e-12)
        XCTAssertTrue(above.interval.contains(0.1))
        XCTAssertEqual(above.shareInside, 0)
        XCTAssertFalse(above.withinSamplingError)
    }

    /// The paired comparison (the surrogate on the reference's own rows, the same resamples for both):
    /// a surrogate 10 % above the FEM row by row differs by exactly 0.1 in both maps and in every resample;
    /// one with independent noise of σ 0.01 (the FEM's spread 0.3) has a paired interval of width about
    /// 2 · 1.96 · 0.01/√n relative to the map, far below the unpaired sampling level (measured: d 0.00012, interval [0.00009, 0.00029], against
    /// the unpaired level 0.0068; std d 0.0021, interval [0.0014, 0.0041]).
    func testPairedComparisonCancelsTheSamplingError() throws {
        var g = SeededGenerator(seed: 4)
        let n = 300, p = 6
        let values = (0..<(n * p)).map { k in 1 + Double(k % p) + 0.3 * g.nextGaussian() }
        var points: [Double] = []
        for y in [0.0, 1.0] { for x in [0.0, 0.5, 2.0] { points += [x, y] } }
        let weights = try Quadrature.tensorTrapezoidWeights(points: points)
        let f = try MapBootstrap(values: values, rows: n, outputs: p, resamples: 400, seed: 1, stream: 6)
        let scaled = try MapBootstrap(values: values.map { 1.1 * $0 }, rows: n, outputs: p, resamples: 400, seed: 1, stream: 6)
        for m in FEMReferenceComparison.paired(surrogate: scaled, reference: f, weights: weights) {
            XCTAssertEqual(m.relativeL2, 0.1, accuracy: 1e-12, m.name)
            XCTAssertEqual(m.interval.lowerBound, 0.1, accuracy: 1e-12, m.name)
            XCTAssertEqual(m.interval.upperBound, 0.1, accuracy: 1e-12, m.name)
        }
        let noisy = try MapBootstrap(values: values.map { $0 + 0.01 * g.nextGaussian() }, rows: n, outputs: p, resamples: 400, seed: 1, stream: 6)
        let paired = FEMReferenceComparison.paired(surrogate: noisy, reference: f, weights: weights)
        let unpaired = FEMReferenceComparison.compare("mean", surrogate: noisy.mean, reference: f.mean, resamples: f.means,
                                                      intervals: f.meanIntervals, weights: weights, confidence: 0.95)
        let mean = paired[0]
        XCTAssertTrue(mean.interval.contains(mean.relativeL2))
        // ‖ē‖/‖f̄‖ with ē ~ 0.01/√n per point, ‖f̄‖ ≈ 3.9 (weighted RMS of 1…6): about 0.0002.
        XCTAssertLessThan(mean.relativeL2, 0.002)
        XCTAssertLessThan(mean.interval.upperBound - mean.interval.lowerBound, 0.25 * unpaired.samplingError)
        XCTAssertLessThan(paired[1].interval.upperBound, 0.02)
    }

    /// A model that cannot predict the reference's rows loses the paired table only: the report keeps
    /// the study's maps and names the reason.
    func testReportKeepsTheStudyMapsWhenThePairedRowsFail() throws {
        let result: JSONValue = ["fem_samples": 2000, "bootstrap_resamples": 1000, "confidence": 0.95, "comparable": true,
                                 "maps": [["map": "mean", "relative_l2": 0.03, "relative_l2_low": 0.01, "relative_l2_high": 0.2,
                                           "fem_sampling_error_relative_l2": 0.15, "share_of_points_inside_fem_interval": 0.99,
                                           "within_fem_sampling_error": true]],
                                 "paired_maps": [], "paired_error": "low-fidelity model (x), parameter set 7 (K12 = 1.0, …): no convergence"]
        let text = FEMReferenceComparison.markdown(result)
        XCTAssertTrue(text.contains("| mean | 0.0300 |"), text)
        XCTAssertTrue(text.contains("could not be compared: low-fidelity model (x), parameter set 7"), text)
        XCTAssertFalse(text.contains("paired: the same rows"), text)
        XCTAssertTrue(FEMReferenceComparison.csv(result).contains("study_maps,mean,0.03,"))
    }

    func testConfigurationDifferencesNameTheKeys() throws {
        let a = try PipelineConfig.parse(Self.toml).resolved
        let b = try PipelineConfig.parse(Self.toml.replacingOccurrences(of: "threads = 1", with: "threads = 2") + "\nregion = \"box\"\n").resolved
        XCTAssertEqual(FEMReferenceComparison.configurationDifferences(a, a), [])
        // [fem] threads changes no result; the region does.
        XCTAssertEqual(FEMReferenceComparison.configurationDifferences(a, b), ["uq.region"])
    }
}
