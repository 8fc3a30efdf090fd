import NumericalFoundations
@testable import Surrogates
@testable import Reporting
import Foundation
import XCTest

final class MetricsTests: XCTestCase {
    // Hand-computed values are exact in binary or to a few ulps; 1e-15 relative covers the rounding
    // of the handful of additions involved.
    let tolerance = 1e-15

    let predicted = NDArray<Double>(shape: [2, 2], values: [1, 2, 3, 4])
    let truth = NDArray<Double>(shape: [2, 2], values: [1, 0, 0, 4])

    func testMeanSquaredErrorByHand() throws {
        // Differences 0, 2, 3, 0 → squares 0, 4, 9, 0 → 13 / 4.
        XCTAssertEqual(try Metrics.meanSquaredError(predicted: predicted, truth: truth), 3.25, accuracy: 3.25 * tolerance)
    }

    func testScaledMeanSquaredErrorByHand() throws {
        // σ = (2, 0.5): scaled differences 0/2, 2/0.5 = 4, 3/2 = 1.5, 0 → squares 0, 16, 2.25, 0 → 18.25 / 4.
        XCTAssertEqual(try Metrics.scaledMeanSquaredError(predicted: predicted, truth: truth, outputScale: [2, 0.5]),
                       4.5625, accuracy: 4.5625 * tolerance)
        // σ = 1 everywhere reproduces the physical MSE.
        XCTAssertEqual(try Metrics.scaledMeanSquaredError(predicted: predicted, truth: truth, outputScale: [1, 1]), 3.25)
    }

    func testRelativeL2ErrorsByHandIncludingZeroTruthAndTinyValues() throws {
        let p = NDArray<Double>(shape: [5, 2], values: [6, 8, 1, 2, 1, 1, 2e-200, 0, 1e200, 1e200])
        let t = NDArray<Double>(shape: [5, 2], values: [3, 4, 0, 2, 0, 0, 1e-200, 0, 1e200, 0])
        let errors = try Metrics.relativeL2Errors(predicted: p, truth: t)
        XCTAssertEqual(errors.count, 5)
        XCTAssertEqual(errors[0]!, 1, accuracy: tolerance)          // ‖(3,4)‖ / ‖(3,4)‖
        XCTAssertEqual(errors[1]!, 0.5, accuracy: tolerance)        // ‖(1,0)‖ / ‖(0,2)‖
        XCTAssertNil(errors[2])                                     // truth all zero: undefined
        XCTAssertEqual(errors[3]!, 1, accuracy: tolerance)          // squares would underflow without scaling
        XCTAssertEqual(errors[4]!, 1, accuracy: tolerance)          // squares would overflow without scaling
        let summary = try RelativeErrorSummary(perSample: errors)
        XCTAssertEqual(summary.zeroTruthSamples, [2])
        // Defined values 1, 0.5, 1, 1 → sorted 0.5, 1, 1, 1: median h = 1.5 → 1; p95 h = 2.85 → 1; mean 0.875.
        XCTAssertEqual(summary.median!, 1, accuracy: tolerance)
        XCTAssertEqual(summary.percentile95!, 1, accuracy: tolerance)
        XCTAssertEqual(summary.mean!, 0.875, accuracy: tolerance)
        XCTAssertEqual(summary.json["zero_truth_samples"], [2])
        XCTAssertEqual(summary.json["per_sample"]?.array?[2], .null)
    }

    func testPercentileLinearInterpolationByHand() throws {
        let values: [Double] = [4, 1, 3, 2]   // sorted 1, 2, 3, 4; h = 3p/100
        XCTAssertEqual(try Metrics.percentile(values, 0), 1)
        XCTAssertEqual(try Metrics.percentile(values, 100), 4)
        XCTAssertEqual(try Metrics.percentile(values, 25), 1.75, accuracy: tolerance)   // h = 0.75
        XCTAssertEqual(try Metrics.median(values), 2.5, accuracy: tolerance)            // h = 1.5
        XCTAssertEqual(try Metrics.percentile(values, 95), 3.85, accuracy: 4 * tolerance) // h = 2.85
    }

    func testPercentileEdgeCasesOneAndTwoValues() throws {
        for p in [0.0, 50, 95, 100] { XCTAssertEqual(try Metrics.percentile([7], p), 7) }
        XCTAssertEqual(try Metrics.median([10, 0]), 5)
        XCTAssertEqual(try Metrics.percentile([10, 0], 95), 9.5, accuracy: tolerance)
        XCTAssertEqual(try Metrics.percentile([10, 0], 0), 0)
        XCTAssertEqual(try Metrics.percentile([10, 0], 100), 10)
    }

