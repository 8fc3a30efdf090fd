import ArgumentParser
import NumericalFoundations
import Surrogates
import Pipeline
import Foundation

/// `train-dmd synthetic-fem`: a closed-form stand-in for DATA/fem (for training studies without the FEM stage).
struct SyntheticFEM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synthetic-fem",
        abstract: "Write a SYNTHETIC stand-in for the FEM results (DATA/fem/c3.npy, status.npy): a closed-form reacting plume, not a solution of the PDE.",
        discussion: """
        Reads DATA/samples/params.npy (from lhs-sample) and the observation grid of [fem] (observation_nx x observation_ny points, gradings), and writes DATA/fem/c3.npy (N x P float64), DATA/fem/status.npy (N int32, all 0) and DATA/fem/manifest.json marked "synthetic": true. The formula is in docs/dmd-training.md (SyntheticPlume). Use a separate --data-dir: it refuses to overwrite FEM results that it did not write itself.
        """)

    @OptionGroup var options: StageOptions

    func run() throws {
        let config = try options.loadConfig()
        let data = options.dataURL
        let layout = DataLayout(data), femFolder = layout.fem.folder
        let manifestURL = layout.fem.manifest
        if FileManager.default.fileExists(atPath: manifestURL.path) {
            let existing = try Manifest.read(from: manifestURL)
            guard existing.stage == "train-dmd synthetic-fem" else {
                throw StageError("\(femFolder.path) holds results of \(existing.stage); the synthetic stand-in does not overwrite them (use another --data-dir)")
            }
        }
        let paramsURL = layout.samples.params
        let params = try Npy.read(Double.self, from: paramsURL, expectedShape: [nil, 6])
        let f = config.fem.problem
        let points = SyntheticPlume.observationPoints(nx: f.observationNx, ny: f.observationNy, lx: f.mesh.lx, ly: f.mesh.ly,
                                                      gradingX: f.observationGradingX, gradingY: f.observationGradingY)
        let n = params.shape[0], p = points.count / 2
        var c3 = [Double](repeating: 0, count: n * p)
        c3.withUnsafeMutableBufferPointer { out in
            ParallelWork.forEachItem(count: n) { i in
                let row = SyntheticPlume.concentrations(parameters: Array(params.values[(i * 6)..<(i * 6 + 6)]), points: points)
                for j in 0..<p { out[i * p + j] = row[j] }
            }
        }
        var record = StageRecord(stage: "train-dmd synthetic-fem", config: config, seed: nil)
        try record.input(paramsURL)
        let c3URL = layout.fem.c3, statusURL = layout.fem.status
        try Npy.write(c3, shape: [n, p], to: c3URL)
        try Npy.write([Int32](repeating: 0, count: n), shape: [n], to: statusURL)
        record.output(c3URL)
        record.output(statusURL)
        record.detail("synthetic", .bool(true))
        record.detail("model", .string("SyntheticPlume: closed-form reacting plume (docs/dmd-training.md), NOT a solution of (F5)-(F8)"))
        record.detail("observation_points", JSONValue(p))
        try record.finish(manifestAt: manifestURL)
        note("train-dmd synthetic-fem: SYNTHETIC c3 for \(n) samples at \(p) points → \(c3URL.path)")
    }
}
