import Foundation
import NumericalFoundations

/// A weighted average of other surrogates' predictions, c = Σ_k w_k c_k with Σ w_k = 1.
/// The tuned network and POD-GP err differently (their validation errors are weakly related), so
/// their average is more accurate than either. The weights are chosen on the validation split.
/// The folder holds only `ensemble.json`; the members are the sibling folders it names.
public final class EnsembleSurrogate: FieldSurrogate {
    public struct Description: Codable, Equatable, Sendable {
        public var format = "surrogate-ensemble"
        public var version = 1
        public var members: [String]
        public var weights: [Double]
    }

    public static let descriptionFile = "ensemble.json"
    public let description: Description
    let members: [FieldSurrogate]

    public init(members: [FieldSurrogate], names: [String], weights: [Double]) throws {
        guard !members.isEmpty, members.count == names.count, weights.count == members.count else {
            throw StageError("an ensemble needs as many weights and names as members (got \(members.count), \(names.count), \(weights.count))")
        }
        guard weights.allSatisfy({ $0.isFinite && $0 >= 0 }), abs(weights.reduce(0, +) - 1) < 1e-9 else {
            throw StageError("ensemble weights must be non-negative and sum to 1, got \(weights)")
        }
        let first = members[0]
        for (m, name) in zip(members, names) where m.inputWidth != first.inputWidth || m.outputWidth != first.outputWidth {
            throw StageError("ensemble member \(name) maps \(m.inputWidth) → \(m.outputWidth), the first \(first.inputWidth) → \(first.outputWidth)")
        }
        self.members = members
        description = Description(members: names, weights: weights)
    }

    public var kind: String { "ensemble" }
    public var inputNames: [String] { members[0].inputNames }
    public var inputWidth: Int { members[0].inputWidth }
    public var outputWidth: Int { members[0].outputWidth }
    public var parameterCount: Int { members.reduce(0) { $0 + $1.parameterCount } }
    public var windViscosity: Double? { members[0].windViscosity }
    public var inputScaler: InputScaler { members[0].inputScaler }
    public var descriptorInputs: DescriptorInputs? { members.lazy.compactMap(\.descriptorInputs).first }
    public var lowFidelity: LowFidelityInputs? { members.lazy.compactMap(\.lowFidelity).first }

    public func predict(parameters: [Double], rows: Int, threads: Int) throws -> [Double] {
        var sum = [Double](repeating: 0, count: rows * outputWidth)
        for (m, w) in zip(members, description.weights) where w > 0 {
            let p = try m.predict(parameters: parameters, rows: rows, threads: threads)
            for k in sum.indices { sum[k] += w * p[k] }
        }
        return sum
    }

    public func predictWithUncertainty(parameters: [Double], rows: Int, threads: Int) throws -> (mean: [Double], standardDeviation: [Double])? { nil }

    public func save(to folder: URL) throws {
        try AtomicFile.writeJSON(description, to: folder.appendingPathComponent(Self.descriptionFile))
    }

    /// Reads `ensemble.json` and loads its members from the sibling folders (`descriptorSources` and
    /// `lowFidelitySources` as `SurrogateLoader.load`; members with the same low-fidelity model share one source).
    public static func load(from folder: URL, descriptorSources: DescriptorSourceFactory? = nil,
                            lowFidelitySources: LowFidelitySourceFactory? = nil) throws -> EnsembleSurrogate {
        let url = folder.appendingPathComponent(descriptionFile)
        let description = try JSONDescription.read(Description.self, from: url, missing: "missing or unreadable: expected an ensemble description",
                                                    snakeCase: false)
        guard description.format == "surrogate-ensemble", description.version == 1 else {
            throw ArrayFileError(path: url.path, "format \(description.format) v\(description.version) is not supported (expected surrogate-ensemble v1)")
        }
        let parent = folder.deletingLastPathComponent()
        // Members that correct the same coarse model share its source, so a prediction solves it once.
        let shared = lowFidelitySources.map { SharedLowFidelitySources($0).factory }
        let members = try description.members.map { name -> FieldSurrogate in
            guard name != folder.lastPathComponent, !name.contains("/") else {
                throw ArrayFileError(path: url.path, "member \"\(name)\" is not a sibling model folder")
            }
            return try SurrogateLoader.load(from: parent.appendingPathComponent(name, isDirectory: true), descriptorSources: descriptorSources,
                                           lowFidelitySources: shared)
        }
        do { return try EnsembleSurrogate(members: members, names: description.members, weights: description.weights) } catch {
            throw ArrayFileError(path: url.path, "\(error)")
        }
    }

    /// Weights chosen on the validation rows: for two members the grid w = 0, 0.05, …, 1 minimising
    /// the median relative L2 error (the report's headline figure); for more, equal weights.
    public static func chooseWeights(_ members: [FieldSurrogate], parameters: [Double], truth: [Double], rows: Int, threads: Int) throws -> [Double] {
        guard members.count == 2 else { return Array(repeating: 1 / Double(members.count), count: members.count) }
        let p = members[0].outputWidth
        let a = try members[0].predict(parameters: parameters, rows: rows, threads: threads)
        let b = try members[1].predict(parameters: parameters, rows: rows, threads: threads)
        var best = (w: 0.5, median: Double.infinity)
        for step in 0...20 {
            let w = Double(step) / 20
            let mix = zip(a, b).map { w * $0 + (1 - w) * $1 }
            let summary = try RelativeErrorSummary(predicted: NDArray(shape: [rows, p], values: mix), truth: NDArray(shape: [rows, p], values: truth))
            if let m = summary.median, m < best.median { best = (w, m) }
        }
        return [best.w, 1 - best.w]
    }
}
