import Foundation
import XCTest
import PDE
import NumericalFoundations
@testable import Surrogates

/// A data folder like the pipeline's (samples/ and fem/) in a temporary directory, with a smooth
/// synthetic c3 so that a small network can learn it, and a few failed FEM samples (status ≠ 0,
/// NaN rows) that training must leave out.
struct TestDataFolder {
    static let names = PollutantParameters.names
    static let ranges: [ClosedRange<Double>] = [1...20, 0...10, 0.01...0.5, 0.01...2.0, -0.2...0.2, -0.2...0.2]

    let root: URL
    var params: [Double]
    var split: [UInt8]
    var c3: [Double]
    var status: [Int32]
    let samples: Int
    let outputs: Int

    init(samples: Int = 40, outputs: Int = 5, failed: [Int] = [3, 17], testEvery: Int = 4) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("nn-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        self.samples = samples
        self.outputs = outputs
        var g = SeededGenerator(seed: 42, stream: 0)
        params = []
        for _ in 0..<samples {
            for r in Self.ranges { params.append(r.lowerBound + (r.upperBound - r.lowerBound) * g.nextUniform()) }
        }
        split = (0..<samples).map { $0 % testEvery == testEvery - 1 ? 1 : 0 }
        status = (0..<samples).map { failed.contains($0) ? 2 : 0 }
        c3 = []
        for i in 0..<samples {
            let p = Array(params[(i * 6)..<(i * 6 + 6)])
            for j in 0..<outputs {
                if status[i] != 0 { c3.append(.nan); continue }
                // Smooth, positive, varied per output: a stand-in for a concentration.
                c3.append(0.01 * (1 + Double(j)) * exp(-0.05 * p[1] - Double(j) * p[2]) * (1 + 0.5 * sin(p[0] / 4 + p[3] + Double(j))) + 1e-3 * p[4] * p[5])
            }
        }
        try write()
    }

    var dataURL: URL { root.appendingPathComponent("data", isDirectory: true) }
    // The pipeline's file names (DataLayout's, in StageSupport, which this library does not import).
    var paramsURL: URL { dataURL.appendingPathComponent("samples/params.npy") }
    var splitURL: URL { dataURL.appendingPathComponent("samples/split.npy") }
    var observationsURL: URL { dataURL.appendingPathComponent("fem/c3.npy") }
    var statusURL: URL { dataURL.appendingPathComponent("fem/status.npy") }

    func write() throws {
        try Npy.write(params, shape: [params.count / 6, 6], to: paramsURL)
        try Npy.write(split, shape: [split.count], to: splitURL)
        try Npy.write(c3, shape: [c3.count / outputs, outputs], to: observationsURL)
        try Npy.write(status, shape: [status.count], to: statusURL)
    }

    func load() throws -> SurrogateDataset {
        try SurrogateDataset.load(params: paramsURL, split: splitURL, observations: observationsURL, status: statusURL,
                                  inputScaler: InputScaler(ranges: Self.ranges), parameterNames: Self.names)
    }

    func remove() { try? FileManager.default.removeItem(at: root) }

    static func settings(hidden: [Int] = [12, 8], epochs: Int = 6, batch: Int = 8, checkpointEvery: Int = 2,
                         precision: NetworkPrecision = .float32, stopAfter: Int? = nil, threads: Int = 1) -> TrainingRunSettings {
        TrainingRunSettings(hiddenWidths: hidden, precision: precision, networkSeed: 1,
                            trainer: TrainerOptions(batchSize: batch, adam: AdamSettings(learningRate: 1e-2), shuffleSeed: 2, threads: threads),
                            epochs: epochs, checkpointEvery: checkpointEvery, inputRanges: ranges, inputNames: names,
                            windViscosity: 1e-5, stopAfterEpoch: stopAfter)
    }
}

/// Asserts that `body` throws an error whose description contains every fragment.
func XCTAssertThrowsMessage<T>(_ body: @autoclosure () throws -> T, contains fragments: [String],
                               file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        let text = "\(error)"
        for f in fragments where !text.contains(f) {
            XCTFail("error \"\(text)\" does not mention \"\(f)\"", file: file, line: line)
        }
    }
}

/// A divergence reported by a test hook.
struct TestDivergence: DivergenceError { var description: String }

/// A hook that makes training diverge in one epoch: it can fill layer 0 with NaN (so that the trainer's
/// own check fires) and/or throw a `TestDivergence` ("blown up in epoch N").
final class DivergingHook: TrainingHook {
    let epoch: Int
    let poisons: Bool
    let throwsDivergence: Bool
    init(epoch: Int, poisons: Bool = false, throwsDivergence: Bool = true) {
        self.epoch = epoch; self.poisons = poisons; self.throwsDivergence = throwsDivergence
    }
    func afterEpoch(_ trainer: TrainerAccess) throws -> [String: Double] {
        guard trainer.completedEpochs == epoch else { return [:] }
        if poisons {
            trainer.modifyParameters(ofLayer: 0) { buffer in
                switch buffer {
                case .float64(let b): b.update(repeating: .nan)
                case .float32(let b): b.update(repeating: .nan)
                }
            }
        }
        if throwsDivergence { throw TestDivergence(description: "blown up in epoch \(trainer.completedEpochs)") }
        return [:]
    }
}
