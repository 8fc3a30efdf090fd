import Foundation
import ArgumentParser
import NumericalFoundations
import PDE
import Surrogates

/// The command line of `train-dmd predict`: the trained surrogate as a tool.
public struct PredictOptions: ParsableArguments {
    public static let discussion = """
        --params is a .npy file (N x 6 float64) or a text file (.csv/.txt) with one parameter set per line: K12, K3, D, U0, u_h, u_v separated by commas or spaces ('#' starts a comment; a header line of names is skipped).

        The result (N x P, physical units, float64) goes to --out: .npy, or .csv with one line per parameter set. Parameters outside the training ranges (extrapolation) are warned about, as are parameter sets for which the wind model has no solution (blow-off, formulation.md §2a): the network was never trained on those.
        """

    @Option(help: ArgumentHelp("The model: a folder written by `train-dmd train` or `fit` (e.g. data/models/plain), a model's name under "
                               + "DATA/models (plain, dmd, tuned, pod_gp, pod_nn, ensemble), or best: the configuration's [surrogate] best "
                               + "(by_validation: the fitted model with the smallest validation median).", valueName: "folder|name|best"))
    public var model: String = "best"

    @OptionGroup public var stage: StageOptions

    @Option(help: "Parameter sets: .npy (N x 6) or .csv/.txt (one set per line).")
    public var params: String

    @Option(help: "Output file: .npy (N x P float64) or .csv.")
    public var out: String = "predictions.npy"

    @Option(parsing: .unconditional, help: "Cores for OpenBLAS.")
    public var threads: Int = 1

    @Option(help: "Also write the predictive standard deviation (N x P, .npy) here: POD-GP models only.")
    public var stdOut: String?

    public init() {}

    public func validate() throws {
        try validateThreads(threads)
        try stage.validate()
    }

    /// The model's folder: `--model` itself when it is a path (it holds a "/" or names an existing
    /// folder), else DATA/models/NAME, with best resolved by the configuration (and a note naming it).
    public func modelFolder() throws -> URL {
        var isFolder: ObjCBool = false
        if model.contains("/") || (FileManager.default.fileExists(atPath: model, isDirectory: &isFolder) && isFolder.boolValue) {
            return URL(fileURLWithPath: model, isDirectory: true)
        }
        var name = model
        if model == "best" {
            let config = try stage.loadConfig()
            guard case .model(let chosen) = config.surrogate.best else {
                throw StageError("--model best: [surrogate] best = by_validation in \(stage.config), but no model in "
                                 + "\(DataLayout(stage.dataURL).models.folder.path) has a fit.json with validation scores: run `train-dmd fit` first, or name a model")
            }
            name = chosen.rawValue
            note("train-dmd predict: best = \(name) (\(stage.config))")
        }
        let folder = DataLayout(stage.dataURL).models.folder.appendingPathComponent(name, isDirectory: true)
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw StageError("--model \(model): no folder \(folder.path) (a model's name under --data-dir \(stage.dataDir), best, or a model folder's path)")
        }
        return folder
    }
}

/// `train-dmd predict`: reads parameter sets, warns about those the surrogate was not trained for,
/// and writes its predictions (and, for POD-GP, the predictive standard deviation).
///
/// The predictions are computed and written in blocks of `rowsPerBlock(outputWidth:)` rows, so memory
/// stays bounded whatever the row count: the parameter sets (48 bytes a row) plus one block of
/// predictions (at most 64 MiB of values, and its CSV text). The output files appear when complete.
public enum PredictStage {
    public static func run(_ options: PredictOptions, rowsPerBlock blockRows: Int? = nil) throws {
        let folder = try options.modelFolder()
        let surrogate = try SurrogateLoader.loadWithPipelineSources(from: folder)
        let d = surrogate.inputWidth, p = surrogate.outputWidth
        let values = try ParameterSetFile.read(URL(fileURLWithPath: options.params), width: d, names: surrogate.inputNames)
        let rows = values.count / d
        guard rows > 0 else { throw StageError("\(options.params): no parameter sets") }
        PredictionWarnings.extrapolation(surrogate, values)
        PredictionWarnings.blowOff(surrogate, values)
        if options.stdOut != nil, try surrogate.predictWithUncertainty(parameters: Array(values[0..<d]), rows: 1, threads: 1) == nil {
            throw StageError("--std-out: the model in \(folder.path) (\(surrogate.kind)) has no predictive uncertainty; only pod_gp models do")
        }
        let outURL = URL(fileURLWithPath: options.out)
        let output = try PredictionOutput(url: outURL, rows: rows, columns: p)
        let deviations = try options.stdOut.map { try PredictionOutput(url: URL(fileURLWithPath: $0), rows: rows, columns: p) }
        let block = max(1, blockRows ?? rowsPerBlock(outputWidth: p))
        for start in stride(from: 0, to: rows, by: block) {
            let count = min(block, rows - start)
            let parameters = Array(values[(start * d)..<((start + count) * d)])
            if let deviations {
                guard let (mean, std) = try surrogate.predictWithUncertainty(parameters: parameters, rows: count, threads: options.threads) else {
                    throw StageError("--std-out: the model in \(folder.path) has no predictive uncertainty")
                }
                try output.append(mean)
                try deviations.append(std)
            } else {
                try output.append(try surrogate.predict(parameters: parameters, rows: count, threads: options.threads))
            }
        }
        try output.finish()
        if let deviations, let stdOut = options.stdOut {
            try deviations.finish()
            note("train-dmd predict: predictive standard deviation → \(stdOut) (\(rows) x \(p))")
        }
        note("train-dmd predict: \(rows) parameter set(s) → \(outURL.path) (\(rows) x \(p), physical units)")
    }

