import XCTest
import Foundation
import NumericalFoundations
import PDE
import Surrogates
@testable import Pipeline

/// The surrogate wrappers the stages use: a POD-GP behind the log transform, saved and loaded as a
/// model folder, and the loader's errors.
final class SurrogateTests: XCTestCase {
    /// A positive few-mode field family c(x; μ) = exp(a(μ) ψ1(x) + b(μ) ψ2(x)) on 40 points, 2 parameters.
    func family(_ mu: [Double], count: Int) -> [Double] {
        var out: [Double] = []
        for i in 0..<count {
            let a: Double = sin(1.3 * mu[2 * i]) + 0.5 * mu[2 * i + 1]
            let b: Double = 0.4 * mu[2 * i] * mu[2 * i + 1]
            for j in 0..<40 {
                let x = Double(j) / 39
                out.append(exp(a * sin(3 * x) + b * cos(2 * x) - 2 * x))
            }
        }
        return out
    }

    func testPODGaussianProcessBehindTheLogTransformRoundTripsThroughItsFolder() throws {
        let n = 60
        var mu: [Double] = []   // in [−1, 1]
        for k in 0..<(2 * n) {
            let t = Double(k)
            mu.append(0.5 * sin(t * 12.9898) + 0.5 * cos(t * 4.1414))
        }
        let y = family(mu, count: n)
        let offset = try OutputTransform.logarithmOffset(for: y, relative: 1e-6)
        let transform = OutputTransform.logarithm(offset: offset)
        var gp = GaussianProcessOptions(); gp.restarts = 1
        let model = try PODGaussianProcess.fit(inputs: mu, outputs: y.map { transform.apply($0) }, count: n,
                                               options: PODGaussianProcessOptions(energyTolerance: 1e-10, maxRank: 6, gaussianProcess: gp, threads: 1))
        let scaler = try InputScaler(ranges: [-1...1, -1...1])
        let surrogate = try ReducedOrderSurrogate(gaussianProcess: model, features: InputFeatures(box: scaler, logarithmic: [false, false]), transform: transform, inputNames: ["a", "b"],
                                                  windViscosity: nil, trainSamples: n)
        let test = [0.1, -0.2, 0.5, 0.4, -0.6, 0.3]
        let truth = family(test, count: 3)
        let predicted = try surrogate.predict(parameters: test, rows: 3, threads: 1)
        var num = 0.0, den = 0.0
        for k in predicted.indices {
            let e: Double = predicted[k] - truth[k]
            num += e * e
            den += truth[k] * truth[k]
        }
        let error = (num / den).squareRoot()
        print("POD-GP behind log transform: relative L2 \(error)")
        XCTAssertLessThan(error, 1e-4)   // measured 1.0e-5
        // Uncertainty: the mean equals the point prediction; the ±2σ band contains it.
        let uncertain: (mean: [Double], standardDeviation: [Double])? = try surrogate.predictWithUncertainty(parameters: test, rows: 3, threads: 1)
        let (mean, std) = try XCTUnwrap(uncertain)
        XCTAssertEqual(mean, predicted)
        XCTAssertTrue(std.allSatisfy { $0 >= 0 && $0.isFinite })
        let interval: (lower: [Double], upper: [Double])? = try surrogate.predictInterval(parameters: test, rows: 3, k: 2)
        let band = try XCTUnwrap(interval)
        for k in predicted.indices { XCTAssertTrue(band.lower[k] <= predicted[k] && predicted[k] <= band.upper[k]) }

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rom-surrogate-\(getpid())", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try surrogate.save(to: folder)
        let loaded = try SurrogateLoader.load(from: folder)
        XCTAssertEqual(loaded.kind, "pod-gp")
        XCTAssertEqual(try loaded.predict(parameters: test, rows: 3, threads: 1), predicted, "bit for bit")
        XCTAssertEqual(loaded.outOfRange(parameters: [0, 1.5]).map(\.column), [1])
        // A bad parameter set names the set and the parameter.
        XCTAssertThrowsError(try loaded.predict(parameters: [0, .nan], rows: 1, threads: 1)) { XCTAssertTrue("\($0)".contains("b is nan"), "\($0)") }
    }

    func testLoaderNamesTheFolderAndWhatWasExpected() throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-model-\(getpid())")
        XCTAssertThrowsError(try SurrogateLoader.load(from: missing)) { XCTAssertTrue("\($0)".contains("expected a model folder"), "\($0)") }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("a-file-\(getpid())")
        try Data("x".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        XCTAssertThrowsError(try SurrogateLoader.load(from: file)) { XCTAssertTrue("\($0)".contains("is a file"), "\($0)") }
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("empty-model-\(getpid())", isDirectory: true)
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        XCTAssertThrowsError(try SurrogateLoader.load(from: empty)) { XCTAssertTrue("\($0)".contains("model.json"), "\($0)") }
    }
}

