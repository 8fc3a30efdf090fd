import Foundation
import NumericalFoundations
import PDE
import Surrogates
import Uncertainty

/// `uq-propagate compare-fem`: the surrogate study's mean and std maps (DATA/uq) against the FEM Monte
/// Carlo reference (DATA/uq_fem_reference), with the reference's own sampling error measured by the
/// bootstrap, so that "within the sampling error" is a measured statement. Method: docs/uq.md.
public enum FEMReferenceComparison {
    /// Keys of the configuration both runs must share for the maps to describe the same quantity.
    static let sharedKeys: [(section: String, keys: [String]?)] = [
        ("sampling", PollutantParameters.names), ("wind", nil), ("uq", ["distributions", "means", "stds", "region"])]

    /// One map's comparison: d = ‖s − f‖/‖f‖ (trapezoid-weighted L2 over the grid), its bootstrap
    /// interval (f resampled), the level of the reference's own sampling error (the (1 + c)/2 quantile
    /// of ‖f_b − f‖/‖f‖), and the share of points where s lies inside the reference's interval.
    struct MapComparison {
        var name: String
        var relativeL2: Double
        var interval: ClosedRange<Double>
        var samplingError: Double
        var shareInside: Double
        var withinSamplingError: Bool { relativeL2 <= samplingError }

        var json: JSONValue {
            ["map": .string(name), "relative_l2": .number(relativeL2), "relative_l2_low": .number(interval.lowerBound),
             "relative_l2_high": .number(interval.upperBound), "fem_sampling_error_relative_l2": .number(samplingError),
             "share_of_points_inside_fem_interval": .number(shareInside), "within_fem_sampling_error": .bool(withinSamplingError)]
        }
    }

    /// d, its interval, the sampling level and the share for surrogate map `s` against the reference's
    /// map `f`, its resamples (B × P) and per-point intervals.
    static func compare(_ name: String, surrogate s: [Double], reference f: [Double], resamples: [Double], intervals: [ClosedRange<Double>],
                        weights: [Double], confidence: Double) -> MapComparison {
        let p = f.count, b = resamples.count / p
        var differences = [Double](), sampling = [Double]()
        for r in 0..<b {
            let fb = Array(resamples[(r * p)..<((r + 1) * p)])
            differences.append(Quadrature.relativeWeightedL2(s, from: fb, weights: weights))
            sampling.append(Quadrature.relativeWeightedL2(fb, from: f, weights: weights))
        }
        let lo = (1 - confidence) / 2
        let inside = zip(s, intervals).filter { $1.contains($0) }.count
        return MapComparison(name: name, relativeL2: Quadrature.relativeWeightedL2(s, from: f, weights: weights),
                             interval: Bootstrap.percentileInterval(differences, confidence: confidence) ?? .nan ... .nan,
                             samplingError: sampleQuantile(sampling, 1 - lo), shareInside: Double(inside) / Double(p))
    }

    /// The surrogate on the reference's own rows: d = ‖s̄ − f̄‖/‖f̄‖ for the mean maps of the surrogate's
    /// predictions s and the FEM's fields f over the same n rows (and likewise the std maps), with the
    /// percentile bootstrap interval of the same resamples of rows for both (paired). This measures the
    /// surrogate's own error in the map, ‖E s − E f‖/‖E f‖: the sampling error of f̄ cancels with s̄'s, and
    /// what is left scales with the spread of s − f, not of f.
    struct PairedComparison {
        var name: String
        var relativeL2: Double
        var interval: ClosedRange<Double>

        var json: JSONValue {
            ["map": .string(name), "relative_l2": .number(relativeL2), "relative_l2_low": .number(interval.lowerBound),
             "relative_l2_high": .number(interval.upperBound)]
        }
    }

    static func paired(surrogate s: MapBootstrap, reference f: MapBootstrap, weights: [Double]) -> [PairedComparison] {
        let p = f.outputs, b = min(s.resamples, f.resamples)
        func one(_ name: String, _ sMap: [Double], _ fMap: [Double], _ sResamples: [Double], _ fResamples: [Double]) -> PairedComparison {
            let values = (0..<b).map { r in
                Quadrature.relativeWeightedL2(Array(sResamples[(r * p)..<((r + 1) * p)]), from: Array(fResamples[(r * p)..<((r + 1) * p)]),
                                              weights: weights)
            }
            return PairedComparison(name: name, relativeL2: Quadrature.relativeWeightedL2(sMap, from: fMap, weights: weights),
                                    interval: Bootstrap.percentileInterval(values, confidence: f.confidence) ?? .nan ... .nan)
        }
        return [one("mean", s.mean, f.mean, s.means, f.means),
                one("std", s.standardDeviation, f.standardDeviation, s.standardDeviations, f.standardDeviations)]
    }

