import Foundation
import ArgumentParser
import NumericalFoundations

/// The command line of `train-dmd synthetic-fem`.
public struct SyntheticFEMOptions: ParsableArguments {
    public static let discussion = """
        Reads DATA/samples/params.npy (from lhs-sample) and the observation grid of [fem] (observation_nx x observation_ny points, gradings), and writes DATA/fem/c3.npy (N x P float64), DATA/fem/status.npy (N int32, all 0) and DATA/fem/manifest.json marked "synthetic": true. The formula is in docs/dmd-training.md (SyntheticPlume). Use a separate --data-dir: it refuses to overwrite FEM results that it did not write itself.
        """

    @OptionGroup public var stage: StageOptions

    public init() {}
}

/// `train-dmd synthetic-fem`: a closed-form stand-in for DATA/fem (`SyntheticPlume`), for training
/// studies without the FEM stage. It never overwrites results of the real FEM stage.
public enum SyntheticFEMStage {
    static let stageName = "train-dmd synthetic-fem"

    public static func run(_ options: SyntheticFEMOptions) throws {
        let config = try options.stage.loadConfig()
        let layout = DataLayout(options.stage.dataURL)
        try refuseForeignResults(layout.fem)
        let paramsURL = layout.samples.params
        let params = try Npy.read(Double.self, from: paramsURL, expectedShape: [nil, 6])
        let f = config.fem.problem
        let points = SyntheticPlume.observationPoints(nx: f.observationNx, ny: f.observationNy, lx: f.mesh.lx, ly: f.mesh.ly,
                                                      gradingX: f.observationGradingX, gradingY: f.observationGradingY)
        let n = params.shape[0], p = points.count / 2
        let c3 = concentrations(params.values, count: n, points: points)
        var record = StageRecord(stage: stageName, config: config, seed: nil)
        try record.input(paramsURL)
        let c3URL = layout.fem.c3, statusURL = layout.fem.status
        try Npy.write(c3, shape: [n, p], to: c3URL)
        try Npy.write([Int32](repeating: 0, count: n), shape: [n], to: statusURL)
        record.output(c3URL)
        record.output(statusURL)
        record.detail("synthetic", .bool(true))
        record.detail("model", .string("SyntheticPlume: closed-form reacting plume (docs/dmd-training.md), NOT a solution of (F5)-(F8)"))
        record.detail("observation_points", JSONValue(p))
        try record.finish(manifestAt: layout.fem.manifest)
        note("\(stageName): SYNTHETIC c3 for \(n) samples at \(p) points → \(c3URL.path)")
    }

    /// A FEM folder whose manifest names another stage holds real results: refuse to overwrite them.
    static func refuseForeignResults(_ fem: DataLayout.FEM) throws {
        guard FileManager.default.fileExists(atPath: fem.manifest.path) else { return }
        let existing = try Manifest.read(from: fem.manifest)
        guard existing.stage == stageName else {
            throw StageError("\(fem.folder.path) holds results of \(existing.stage); the synthetic stand-in does not overwrite them (use another --data-dir)")
        }
    }

    /// c3 of every sample (rows of 6 parameters) at the points, samples in parallel.
    static func concentrations(_ params: [Double], count n: Int, points: [Double]) -> [Double] {
        let p = points.count / 2
        var c3 = [Double](repeating: 0, count: n * p)
        c3.withUnsafeMutableBufferPointer { out in
            ParallelWork.forEachItem(count: n) { i in
                let row = SyntheticPlume.concentrations(parameters: Array(params[(i * 6)..<(i * 6 + 6)]), points: points)
                for j in 0..<p { out[i * p + j] = row[j] }
            }
        }
        return c3
    }
}