final class InputFeaturesTests: XCTestCase {
    /// Log inputs: the box ends map to ∓1 and the geometric mean to 0; linear ones as InputScaler.
    func testLogInputsMapTheBoxEndsAndTheGeometricMean() throws {
        let box = try InputScaler(ranges: [0.01...1.0, -2...2])
        let f = try InputFeatures(box: box, logarithmic: [true, false])
        XCTAssertEqual(f.scale(0.01, column: 0), -1, accuracy: 1e-15)
        XCTAssertEqual(f.scale(1.0, column: 0), 1, accuracy: 1e-15)
        XCTAssertEqual(f.scale(0.1, column: 0), 0, accuracy: 1e-15)
        XCTAssertEqual(f.scale(1, column: 1), box.scale(1, column: 1))
        XCTAssertThrowsError(try InputFeatures(box: try InputScaler(ranges: [0...1]), logarithmic: [true])) {
            XCTAssertTrue("\($0)".contains("positive lower bound"), "\($0)")
        }
    }
}

final class EnsembleTests: XCTestCase {
    /// Two networks of the same shape; the ensemble predicts w·a + (1 − w)·b, the folder round trip
    /// loads the members from the sibling folders, and the weight search finds the exact member.
    func testEnsembleIsTheWeightedAverageAndFindsTheExactMember() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ensemble-\(getpid())", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let scaler = try InputScaler(ranges: [-1...1, -1...1])
        var members: [SurrogateModel] = []
        for (name, seed) in [("a", UInt64(1)), ("b", UInt64(2))] {
            let layout = try NetworkLayout(widths: [2, 5, 3], activation: .tanh)
            let network = Network<Double>(layout: layout, seed: seed)
            let description = ModelDescription(layout: layout, precision: .float64, inputNames: ["x", "y"], epochsCompleted: 0, epochsPlanned: 0,
                                               trainSamples: 0, testSamples: 0)
            let folder = root.appendingPathComponent(name, isDirectory: true)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try SurrogateModel.write(network: network, description: description, inputScaler: scaler,
                                     outputScaler: try OutputScaler(mean: [0, 0, 0], standardDeviation: [1, 1, 1]), to: folder)
            members.append(try SurrogateModel.load(from: folder))
        }
        let x = [0.2, -0.4, 0.9, 0.1]
        let a = try members[0].predict(parameters: x, rows: 2), b = try members[1].predict(parameters: x, rows: 2)
        let ensemble = try EnsembleSurrogate(members: members, names: ["a", "b"], weights: [0.25, 0.75])
        let mixed = try ensemble.predict(parameters: x, rows: 2, threads: 1)
        for k in mixed.indices { XCTAssertEqual(mixed[k], 0.25 * a[k] + 0.75 * b[k], accuracy: 1e-15) }
        let folder = root.appendingPathComponent("ensemble", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try ensemble.save(to: folder)
        let loaded = try SurrogateLoader.load(from: folder)
        XCTAssertEqual(loaded.kind, "ensemble")
        XCTAssertEqual(try loaded.predict(parameters: x, rows: 2, threads: 1), mixed)
        // Truth = member a: the search puts all the weight on it.
        XCTAssertEqual(try EnsembleSurrogate.chooseWeights(members, parameters: x, truth: a, rows: 2, threads: 1), [1, 0])
        XCTAssertThrowsError(try EnsembleSurrogate(members: members, names: ["a", "b"], weights: [0.5, 0.6]))
        try FileManager.default.removeItem(at: root.appendingPathComponent("b"))
        XCTAssertThrowsError(try SurrogateLoader.load(from: folder)) { XCTAssertTrue("\($0)".contains("/b"), "\($0)") }
    }
}

/// The sensitivities file turned into the POD models' Jacobian targets (`fieldJacobians`).
final class FieldJacobianTests: XCTestCase {
    static let lower = [1.0, 0, 0.01, 0.01, -0.2, -0.2], upper = [20.0, 10, 0.5, 2, 0.2, 0.2]
    static let points = 5

