import Foundation
import XCTest
import _TestSupport
import PDE
import NumericalFoundations
import Surrogates
import Pipeline

/// A small regression problem for Algorithm 1 on a real trainer: 6 inputs, 5 smooth outputs
/// (`SyntheticRegression`), 40 training and 12 test samples, network 6 → 12 → 8 → 5 in float32,
/// batches of 8 (5 optimizer steps per epoch), Adam with lr 1e-2. Small enough for a debug build.
enum SmallProblem {
    static let widths = [6, 12, 8, 5]
    static let names = PollutantParameters.names
    static let ranges: [ClosedRange<Double>] = Array(repeating: 0...1, count: 6)

    static var layout: NetworkLayout { try! NetworkLayout(widths: widths, activation: .softsign) }

    static func trainer(hook: DMDAccelerator? = nil, batch: Int = 8) throws -> Trainer<Float> {
        let problem = SyntheticRegression(inputWidth: 6, outputWidth: 5, seed: 1)
        let data = problem.samples(train: 40, test: 12, seed: 2, as: Float.self)
        let t = try Trainer(network: Network<Float>(layout: layout, seed: 1),
                            options: TrainerOptions(batchSize: batch, adam: AdamSettings(learningRate: 1e-2), shuffleSeed: 3, threads: 1),
                            train: data.train, test: data.test, outputVariances: Array(repeating: 1, count: 5))
        t.hook = hook
        return t
    }

    static func accelerator(_ settings: DMDTrainingSettings, eigenvalues: URL? = nil) throws -> DMDAccelerator {
        try DMDAccelerator(settings: settings, layout: layout, eigenvalueDirectory: eigenvalues, copyThreads: 1)
    }

    /// The same problem as an in-memory `SurrogateDataset` (parameters in [0, 1]^6, every 4th sample
    /// a test sample) for `TrainingRun` and the sweep.
    static func dataset(samples: Int = 48) throws -> SurrogateDataset {
        let problem = SyntheticRegression(inputWidth: 6, outputWidth: 5, seed: 1)
        var g = SeededGenerator(seed: 5, stream: 0)
        let params = (0..<(samples * 6)).map { _ in g.nextUniform() }
        let outputs = problem.outputs(for: params.map { 2 * $0 - 1 })
        return try SurrogateDataset(parameters: params, parameterWidth: 6, split: (0..<samples).map { $0 % 4 == 3 ? 1 : 0 },
                                    observations: outputs, observationWidth: 5, status: Array(repeating: 0, count: samples),
                                    inputScaler: InputScaler(ranges: ranges), parameterNames: names)
    }

    static func runSettings(epochs: Int, checkpointEvery: Int = 2, stopAfter: Int? = nil) -> TrainingRunSettings {
        TrainingRunSettings(hiddenWidths: [12, 8], precision: .float32, networkSeed: 1,
                            trainer: TrainerOptions(batchSize: 8, adam: AdamSettings(learningRate: 1e-2), shuffleSeed: 2, threads: 1),
                            epochs: epochs, checkpointEvery: checkpointEvery, inputRanges: ranges, inputNames: names,
                            stopAfterEpoch: stopAfter)
    }
}

func temporaryDirectory(_ label: String) throws -> URL { try makeTemporaryFolder("dmdtraining-\(label)") }

/// A stand-in trainer whose parameters the test sets directly: every layer follows an exactly
/// linear trajectory w_k = B_ℓ D_ℓ^k c_ℓ (k = 1, 2, …), with D_ℓ block-diagonal — rotation-scaling
/// blocks [[a, −b], [b, a]] for the complex pairs a ± ib and 1 × 1 blocks for the real eigenvalues —
/// and a random B_ℓ (n × d, n ≫ d). The trajectory's DMD is then exact: the eigenvalues are those of
/// D_ℓ and w_{m+s} = B_ℓ D_ℓ^{m+s} c_ℓ. The loss is whatever the test sets.
final class LinearTrajectoryTrainer: TrainerAccess {
    struct Dynamics {
        /// (a, b) per block: b ≠ 0 a complex pair a ± ib, b = 0 a real eigenvalue a.
        var blocks: [(Double, Double)]
        var basis: [Double]       // n × d, row-major
        var initial: [Double]     // c, d
        var dimension: Int { blocks.reduce(0) { $0 + ($1.1 == 0 ? 1 : 2) } }
        var eigenvalues: [(Double, Double)] {
            blocks.flatMap { $0.1 == 0 ? [($0.0, 0.0)] : [($0.0, $0.1), ($0.0, -$0.1)] }
        }