    /// The reference's converged rows, checked against the hash its manifest records.
    struct Reference {
        var values: [Double]
        /// The converged rows' parameters (rows × 6).
        var parameters: [Double]
        var rows: Int
        var points: [Double]
        var manifest: Manifest
        var resamples: Int
        var seed: UInt64
    }

    static func readReference(_ folder: DataLayout.UQFEMReference, record: inout StageRecord) throws -> Reference {
        guard FileManager.default.fileExists(atPath: folder.manifest.path) else {
            throw StageError("\(folder.manifest.path) is missing: run `uq-propagate fem-reference` first (it writes \(folder.folder.path))")
        }
        let manifest: Manifest
        do { manifest = try Manifest.read(from: folder.manifest) } catch let e as ArrayFileError { throw StageError(e.description) }
        let (c3Bytes, c3File) = try Provenance.read(folder.c3)
        guard let recorded = manifest.details["c3_sha256"]?.string, recorded == c3File.sha256 else {
            throw StageError("\(folder.c3.path) is not the file \(folder.manifest.path) records (SHA-256 \(c3File.sha256.prefix(12))…): rerun `uq-propagate fem-reference`")
        }
        record.input(c3File)
        let c3 = try Npy.decode(c3Bytes, as: Double.self, path: folder.c3.path, expectedShape: [nil, nil])
        let n = c3.shape[0], p = c3.shape[1]
        let status = try Npy.read(Int32.self, from: folder.status, expectedShape: [n]).values
        let points = try Npy.read(Double.self, from: folder.points, expectedShape: [p, 2]).values
        try record.input(folder.status); try record.input(folder.points); try record.input(folder.manifest)
        let (paramsBytes, paramsFile) = try Provenance.read(folder.params)
        guard let recordedParams = manifest.details["params_sha256"]?.string, recordedParams == paramsFile.sha256 else {
            throw StageError("\(folder.params.path) is not the file \(folder.manifest.path) records (SHA-256 \(paramsFile.sha256.prefix(12))…): rerun `uq-propagate fem-reference`")
        }
        record.input(paramsFile)
        let params = try Npy.decode(paramsBytes, as: Double.self, path: folder.params.path, expectedShape: [n, 6]).values
        let converged = (0..<n).filter { status[$0] == FEMStatus.converged.rawValue }
        var values: [Double] = []; values.reserveCapacity(converged.count * p)
        for i in converged { values += c3.values[(i * p)..<((i + 1) * p)] }
        let parameters = converged.flatMap { params[($0 * 6)..<(($0 + 1) * 6)] }
        guard let b = manifest.details["bootstrap"]?["resamples"]?.number, let seed = manifest.details["bootstrap"]?["seed"]?.number else {
            throw StageError("\(folder.manifest.path) lacks the bootstrap's resamples and seed: rerun `uq-propagate fem-reference`")
        }
        return Reference(values: values, parameters: parameters, rows: converged.count, points: points, manifest: manifest, resamples: Int(b), seed: UInt64(seed))
    }

    /// The configuration keys in which the reference's and the study's runs differ ("section.key").
    static func configurationDifferences(_ a: JSONValue, _ b: JSONValue) -> [String] {
        var out: [String] = []
        for (section, keys) in sharedKeys {
            let x = a[section]?.object ?? [:], y = b[section]?.object ?? [:]
            for key in keys ?? Array(Set(x.keys).union(y.keys)).sorted() where x[key] != y[key] { out.append("\(section).\(key)") }
        }
        let fa = a["fem"]?.object ?? [:], fb = b["fem"]?.object ?? [:]
        for key in Set(fa.keys).union(fb.keys).sorted() where !PollutantStage.resultNeutralKeys.contains(key) && key != "sensitivities"
            && fa[key] != fb[key] { out.append("fem.\(key)") }
        return out
    }

