import Foundation
import PDE
import NumericalFoundations
import Surrogates
import Reporting

/// Test error against the number of training samples (does more data help a surrogate?): each model refitted on
/// nested subsets of the training samples (the first n of one seeded permutation, so that a larger
/// subset contains the smaller ones), its validation split carved from the subset, scored on the
/// whole test split. Tells a user whether more samples or a better model is the way forward.
public struct LearningCurve {
    public static let folder = DataLayout.LearningCurveFolder.folderName
    public static let file = DataLayout.LearningCurveFolder.csvFile

    public struct Point: Equatable, Sendable {
        public var model: String
        public var samples: Int
        public var median: Double
        public var p95: Double
        public var seconds: Double
    }
    public var points: [Point]

    /// The models of the curve: "paper" is the paper's network and recipe (identity transform, Adam
    /// at a constant rate, the last epoch kept) on the same rows; the others are `SurrogateFitStage`'s.
    public static let models = ["paper", "tuned", "pod_gp", "pod_nn"]

    /// The training rows in the seeded order whose first n are the subset of n samples (so that a
    /// larger subset contains the smaller ones). The refine loop starts from such a subset too.
    public static func nestedOrder(_ training: [Int], seed: UInt64) -> [Int] {
        var generator = SeededGenerator(seed: seed, stream: 11)
        return generator.permutation(training.count).map { training[$0] }
    }

    public static func run(config: PipelineConfig, dataDirectory: URL, models: [String], sizes: [Int], paperEpochs: Int?, threads: Int,
                           notice: @escaping (String) -> Void) throws -> LearningCurve {
        let all = try SurrogateFitStage.prepare(config: config, dataDirectory: dataDirectory)
        let training = all.dataset.trainIndices
        let order = nestedOrder(training, seed: config.surrogate.validationSeed)
        var points: [Point] = []
        for n in sizes {
            guard n >= 4, n <= training.count else {
                throw StageError("learning curve: a subset of \(n) samples is impossible with \(training.count) training samples (expected 4 … \(training.count))")
            }
            let subset = Array(order.prefix(n)).sorted()
            let prepared = try SurrogateFitStage.prepare(config: config, dataDirectory: dataDirectory, trainingRows: subset)
            for model in models {
                let start = monotonicSeconds()
                let surrogate: FieldSurrogate
                if model == "paper" {
                    guard let activation = Activation(rawValue: config.network.activation.rawValue),
                          let precision = NetworkPrecision(rawValue: config.network.precision.rawValue) else {
                        throw StageError("network.activation / network.precision not supported by the network")
                    }
                    var options = RegularizedTrainingOptions(
                        hiddenWidths: config.network.hidden, activation: activation, precision: precision, networkSeed: config.network.seed,
                        shuffleSeed: config.training.seed, batchSize: config.training.batchSize, learningRate: config.training.learningRate,
                        minimumLearningRateFraction: 1, schedule: .constant, warmupEpochs: 0, weightDecay: 0,
                        epochs: paperEpochs ?? config.training.epochs, patience: 0, threads: threads,
                        outputStandardDeviationFloor: config.network.outputStdFloor)
                    options.restoreBest = false
                    surrogate = try RegularizedTraining.fit(dataset: prepared.dataset, fitRows: prepared.fitRows, validationRows: prepared.validationRows,
                                                            inputScaler: prepared.inputScaler, transform: .identity, options: options,
                                                            inputNames: PollutantParameters.names).model
                } else {
                    guard let kind = SurrogateSettings.Model(rawValue: model) else {
                        throw StageError("learning curve: unknown model \"\(model)\" (expected \(Self.models.joined(separator: ", ")))")
                    }
                    surrogate = try SurrogateFitStage.fit(kind, prepared: prepared, config: config, threads: threads).surrogate
                }
                let errors = try SurrogateFitStage.relativeErrors(surrogate, rows: prepared.dataset.testIndices, dataset: prepared.dataset, threads: threads).errors
                let point = Point(model: model, samples: n, median: errors.median ?? .nan, p95: errors.percentile95 ?? .nan,
                                  seconds: monotonicSeconds() - start)
                notice(String(format: "learning curve: %@ on %d samples: test median %.4f, p95 %.4f (%.0f s)", model, n, point.median, point.p95, point.seconds))
                points.append(point)
            }
        }
        return LearningCurve(points: points)
    }

    public func csv() -> String {
        "model,samples,test_median,test_p95,seconds\n" + points.map { "\($0.model),\($0.samples),\($0.median),\($0.p95),\($0.seconds)" }.joined(separator: "\n") + "\n"
    }

    public static func read(_ url: URL) throws -> LearningCurve {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { throw ArrayFileError(path: url.path, "cannot be read: expected a learning-curve CSV") }
        var points: [Point] = []
        for (k, line) in text.split(separator: "\n").enumerated() where k > 0 {
            let f = line.split(separator: ",").map(String.init)
            guard f.count == 5, let n = Int(f[1]), let median = Double(f[2]), let p95 = Double(f[3]), let seconds = Double(f[4]) else {
                throw ArrayFileError(path: url.path, "line \(k + 1): expected model,samples,test_median,test_p95,seconds")
            }
            points.append(Point(model: f[0], samples: n, median: median, p95: p95, seconds: seconds))
        }
        return LearningCurve(points: points)
    }

    public var json: JSONValue {
        .array(points.map { ["model": .string($0.model), "samples": JSONValue($0.samples), "test_median": JSONValue($0.median),
                             "test_p95": JSONValue($0.p95), "seconds": JSONValue($0.seconds)] })
    }

    public func figure() -> Figure {
        var names: [String] = []
        for p in points where !names.contains(p.model) { names.append(p.model) }
        func series(_ value: (Point) -> Double) -> [PlotSeries] {
            names.enumerated().map { k, name in
                let rows = points.filter { $0.model == name }.sorted { $0.samples < $1.samples }
                return .line(LineSeries(name, x: rows.map { Double($0.samples) }, y: rows.map(value), color: RGBColor.palette[k % RGBColor.palette.count]))
            }
        }
        return Figure(name: "learning-curve", title: "Learning curve", panels: [
            Panel("median", .xy(XYPlot(xAxis: Axis("training samples", scale: .log10), yAxis: Axis("test rel. L2, median", scale: .log10), series: series(\.median)))),
            Panel("95th percentile", .xy(XYPlot(xAxis: Axis("training samples", scale: .log10), yAxis: Axis("test rel. L2, p95", scale: .log10), series: series(\.p95)))),
        ], columns: 2)
    }
}