        /// D^k c, by repeated multiplication for integer k and through polar form for real k.
        func state(_ k: Double) -> [Double] {
            var out: [Double] = []
            var i = 0
            for (a, b) in blocks {
                if b == 0 {
                    // a^k on the principal branch: |a|^k cos(kπ) for a < 0 (the DMD library's convention).
                    let value = a >= 0 ? Foundation.pow(a, k) : Foundation.pow(-a, k) * Foundation.cos(k * Double.pi)
                    out.append(value * initial[i]); i += 1
                } else {
                    let r = Foundation.pow((a * a + b * b).squareRoot(), k), θ = k * Foundation.atan2(b, a)
                    let c = r * Foundation.cos(θ), s = r * Foundation.sin(θ)
                    let x = initial[i], y = initial[i + 1]
                    out.append(c * x - s * y); out.append(s * x + c * y); i += 2
                }
            }
            return out
        }

        func parameters(_ k: Double, n: Int) -> [Double] {
            let z = state(k), d = dimension
            return (0..<n).map { row in (0..<d).reduce(0.0) { $0 + basis[row * d + $1] * z[$1] } }
        }
    }

    let layout: NetworkLayout
    var precision: NetworkPrecision { .float64 }
    var completedEpochs = 0
    var optimizerSteps = 0
    let buffers: [UnsafeMutableBufferPointer<Double>]
    var loss: ([[Double]]) -> Double = { _ in 1 }
    var lossEvaluations = 0
    var resets: [Int] = []

    init(layout: NetworkLayout) {
        self.layout = layout
        buffers = (0..<layout.layerCount).map { l in
            let b = UnsafeMutableBufferPointer<Double>.allocate(capacity: layout.parameterCount(ofLayer: l))
            b.initialize(repeating: 0)
            return b
        }
    }

    deinit { for b in buffers { b.deallocate() } }

    var parameters: [[Double]] { buffers.map { Array($0) } }

    func set(layer: Int, _ values: [Double]) { _ = buffers[layer].update(fromContentsOf: values) }

    func readParameters<R>(ofLayer layer: Int, _ body: (ParameterBuffer) throws -> R) rethrows -> R { try body(.float64(buffers[layer])) }
    func modifyParameters<R>(ofLayer layer: Int, _ body: (ParameterBuffer) throws -> R) rethrows -> R { try body(.float64(buffers[layer])) }
    func copyParameters(ofLayer layer: Int, into destination: UnsafeMutableBufferPointer<Double>) {
        _ = destination.update(fromContentsOf: buffers[layer])
    }
    func assignParameters(ofLayer layer: Int, from source: UnsafeBufferPointer<Double>) { _ = buffers[layer].update(fromContentsOf: source) }
    func trainingLoss() -> LossValue {
        lossEvaluations += 1
        let value = loss(parameters)
        return LossValue(scaled: value, physical: value)
    }
    func testLoss() -> LossValue? { let v = 2 * loss(parameters); return LossValue(scaled: v, physical: v) }
    func resetOptimizerMoments(ofLayer layer: Int) { resets.append(layer) }

    /// Random dynamics for a layer of n parameters with the given blocks.
    static func dynamics(n: Int, blocks: [(Double, Double)], seed: UInt64) -> Dynamics {
        var g = SeededGenerator(seed: seed, stream: 9)
        let d = blocks.reduce(0) { $0 + ($1.1 == 0 ? 1 : 2) }
        return Dynamics(blocks: blocks, basis: (0..<(n * d)).map { _ in g.nextGaussian() },
                        initial: (0..<d).map { _ in 1 + g.nextUniform() })
    }
}

func relativeDifference(_ a: [Double], _ b: [Double]) -> Double {
    var num = 0.0, den = 0.0
    for (x, y) in zip(a, b) { num += (x - y) * (x - y); den += y * y }
    return (num / den).squareRoot()
}

/// History rows as text cells by column name, without the columns that measure time.
func historyTable(_ history: TrainingHistory) -> [[String: String]] {
    let lines = history.csv().split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    let header = lines[0]
    return lines.dropFirst().map { cells in Dictionary(uniqueKeysWithValues: zip(header, cells)) }
}

let dmdTimingColumns: Set<String> = ["wall_seconds", "backprop_seconds", "evaluation_seconds", "snapshot_seconds", "dmd_seconds",
                                     "assign_seconds", "jump_loss_seconds"]

func assertThrowsMessage<T>(_ body: @autoclosure () throws -> T, contains fragments: [String],
                            file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        let text = "\(error)"
        for f in fragments where !text.contains(f) {
            XCTFail("error \"\(text)\" does not mention \"\(f)\"", file: file, line: line)
        }
    }
}
