import Foundation
import NumericalFoundations

/// The training data of the surrogate: the sampled parameters and the FEM results, checked for
/// consistency. Only samples whose FEM status is 0 (solved) are used; split 0 is training, 1 test.
///
/// Four arrays, read by `load(params:split:observations:status:…)` from files the caller names (the
/// stages layer knows where they lie in the data folder: PipelineStages' `SurrogateDataset.load(layout:…)`):
/// - params       N × d float64 (d = 6: K12, K3, D, U0, u_h, u_v)
/// - split        N uint8 (0 train, 1 test)
/// - observations N × P float64 (c3 at the P observation points; rows of failed samples may be NaN)
/// - status       N int32 (0 = solved; anything else = excluded)
public struct SurrogateDataset: Sendable {
    public let parameters: [Double]
    public let observations: [Double]
    public let split: [UInt8]
    public let status: [Int32]
    public let sampleCount: Int
    public let parameterWidth: Int
    public let observationWidth: Int
    public let trainIndices: [Int]
    public let testIndices: [Int]
    /// Number of samples left out per non-zero status code.
    public let excludedByStatus: [Int32: Int]
    /// The files read, for manifests (empty when built in memory).
    public let files: [URL]

    /// Reads and checks the four files at the given URLs (the library knows no data-folder layout).
    public static func load(params paramsURL: URL, split splitURL: URL, observations c3URL: URL, status statusURL: URL,
                            inputScaler scaler: InputScaler, parameterNames: [String]) throws -> SurrogateDataset {
        let params = try Npy.read(Double.self, from: paramsURL, expectedShape: [nil, scaler.width])
        let split = try Npy.read(UInt8.self, from: splitURL, expectedShape: [nil])
        let c3 = try Npy.read(Double.self, from: c3URL, expectedShape: [nil, nil])
        let status = try Npy.read(Int32.self, from: statusURL, expectedShape: [nil])
        return try SurrogateDataset(parameters: params.values, parameterWidth: params.shape[1], split: split.values,
                                    observations: c3.values, observationWidth: c3.shape[1], status: status.values,
                                    inputScaler: scaler, parameterNames: parameterNames,
                                    files: [paramsURL, splitURL, c3URL, statusURL])
    }

    /// Builds a data set from arrays (row-major), with the checks of `load`. `files` name the
    /// sources in error messages: params, split, observations, status (without them the arrays are
    /// named by what they hold: this library knows no file names).
    public init(parameters: [Double], parameterWidth: Int, split: [UInt8], observations: [Double], observationWidth: Int,
                status: [Int32], inputScaler: InputScaler, parameterNames: [String], files: [URL] = []) throws {
        let names = files.count == 4 ? files.map(\.path) : ["the parameter array", "the split array", "the observation array", "the status array"]
        let (pName, sName, cName, tName) = (names[0], names[1], names[2], names[3])
        guard parameterWidth == inputScaler.width else {
            throw ArrayFileError(path: pName, "has \(parameterWidth) parameter columns; the configured ranges give \(inputScaler.width)")
        }
        guard parameterWidth > 0, parameters.count % parameterWidth == 0 else {
            throw ArrayFileError(path: pName, "holds \(parameters.count) values, not rows of \(parameterWidth)")
        }
        let n = parameters.count / parameterWidth
        guard split.count == n else {
            throw ArrayFileError(path: sName, "has \(split.count) entries but \(pName) has \(n) samples")
        }
        guard status.count == n else {
            throw ArrayFileError(path: tName, "has \(status.count) entries but \(pName) has \(n) samples")
        }
        guard observationWidth > 0 else {
            throw ArrayFileError(path: cName, "has no observation columns (shape (\(n), 0))")
        }
        guard observations.count == n * observationWidth else {
            throw ArrayFileError(path: cName, "has \(observations.count / observationWidth) rows but \(pName) has \(n) samples")
        }
        for (i, s) in split.enumerated() where s > 1 {
            throw ArrayFileError(path: sName, "sample \(i) has split value \(s); expected 0 (train) or 1 (test)")
        }
        for i in 0..<n {
            for j in 0..<parameterWidth {
                let x = parameters[i * parameterWidth + j]
                let name = j < parameterNames.count ? parameterNames[j] : "column \(j)"
                guard x.isFinite else { throw ArrayFileError(path: pName, "sample \(i): \(name) is \(x); expected a finite number") }
                if status[i] == 0, !inputScaler.contains(x, column: j) {
                    throw ArrayFileError(path: pName, "sample \(i): \(name) = \(x) lies outside the configured range "
                                         + "[\(inputScaler.lower[j]), \(inputScaler.upper[j])] that the input scaling uses "
                                         + "(were the samples drawn with another [sampling] section?)")
                }
            }
        }
        var train: [Int] = [], test: [Int] = [], excluded: [Int32: Int] = [:]
        for i in 0..<n {
            guard status[i] == 0 else { excluded[status[i], default: 0] += 1; continue }
            for j in 0..<observationWidth where !observations[i * observationWidth + j].isFinite {
                throw ArrayFileError(path: cName, "sample \(i) (status 0, solved) has c3 = \(observations[i * observationWidth + j]) "
                                     + "at observation point \(j); expected finite values")
            }
            if split[i] == 0 { train.append(i) } else { test.append(i) }
        }
        guard !train.isEmpty else {
            let failed = excluded.values.reduce(0, +)
            throw NetworkError("the training set is empty: \(n) samples, \(failed) without a FEM solution (status ≠ 0), "
                               + "\(split.filter { $0 == 0 }.count) marked for training in \(sName)")
        }
        self.parameters = parameters
        self.observations = observations
        self.split = split
        self.status = status
        self.sampleCount = n
        self.parameterWidth = parameterWidth
        self.observationWidth = observationWidth
        self.trainIndices = train
        self.testIndices = test
        self.excludedByStatus = excluded
        self.files = files
    }

    /// Rows `indices` of the parameters, scaled to [−1, 1], in the network's precision.
    public func scaledInputs<T: NetworkScalar>(_ indices: [Int], scaler: InputScaler, as type: T.Type) -> [T] {
        var out = [T](); out.reserveCapacity(indices.count * parameterWidth)
        for i in indices { for j in 0..<parameterWidth { out.append(T(scaler.scale(parameters[i * parameterWidth + j], column: j))) } }
        return out
    }

    /// Rows `indices` of the observations, standardised, in the network's precision.
    public func scaledTargets<T: NetworkScalar>(_ indices: [Int], scaler: OutputScaler, as type: T.Type) -> [T] {
        var out = [T](); out.reserveCapacity(indices.count * observationWidth)
        for i in indices { for j in 0..<observationWidth { out.append(T(scaler.standardize(observations[i * observationWidth + j], column: j))) } }
        return out
    }
}