    /// Rows per block: at most 8 Mi values (64 MiB) of predictions at a time, at least one row.
    public static func rowsPerBlock(outputWidth p: Int) -> Int { max(1, (8 << 20) / max(1, p)) }
}

/// A predictions file written block by block: `.npy` (rows × columns float64) or `.csv` (one line a row).
final class PredictionOutput {
    private let npy: NpyStreamWriter<Double>?
    private let csv: AtomicFileStream?
    private let columns: Int

    init(url: URL, rows: Int, columns: Int) throws {
        self.columns = columns
        if url.pathExtension.lowercased() == "csv" {
            csv = try AtomicFileStream(url: url)
            npy = nil
        } else {
            npy = try NpyStreamWriter(url: url, shape: [rows, columns])
            csv = nil
        }
    }

    func append(_ block: [Double]) throws {
        if let npy { return try npy.append(block) }
        var text = ""
        for r in 0..<(block.count / columns) {
            text += block[(r * columns)..<((r + 1) * columns)].map { "\($0)" }.joined(separator: ",") + "\n"
        }
        try csv?.append(text)
    }

    func finish() throws {
        try npy?.finish()
        try csv?.commit()
    }
}

/// Parameter sets as `train-dmd predict` reads them: a .npy array (N x d, or one set as a vector of d)
/// or text with one set per line.
public enum ParameterSetFile {
    public static func read(_ url: URL, width d: Int, names: [String]) throws -> [Double] {
        if url.pathExtension.lowercased() == "npy" {
            let header = try Npy.readHeader(from: url)
            let values: [Double]
            if header.shape.count == 1, header.shape[0] == d {   // a single set as a vector
                values = try Npy.read(Double.self, from: url, expectedShape: [d]).values
            } else {
                values = try Npy.read(Double.self, from: url, expectedShape: [nil, d]).values
            }
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw ArrayFileError(path: url.path, "parameter set \(bad / d): \(names[bad % d]) = \(values[bad]) is not a finite number")
            }
            return values
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ArrayFileError(path: url.path, "cannot be read (missing file?): expected parameter sets, one per line")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ArrayFileError(path: url.path, "is not UTF-8 text: expected parameter sets, one per line (or a .npy file)")
        }
        return try parse(text, path: url.path, width: d, names: names)
    }

    /// Values separated by commas, spaces or tabs; '#' starts a comment; a first line of names is a header.
    static func parse(_ text: String, path: String, width d: Int, names: [String]) throws -> [Double] {
        var values: [Double] = []
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            if fields.isEmpty { continue }
            if values.isEmpty, fields.allSatisfy({ Double($0) == nil }) { continue }   // header line
            guard fields.count == d else {
                throw ArrayFileError(path: path, "line \(number + 1) has \(fields.count) values; expected \(d) (\(names.joined(separator: ", ")))")
            }
            for (j, field) in fields.enumerated() {
                guard let x = Double(field), x.isFinite else {
                    throw ArrayFileError(path: path, "line \(number + 1): \(names[j]) = \"\(field)\" is not a finite number")
                }
                values.append(x)
            }
        }
        return values
    }
}

/// The warnings of `train-dmd predict` about parameter sets unlike those the surrogate was trained on.
enum PredictionWarnings {
    /// Values outside the training ranges (the first ten named, the rest counted).
    static func extrapolation(_ surrogate: FieldSurrogate, _ values: [Double]) {
        let names = surrogate.inputNames, scaler = surrogate.inputScaler
        let outside = surrogate.outOfRange(parameters: values)
        for (row, column) in outside.prefix(10) {
            note("train-dmd predict: warning: parameter set \(row): \(names[column]) = \(values[row * names.count + column]) lies outside "
                 + "the training range [\(scaler.lower[column]), \(scaler.upper[column])] (extrapolation)")
        }
        if outside.count > 10 { note("train-dmd predict: warning: \(outside.count - 10) more values outside the training ranges") }
    }

    /// Blow-off (formulation.md §2a): with f_w = −2 u_v / sqrt(ν U0) ≤ f_w* ≈ −1.23849 and λ = u_h / U0 ≤ 0
    /// the wind model has no solution, so such samples were never in the training set. (The reverse-wall
    /// limit λ < λ_c(f_w) is not checked here: it needs the Blasius solver.)
    static func blowOff(_ surrogate: FieldSurrogate, _ values: [Double]) {
        let names = surrogate.inputNames
        guard let nu = surrogate.windViscosity, let iU0 = names.firstIndex(of: "U0"),
              let iUh = names.firstIndex(of: "u_h"), let iUv = names.firstIndex(of: "u_v") else { return }
        let d = names.count
        var blownOff: [Int] = []
        for r in 0..<(values.count / d) {
            if BlowOff.hasNoWind(u0: values[r * d + iU0], uh: values[r * d + iUh], uv: values[r * d + iUv], nu: nu) { blownOff.append(r) }
        }
        if !blownOff.isEmpty {
            note("train-dmd predict: warning: \(blownOff.count) parameter set(s) (first: \(blownOff.prefix(5).map(String.init).joined(separator: ", "))) "
                 + "have no wind solution (blow-off: u_v > 0.619·sqrt(ν U0) with u_h ≤ 0, formulation.md §2a); "
                 + "the surrogate was not trained on such cases")
        }
    }
}
