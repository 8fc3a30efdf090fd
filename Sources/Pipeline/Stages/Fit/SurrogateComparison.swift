import Foundation
import NumericalFoundations
import Surrogates
import Reporting

/// The report's comparison of every surrogate in DATA/models: the paper's runs and the
/// fitted models side by side, on the same test samples, with the diagnosis of where they fail.
public enum SurrogateComparison {
    /// The model folders compared, in this order, when present.
    public static let candidates = ["plain", "dmd", "tuned", "pod_gp", "pod_nn", "ensemble"]

    public struct Row {
        public var name: String
        public var kind: String
        public var parameters: Int
        public var trainingSeconds: Double?
        public var test: RelativeErrorSummary
        /// Mean over test samples and points of (prediction − truth)², c3 units².
        public var testMSEPhysical: Double
        /// The same after standardising each point by the training set's mean and standard deviation.
        public var testMSEScaled: Double
        public var predictionSecondsPer1000: Double
        public var validationMedian: Double?
        /// POD-GP: share of test points (where the truth is not negligible) inside the ±2σ band.
        public var coverage2Sigma: Double?
    }

    /// Reads every candidate folder with a model and scores it on the test rows.
    public static func rows(dataDirectory: URL, params: NDArray<Double>, c3: NDArray<Double>, trainRows: [Int], testRows: [Int],
                            box: [ClosedRange<Double>], wind: WindSettings, threads: Int) throws -> [Row] {
        let p = c3.shape[1], d = params.shape[1]
        let scaler = try OutputScaler(fitting: c3.values, width: p, rows: trainRows, relativeFloor: 1e-6)
        let truth = testRows.flatMap { c3.values[($0 * p)..<(($0 + 1) * p)] }
        let testParameters = testRows.flatMap { params.values[($0 * d)..<(($0 + 1) * d)] }
        var result: [Row] = []
        for name in candidates {
            let folder = DataLayout(dataDirectory).models.model(name).folder
            let hasModel = [SurrogateModel.descriptionFile, ReducedOrderSurrogate.descriptionFile, EnsembleSurrogate.descriptionFile]
                .contains { FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path) }
            guard hasModel, !testRows.isEmpty else { continue }
            let surrogate = try SurrogateLoader.loadWithPipelineSources(from: folder)
            guard surrogate.outputWidth == p, surrogate.inputWidth == d else {
                throw ArrayFileError(path: folder.path, "model of \(surrogate.inputWidth) → \(surrogate.outputWidth) values; the data have \(d) → \(p)")
            }
            let predicted = try surrogate.predict(parameters: testParameters, rows: testRows.count, threads: threads)
            let summary = try RelativeErrorSummary(predicted: NDArray(shape: [testRows.count, p], values: predicted),
                                                   truth: NDArray(shape: [testRows.count, p], values: truth))
            var physical = 0.0, scaled = 0.0
            for k in 0..<predicted.count {
                let e = predicted[k] - truth[k]
                physical += e * e
                let s = e / scaler.standardDeviation[k % p]
                scaled += s * s
            }
            physical /= Double(predicted.count); scaled /= Double(predicted.count)
            var training: Double? = nil, validation: Double? = nil
            if let data = try? Data(contentsOf: folder.appendingPathComponent(SurrogateFitStage.fitFile)), let fit = try? JSONValue.parse(data) {
                training = fit["training_wall_seconds"]?.number
                validation = fit["validation_relative_l2"]?["median"]?.number
            } else if let data = try? Data(contentsOf: folder.appendingPathComponent(DataLayout.manifestFile)), let manifest = try? JSONValue.parse(data) {
                training = manifest["details"]?["final"]?["training_wall_seconds"]?.number
            }
            var coverage: Double? = nil
            if let rom = surrogate as? ReducedOrderSurrogate, let band = try rom.predictInterval(parameters: testParameters, rows: testRows.count, k: 2, threads: threads) {
                // Points where c3 is below 1e-3 of the sample's largest value carry no weight in the
                // relative error and sit at the transform's floor; they are left out of the count.
                var inside = 0, counted = 0
                for (i, _) in testRows.enumerated() {
                    let row = truth[(i * p)..<((i + 1) * p)]
                    let floor = 1e-3 * (row.max() ?? 0)
                    for j in 0..<p where truth[i * p + j] >= floor {
                        counted += 1
                        if truth[i * p + j] >= band.lower[i * p + j] && truth[i * p + j] <= band.upper[i * p + j] { inside += 1 }
                    }
                }
                coverage = counted > 0 ? Double(inside) / Double(counted) : nil
            }
            result.append(Row(name: name, kind: surrogate.kind, parameters: surrogate.parameterCount, trainingSeconds: training, test: summary,
                              testMSEPhysical: physical, testMSEScaled: scaled,
                              predictionSecondsPer1000: try SurrogateFitStage.predictionSeconds(surrogate, box: box, wind: wind, threads: threads),
                              validationMedian: validation, coverage2Sigma: coverage))
        }
        return result
    }

    static func fmt(_ x: Double?, _ digits: Int = 3) -> String {
        guard let x, x.isFinite else { return "—" }
        return String(format: "%.\(digits)g", x)
    }

    public static func json(_ rows: [Row]) -> JSONValue {
        .object(Dictionary(rows.map { r in
            (r.name, JSONValue.object([
                "kind": .string(r.kind), "parameters": JSONValue(r.parameters),
                "training_wall_seconds": r.trainingSeconds.map { JSONValue($0) } ?? .null,
                "test_relative_l2_median": r.test.median.map { JSONValue($0) } ?? .null,
                "test_relative_l2_p95": r.test.percentile95.map { JSONValue($0) } ?? .null,
                "test_relative_l2_max": r.test.maximum.map { JSONValue($0) } ?? .null,
                "test_mse_physical": JSONValue(r.testMSEPhysical), "test_mse_scaled": JSONValue(r.testMSEScaled),
                "prediction_seconds_per_1000": JSONValue(r.predictionSecondsPer1000),
                "validation_relative_l2_median": r.validationMedian.map { JSONValue($0) } ?? .null,
                "coverage_2sigma": r.coverage2Sigma.map { JSONValue($0) } ?? .null,
            ]))
        }, uniquingKeysWith: { a, _ in a }))
    }

    /// The table, the best model by validation, and the diagnosis figure.
    public static func blocks(_ rows: [Row], params: NDArray<Double>, c3: NDArray<Double>, testRows: [Int], names: [String]) -> [ReportBlock] {
        guard !rows.isEmpty else { return [] }
        var blocks: [ReportBlock] = [.heading(2, "Surrogates compared")]
        blocks.append(.table(ReportTable(
            header: ["model", "kind", "parameters", "training (s)", "validation rel. L2, median", "test rel. L2, median", "p95", "max",
                     "test MSE (scaled)", "test MSE (c3²)", "predict 1000 sets (s)", "±2σ coverage"],
            rows: rows.map { r in
                [r.name, r.kind, "\(r.parameters)", fmt(r.trainingSeconds, 4), fmt(r.validationMedian), fmt(r.test.median), fmt(r.test.percentile95),
                 fmt(r.test.maximum), fmt(r.testMSEScaled), fmt(r.testMSEPhysical), fmt(r.predictionSecondsPer1000), fmt(r.coverage2Sigma)]
            },
            alignments: [.left, .left] + Array(repeating: .right, count: 10),
            caption: "Every model on the same test samples (used once, here). \"plain\" and \"dmd\" are the paper's network and training; "
                + "\"tuned\" the same network with a log output transform, AdamW, a cosine schedule and early stopping; "
                + "the validation split (carved from the training samples) chose the epochs and hyper-parameters. "
                + "Coverage: the share of test points (c3 ≥ 1e-3 of the sample's maximum) inside POD-GP's ±2σ band (0.954 if calibrated).")))
        let fitted = rows.filter { $0.validationMedian != nil }
        if let best = fitted.min(by: { $0.validationMedian! < $1.validationMedian! }) {
            blocks.append(.paragraph(RichText([.strong("Best by validation: \(best.name)"),
                .text(String(format: " (validation median %.4f; test median %.4f, p95 %.4f).", best.validationMedian!,
                             best.test.median ?? .nan, best.test.percentile95 ?? .nan))])))
        }
        blocks.append(.figure(ReportFigure(diagnosisFigure(rows, params: params, c3: c3, testRows: testRows, names: names),
            caption: "Test relative L2 error per sample against each parameter and against ‖c3‖₂ of the sample, for each model (log scale). "
                + "Where the errors climb shows which region of the box a model fails in.")))
        return blocks
    }

    /// Error per test sample against the six parameters and against the sample's ‖c3‖.
    public static func diagnosisFigure(_ rows: [Row], params: NDArray<Double>, c3: NDArray<Double>, testRows: [Int], names: [String]) -> Figure {
        let d = params.shape[1], p = c3.shape[1]
        let norms = testRows.map { r in c3.values[(r * p)..<((r + 1) * p)].reduce(0) { $0 + $1 * $1 }.squareRoot() }
        let shown = rows.filter { ["plain", "tuned", "pod_gp", "pod_nn", "ensemble"].contains($0.name) }
        func series(_ x: [Double]) -> [PlotSeries] {
            shown.enumerated().map { k, r in
                let y = r.test.perSample.map { $0 ?? .nan }
                return .scatter(ScatterSeries(r.name, x: x, y: y, color: RGBColor.palette[k % RGBColor.palette.count], size: 3, opacity: 0.7))
            }
        }
        var panels: [Panel] = (0..<d).map { j in
            Panel(names.count == d ? names[j] : "parameter \(j)",
                  .xy(XYPlot(xAxis: Axis(names.count == d ? names[j] : "x\(j)"), yAxis: Axis("test rel. L2", scale: .log10),
                             series: series(testRows.map { params.values[$0 * d + j] }))))
        }
        panels.append(Panel("‖c3‖₂ of the sample", .xy(XYPlot(xAxis: Axis("‖c3‖₂", scale: .log10), yAxis: Axis("test rel. L2", scale: .log10),
                                                               series: series(norms)))))
        return Figure(name: "surrogate-errors", title: "Where the surrogates fail", panels: panels, columns: 4, panelWidth: 360, panelHeight: 280)
    }
}