    /// Reads both sides, checks them, and compares the two maps. `record` gets the inputs.
    static func run(layout: DataLayout, model modelName: String, threads: Int, record: inout StageRecord) throws -> JSONValue {
        let reference = try readReference(layout.uqFEMReference, record: &record)
        let uqManifestURL = layout.uq.manifest
        guard FileManager.default.fileExists(atPath: uqManifestURL.path) else {
            throw StageError("\(uqManifestURL.path) is missing: run `uq-propagate` (the surrogate study) first")
        }
        let uqManifest: Manifest
        do { uqManifest = try Manifest.read(from: uqManifestURL) } catch let e as ArrayFileError { throw StageError(e.description) }
        let p = reference.points.count / 2
        let femPoints = try Npy.read(Double.self, from: layout.fem.points, expectedShape: [p, 2]).values
        guard zip(femPoints, reference.points).allSatisfy({ abs($0 - $1) <= 1e-12 * max(1, abs($1)) }) else {
            throw StageError("\(layout.uqFEMReference.points.path) and \(layout.fem.points.path) hold different observation points: the reference was solved with another [fem] grid; rerun it")
        }
        let mean = try Npy.read(Double.self, from: layout.uq.folder.appendingPathComponent("mean.npy"), expectedShape: [p]).values
        let std = try Npy.read(Double.self, from: layout.uq.folder.appendingPathComponent("std.npy"), expectedShape: [p]).values
        for url in [layout.uq.folder.appendingPathComponent("mean.npy"), layout.uq.folder.appendingPathComponent("std.npy"), uqManifestURL, layout.fem.points] {
            try record.input(url)
        }
        let weights = try Quadrature.tensorTrapezoidWeights(points: femPoints)
        let bootstrap = try MapBootstrap(values: reference.values, rows: reference.rows, outputs: p, resamples: reference.resamples,
                                         seed: reference.seed, stream: FEMReference.bootstrapStream)
        let maps = [compare("mean", surrogate: mean, reference: bootstrap.mean, resamples: bootstrap.means, intervals: bootstrap.meanIntervals,
                            weights: weights, confidence: bootstrap.confidence),
                    compare("std", surrogate: std, reference: bootstrap.standardDeviation, resamples: bootstrap.standardDeviations,
                            intervals: bootstrap.standardDeviationIntervals, weights: weights, confidence: bootstrap.confidence)]
        // The study's model on the reference's rows, paired with the FEM's fields.
        let studyModel = uqManifest.config["uq"]?["model"]?.string
        guard studyModel == nil || studyModel == modelName else {
            throw StageError("\(uqManifestURL.path) is a study of the model \"\(studyModel ?? "")\", the configuration names \"\(modelName)\": "
                             + "run compare-fem with --set uq.model=\(studyModel ?? "")")
        }
        // A model that cannot predict every reference row (e.g. a failed coarse solve) loses the paired
        // rows only: the comparison of the study's maps is still written, with the reason.
        var pairedMaps: [PairedComparison] = [], pairedError: String? = nil
        do {
            let (model, modelFolder) = try UQStage.loadModel(modelName, layout: layout, record: &record)
            let predicted = try model.predict(parameters: reference.parameters, rows: reference.rows, threads: threads)
            guard predicted.count == reference.rows * p, predicted.allSatisfy(\.isFinite) else {
                throw StageError("\(modelFolder.path): the model gave \(predicted.count) values (non-finite ones among them?) for the reference's \(reference.rows) rows of \(p) points")
            }
            let surrogateBootstrap = try MapBootstrap(values: predicted, rows: reference.rows, outputs: p, resamples: reference.resamples,
                                                      seed: reference.seed, stream: FEMReference.bootstrapStream)
            pairedMaps = paired(surrogate: surrogateBootstrap, reference: bootstrap, weights: weights)
        } catch {
            pairedError = "\(error)"
        }
        let differences = configurationDifferences(reference.manifest.config, uqManifest.config)
        return ["norm": "L2 over the observation grid with the trapezoid weights: ||surrogate − FEM|| / ||FEM||",
                "model": uqManifest.config["uq"]?["model"] ?? .null,
                "surrogate_samples": uqManifest.details["monte_carlo"]?["samples"] ?? .null,
                "fem_samples": .number(Double(reference.rows)), "bootstrap_resamples": .number(Double(reference.resamples)),
                "confidence": .number(bootstrap.confidence),
                "comparable": .bool(differences.isEmpty), "configuration_differences": .array(differences.map { .string($0) }),
                "maps": .array(maps.map(\.json)), "paired_maps": .array(pairedMaps.map(\.json)),
                "paired_error": pairedError.map { .string($0) } ?? .null]
    }

