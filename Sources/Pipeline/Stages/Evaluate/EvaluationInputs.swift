import Foundation
import NumericalFoundations
import Surrogates
import Reporting

/// Everything the report is made from, read from the data folder with the shapes checked.
public struct EvaluationInputs {
    public struct TrainedModel {
        public var name: String
        public var folder: URL
        public var model: SurrogateModel
        public var history: HistoryTable
        /// Eigenvalues of each saved jump: jump number → per layer (real, imaginary) arrays.
        public var eigenvalues: [Int: [(layer: Int, real: [Double], imaginary: [Double])]]
    }
    public struct Sweep {
        public var mValues: [Int]
        public var sValues: [Int]
        /// [m index][s index] mean relative error, NaN where a pair was not run.
        public var training: [[Double]]
        public var test: [[Double]]

        /// The pair with the lowest finite mean relative error on the training or test set (the
        /// first in m-major order on ties); nil when no pair has a finite value.
        public func best(test useTest: Bool) -> (m: Int, s: Int, value: Double)? {
            let grid = useTest ? test : training
            var best: (m: Int, s: Int, value: Double)? = nil
            for (i, row) in grid.enumerated() {
                for (j, value) in row.enumerated() where value.isFinite && value < (best?.value ?? .infinity) {
                    best = (mValues[i], sValues[j], value)
                }
            }
            return best
        }
    }

    public var params: NDArray<Double>
    public var split: [UInt8]
    public var c3: NDArray<Double>
    public var femStatus: [Int32]
    public var points: NDArray<Double>
    public var windStatus: [Int32]?
    public var models: [TrainedModel]
    public var sweep: Sweep?
    /// Models of the default list whose folder holds no trained model (the report says so).
    public var missingModels: [String] = []
    /// Files the report depends on (for the manifest).
    public var files: [URL]

    public var trainIndices: [Int] { (0..<split.count).filter { split[$0] == 0 && femStatus[$0] == 0 } }
    public var testIndices: [Int] { (0..<split.count).filter { split[$0] == 1 && femStatus[$0] == 0 } }

    /// The models the report compares: the names given with `--models` (comma-separated, spaces around
    /// names ignored), or the default list when `list` is nil. An empty name, a repeated name, or a named
    /// model without a trained model folder (model.json) is an error naming `--models`; a model of the
    /// default list that is absent is only left out (`missing`), to be stated in the report.
    public static func selectModels(_ list: String?, data: URL, defaults: [String] = ["plain", "dmd"]) throws -> (names: [String], missing: [String]) {
        func exists(_ name: String) -> Bool {
            FileManager.default.fileExists(atPath: DataLayout(data).models.model(name).folder.appendingPathComponent(SurrogateModel.descriptionFile).path)
        }
        guard let list else {
            return (defaults, defaults.filter { !exists($0) })
        }
        let names = list.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        if names.contains(where: \.isEmpty) {
            throw StageError("--models \"\(list)\": an empty model name; expected names separated by commas, e.g. plain,dmd")
        }
        var seen: Set<String> = []
        for name in names {
            guard seen.insert(name).inserted else {
                throw StageError("--models \"\(list)\": model \(name) is named twice; expected each model once")
            }
            guard !name.contains("/"), name != ".", name != ".." else {
                throw StageError("--models \"\(list)\": \(name) is not a folder name under \(data.path)/models")
            }
        }
        if let absent = names.first(where: { !exists($0) }) {
            throw StageError("--models: \(DataLayout(data).models.model(absent).folder.path) holds no trained model "
                               + "(no \(SurrogateModel.descriptionFile)); expected a folder written by train-dmd")
        }
        return (names, [])
    }

