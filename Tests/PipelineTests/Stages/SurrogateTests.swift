import XCTest
import Foundation
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