    func testPercentileAgreesWithNumPy() throws {
        // Independent check of the interpolation rule against numpy.percentile (default "linear").
        var noise = Synthetic.Noise(state: 5)
        let values = (0..<37).map { _ in noise.next() * 10 }
        let ps = [0.0, 5, 33.3, 50, 95, 99.9, 100]
        let script = "import numpy as np, sys; v=[float(x) for x in sys.argv[1].split(',')]; "
            + "print(' '.join(repr(float(np.percentile(v, p))) for p in [\(ps.map { "\($0)" }.joined(separator: ","))]))"
        guard let output = runPython(script, arguments: [values.map { "\($0)" }.joined(separator: ",")]) else {
            throw XCTSkip("python3 with numpy is not available")
        }
        let expected = output.split(separator: " ").compactMap { Double($0) }
        XCTAssertEqual(expected.count, ps.count)
        for (p, e) in zip(ps, expected) {
            // Same formula, different summation order: agreement to a few ulps of the data scale (10).
            XCTAssertEqual(try Metrics.percentile(values, p), e, accuracy: 1e-13, "p = \(p)")
        }
    }

    func testModelAccuracyCombinesTheMetrics() throws {
        // Train: the 2 × 2 pair above (MSE 3.25, scaled with σ = (2, 0.5): 4.5625).
        // Test: prediction (2, 0), truth (1, 0) → MSE (1 + 0)/2 = 0.5; scaled (1/2)²/2 = 0.125; relative L2 1.
        let testPredicted = NDArray<Double>(shape: [1, 2], values: [2, 0])
        let testTruth = NDArray<Double>(shape: [1, 2], values: [1, 0])
        let accuracy = try ModelAccuracy(trainPredicted: predicted, trainTruth: truth, testPredicted: testPredicted,
                                         testTruth: testTruth, outputScale: [2, 0.5])
        XCTAssertEqual(accuracy.trainMSE, 3.25, accuracy: 3.25 * tolerance)
        XCTAssertEqual(accuracy.trainScaledMSE, 4.5625, accuracy: 4.5625 * tolerance)
        XCTAssertEqual(accuracy.testMSE, 0.5, accuracy: tolerance)
        XCTAssertEqual(accuracy.testScaledMSE, 0.125, accuracy: tolerance)
        XCTAssertEqual(accuracy.testRelativeL2.median!, 1, accuracy: tolerance)
        XCTAssertEqual(accuracy.json["test_mse_scaled"], 0.125)
        let roundTrip = try JSONValue.parse(Data(accuracy.json.jsonText().utf8))
        XCTAssertEqual(roundTrip, accuracy.json)
    }

    func testBadInputGivesClearErrors() {
        XCTAssertThrowsError(try Metrics.percentile([], 50)) { XCTAssertTrue("\($0)".contains("no values")) }
        XCTAssertThrowsError(try Metrics.percentile([1, .nan], 50)) { XCTAssertTrue("\($0)".contains("value 1 is nan")) }
        XCTAssertThrowsError(try Metrics.percentile([1], 101)) { XCTAssertTrue("\($0)".contains("[0, 100]")) }
        let other = NDArray<Double>(shape: [1, 4], values: [1, 2, 3, 4])
        XCTAssertThrowsError(try Metrics.meanSquaredError(predicted: predicted, truth: other)) {
            XCTAssertTrue("\($0)".contains("[2, 2]") && "\($0)".contains("[1, 4]"))
        }
        let diverged = NDArray<Double>(shape: [2, 2], values: [1, 2, .infinity, 4])
        XCTAssertThrowsError(try Metrics.meanSquaredError(predicted: diverged, truth: truth)) {
            XCTAssertEqual("\($0)", "prediction of sample 1, output 0 is inf; expected a finite number")
        }
        XCTAssertThrowsError(try Metrics.scaledMeanSquaredError(predicted: predicted, truth: truth, outputScale: [1, 0])) {
            XCTAssertTrue("\($0)".contains("scale of output 1 is 0.0"))
        }
        XCTAssertThrowsError(try Metrics.scaledMeanSquaredError(predicted: predicted, truth: truth, outputScale: [1])) {
            XCTAssertTrue("\($0)".contains("1 output scales given for 2 outputs"))
        }
    }
}

/// Runs a python3 snippet; nil when python3 or numpy is missing (the caller skips).
func runPython(_ script: String, arguments: [String]) -> String? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script] + arguments
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return nil }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}