    /// Reads the dataset (samples, FEM outputs), the models named in `modelNames` that exist, and the
    /// (m, s) sweep if there is one. A missing dataset file or a shape mismatch is an error naming the file.
    public static func load(data: URL, modelNames: [String]) throws -> EvaluationInputs {
        let layout = DataLayout(data)
        let paramsURL = layout.samples.params
        let params = try Npy.read(Double.self, from: paramsURL, expectedShape: [nil, 6])
        let n = params.rows
        let splitURL = layout.samples.split
        let split = try Npy.read(UInt8.self, from: splitURL, expectedShape: [n]).values
        let c3URL = layout.fem.c3
        let c3 = try Npy.read(Double.self, from: c3URL, expectedShape: [n, nil])
        let statusURL = layout.fem.status
        let femStatus = try Npy.read(Int32.self, from: statusURL, expectedShape: [n]).values
        let pointsURL = layout.fem.points
        let points = try Npy.read(Double.self, from: pointsURL, expectedShape: [c3.rowLength, 2])
        var files = [paramsURL, splitURL, c3URL, statusURL, pointsURL]
        let windURL = layout.wind.status
        var windStatus: [Int32]? = nil
        if FileManager.default.fileExists(atPath: windURL.path) {
            windStatus = try Npy.read(Int32.self, from: windURL, expectedShape: [n]).values
            files.append(windURL)
        }

        if let repeated = modelNames.first(where: { name in modelNames.filter { $0 == name }.count > 1 }) {
            throw StageError("model \(repeated) is named twice; expected each model once")
        }
        var models: [TrainedModel] = []
        var missing: [String] = []
        for name in modelNames {
            let modelFiles = layout.models.model(name)
            let folder = modelFiles.folder
            guard FileManager.default.fileExists(atPath: folder.appendingPathComponent(SurrogateModel.descriptionFile).path) else {
                missing.append(name)
                continue
            }
            let model = try SurrogateModel.load(from: folder)
            guard model.layout.outputWidth == c3.rowLength else {
                throw StageError("\(folder.path): the model predicts \(model.layout.outputWidth) outputs but fem/c3.npy has \(c3.rowLength)")
            }
            let historyURL = modelFiles.history
            let history = try HistoryTable.load(from: historyURL)
            files.append(historyURL)
            models.append(TrainedModel(name: name, folder: folder, model: model, history: history,
                                       eigenvalues: try loadEigenvalues(modelFiles.eigenvalues)))
        }
        return EvaluationInputs(params: params, split: split, c3: c3, femStatus: femStatus, points: points, windStatus: windStatus,
                                models: models, sweep: try loadSweep(layout.sweep.folder), missingModels: missing, files: files)
    }

    /// `jump_<J>_layer_<k>.npy` files (r × 2: real, imaginary), as written by the DMD accelerator.
    static func loadEigenvalues(_ folder: URL) throws -> [Int: [(layer: Int, real: [Double], imaginary: [Double])]] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [:] }
        var out: [Int: [(layer: Int, real: [Double], imaginary: [Double])]] = [:]
        for name in names where name.hasPrefix("jump_") && name.hasSuffix(".npy") {
            let parts = name.dropLast(4).split(separator: "_")
            guard parts.count == 4, parts[2] == "layer", let jump = Int(parts[1]), let layer = Int(parts[3]) else { continue }
            let a = try Npy.read(Double.self, from: folder.appendingPathComponent(name), expectedShape: [nil, 2])
            out[jump, default: []].append((layer, stride(from: 0, to: a.count, by: 2).map { a.values[$0] },
                                           stride(from: 1, to: a.count, by: 2).map { a.values[$0] }))
        }
        for key in out.keys { out[key]!.sort { $0.layer < $1.layer } }
        return out
    }

    static func loadSweep(_ folder: URL) throws -> Sweep? {
        let url = folder.appendingPathComponent("sweep.npy")
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let m = try Npy.read(Int64.self, from: folder.appendingPathComponent("m_values.npy"), expectedShape: [nil]).values.map { Int($0) }
        let s = try Npy.read(Int64.self, from: folder.appendingPathComponent("s_values.npy"), expectedShape: [nil]).values.map { Int($0) }
        let a = try Npy.read(Double.self, from: url, expectedShape: [m.count, s.count, 2])
        func plane(_ k: Int) -> [[Double]] {
            (0..<m.count).map { i in (0..<s.count).map { j in a.values[(i * s.count + j) * 2 + k] } }
        }
        return Sweep(mValues: m, sValues: s, training: plane(0), test: plane(1))
    }
}