    /// CSV: one row per map.
    static func csv(_ result: JSONValue) -> String {
        let columns = ["map", "relative_l2", "relative_l2_low", "relative_l2_high", "fem_sampling_error_relative_l2",
                       "share_of_points_inside_fem_interval", "within_fem_sampling_error"]
        var text = (["comparison"] + columns).joined(separator: ",") + "\n"
        let rows = (result["maps"]?.array ?? []).map { ("study_maps", $0) } + (result["paired_maps"]?.array ?? []).map { ("paired_on_fem_rows", $0) }
        for (kind, m) in rows {
            text += kind + "," + columns.map { key -> String in
                switch m[key] {
                case .number(let x)?: return String(format: "%.6g", x)
                case .string(let s)?: return s
                case .bool(let b)?: return b ? "true" : "false"
                default: return ""
                }
            }.joined(separator: ",") + "\n"
        }
        return text
    }

    static let reportHeading = "## Against the FEM Monte Carlo reference"

    /// The report's section: the table and what it says.
    static func markdown(_ result: JSONValue) -> String {
        let n = Int(result["fem_samples"]?.number ?? 0), b = Int(result["bootstrap_resamples"]?.number ?? 0)
        let c = Int(((result["confidence"]?.number ?? 0.95) * 100).rounded())
        var text = reportHeading + "\n\n"
        text += "FEM Monte Carlo of \(n) converged feasible samples; \(c) % percentile bootstrap (\(b) resamples). "
        text += "d = ‖surrogate − FEM‖/‖FEM‖ (trapezoid-weighted L2); the FEM's sampling error is the \(c) % quantile of ‖FEM_b − FEM‖/‖FEM‖.\n\n"
        text += "| map | d | \(c) % interval of d | FEM sampling error | points inside the FEM interval | within the sampling error |\n|---|---:|---|---:|---:|---|\n"
        for m in result["maps"]?.array ?? [] {
            let f = { (k: String) in String(format: "%.4f", m[k]?.number ?? .nan) }
            text += "| \(m["map"]?.string ?? "") | \(f("relative_l2")) | [\(f("relative_l2_low")), \(f("relative_l2_high"))] | \(f("fem_sampling_error_relative_l2")) | "
            text += String(format: "%.1f %%", 100 * (m["share_of_points_inside_fem_interval"]?.number ?? .nan))
            text += " | \(m["within_fem_sampling_error"] == .bool(true) ? "yes" : "no") |\n"
        }
        if let paired = result["paired_maps"]?.array, !paired.isEmpty {
            text += "\nThe surrogate on the reference's own \(n) rows (paired: the same rows and resamples for both, so the FEM's "
            text += "sampling error cancels and d measures the surrogate's own error in the map, ‖E s − E f‖/‖E f‖):\n\n"
            text += "| map | d | \(c) % interval of d |\n|---|---:|---|\n"
            for m in paired {
                let f = { (k: String) in String(format: "%.4f", m[k]?.number ?? .nan) }
                text += "| \(m["map"]?.string ?? "") | \(f("relative_l2")) | [\(f("relative_l2_low")), \(f("relative_l2_high"))] |\n"
            }
        }
        if let reason = result["paired_error"]?.string {
            text += "\nThe surrogate on the reference's own rows (paired) could not be compared: \(reason)\n"
        }
        if result["comparable"] != .bool(true) {
            let keys = (result["configuration_differences"]?.array ?? []).compactMap(\.string).joined(separator: ", ")
            text += "\nThe two runs differ in \(keys): the difference includes that change.\n"
        }
        return text
    }

    /// Writes DATA/uq/fem_reference_comparison.{json,csv} and puts the section into uq.md (replacing an
    /// earlier one). Returns the files written.
    static func write(_ result: JSONValue, to uq: DataLayout.UQ) throws -> [URL] {
        let base = uq.folder.appendingPathComponent(DataLayout.UQ.referenceComparisonName)
        let json = base.appendingPathExtension("json"), table = base.appendingPathExtension("csv")
        try AtomicFile.write(result.jsonText(), to: json)
        try AtomicFile.write(csv(result), to: table)
        var report = (try? String(contentsOf: uq.report, encoding: .utf8)) ?? ""
        if let range = report.range(of: "\n" + reportHeading) {
            let rest = report[range.upperBound...]
            let end = rest.range(of: "\n## ")?.lowerBound ?? report.endIndex
            report.removeSubrange(range.lowerBound..<end)
        }
        report += (report.hasSuffix("\n") || report.isEmpty ? "" : "\n") + "\n" + markdown(result)
        try AtomicFile.write(report, to: uq.report)
        return [json, table, uq.report]
    }
}