    /// c_p(θ) = (1 + 0.1p) √K12 e^{−2D} (2 + u_h + 0.3 u_v U0)(1 + 0.05 K3) and its gradient.
    static func field(_ t: [Double]) -> [Double] {
        let common: Double = t[0].squareRoot() * exp(-2 * t[2]) * (2 + t[4] + 0.3 * t[5] * t[3]) * (1 + 0.05 * t[1])
        return (0..<points).map { (p: Int) -> Double in (1 + 0.1 * Double(p)) * common }
    }
    static func gradient(_ t: [Double]) -> [Double] {
        let c: [Double] = field(t)
        let g: Double = 2 + t[4] + 0.3 * t[5] * t[3]
        let perUnit: [Double] = [1 / (2 * t[0]), 0.05 / (1 + 0.05 * t[1]), -2, 0.3 * t[5] / g, 1 / g, 0.3 * t[3] / g]
        return c.flatMap { v in perUnit.map { v * $0 } }
    }

    /// Against central differences of log(c + δ) in the scaled inputs (K12, D, U0 in log), step 1e-6:
    /// 1e-6 relative. A sample with all-zero sensitivities is marked unavailable; a NaN and a missing
    /// file are named.
    func testChainRuleThroughTransformAndScaling() throws {
        let thetas = [[5.0, 3, 0.05, 1.2, 0.1, -0.05], [12.0, 7, 0.3, 0.2, -0.15, 0.1], [2.0, 1, 0.1, 1.8, 0.0, 0.15]]
        let params = thetas.flatMap { $0 }, observations = thetas.flatMap(Self.field)
        let scaler = try InputScaler(lower: Self.lower, upper: Self.upper)
        let dataset = try SurrogateDataset(parameters: params, parameterWidth: 6, split: [0, 0, 0], observations: observations,
                                           observationWidth: Self.points, status: [0, 0, 0], inputScaler: scaler, parameterNames: PollutantParameters.names)
        let features = try InputFeatures(box: scaler, logarithmic: [true, false, true, true, false, false])
        let transform = OutputTransform.logarithm(offset: 0.01)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("field-jacobians-\(getpid())", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("dc3_dtheta.npy")
        var sensitivities = Self.gradient(thetas[0]) + [Double](repeating: 0, count: Self.points * 6) + Self.gradient(thetas[2])
        try Npy.write(sensitivities, shape: [3, Self.points, 6], to: url)
        let prepared = SurrogateFitStage.Prepared(dataset: dataset, inputScaler: scaler, fitRows: [0, 1, 2], validationRows: [], transform: transform,
                                                  features: features, sensitivities: url)
        let jacobians = try SurrogateFitStage.fieldJacobians(prepared, rows: [2, 1, 0])
        XCTAssertEqual(jacobians.available, [true, false, true])
        func theta(_ x: [Double]) -> [Double] {
            (0..<6).map { (j: Int) -> Double in
                let share: Double = (x[j] + 1) / 2
                if features.logarithmic[j] {
                    let lo: Double = log(Self.lower[j]), hi: Double = log(Self.upper[j])
                    return exp(lo + share * (hi - lo))
                }
                return Self.lower[j] + share * (Self.upper[j] - Self.lower[j])
            }
        }
        var worst = 0.0
        for (slot, row) in [(0, 2), (2, 0)] {  // rows [2, 1, 0] were asked for
            let x = (0..<6).map { features.scale(thetas[row][$0], column: $0) }
            for j in 0..<6 {
                var up = x, down = x
                up[j] += 1e-6; down[j] -= 1e-6
                let zu = Self.field(theta(up)).map(transform.apply), zd = Self.field(theta(down)).map(transform.apply)
                for p in 0..<Self.points {
                    let expected = (zu[p] - zd[p]) / 2e-6
                    worst = max(worst, abs(jacobians.values[(slot * Self.points + p) * 6 + j] - expected) / max(abs(expected), 1e-3))
                }
            }
        }
        XCTAssertLessThan(worst, 1e-6)
        sensitivities[7] = .nan
        try Npy.write(sensitivities, shape: [3, Self.points, 6], to: url)
        XCTAssertThrowsError(try SurrogateFitStage.fieldJacobians(prepared, rows: [0])) { e in
            XCTAssertTrue("\(e)".contains("dc3_dtheta.npy") && "\(e)".contains("sample 0") && "\(e)".contains("K3"), "\(e)")
        }
        try FileManager.default.removeItem(at: url)
        XCTAssertThrowsError(try SurrogateFitStage.fieldJacobians(prepared, rows: [0])) { e in
            XCTAssertTrue("\(e)".contains("missing") && "\(e)".contains("podnn_derivative_weight"), "\(e)")
        }
    }
}
