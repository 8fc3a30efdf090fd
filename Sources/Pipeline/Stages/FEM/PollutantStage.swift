import Foundation
import NumericalFoundations
import PDE

/// `--shard K/N`: the K-th (1-based) of N contiguous blocks of samples.
public struct ShardSpec: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1, index >= 1, index <= count else {
            throw PollutantInputError("shard \(index)/\(count): expected K/N with 1 ≤ K ≤ N")
        }
        self.index = index; self.count = count
    }

    /// Parses "K/N", e.g. "3/8".
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0].trimmingCharacters(in: .whitespaces)),
              let n = Int(parts[1].trimmingCharacters(in: .whitespaces)) else {
            throw PollutantInputError("--shard \(text): expected K/N, e.g. 3/8 (the 3rd of 8 blocks, 1-based)")
        }
        try self.init(index: k, count: n)
    }

    /// Samples [⌊(K−1)·total/N⌋, ⌊K·total/N⌋): contiguous, disjoint, covering 0..<total.
    public func range(total: Int) -> Range<Int> { ((index - 1) * total / count)..<(index * total / count) }

    public var folderName: String { String(format: "shard-%04d-of-%04d", index, count) }
    public var description: String { "\(index)/\(count)" }
}

/// What a stage run did: for the manifest, the summary line and the exit status.
public struct StageSummary: Sendable {
    public var inputs: [URL] = []
    /// The inputs' records (SHA-256 of the bytes read), in the order of `inputs`.
    public var inputFiles: [Manifest.InputFile] = []
    public var outputs: [URL] = []
    public var records: [SampleRecord] = []
    public var restoredChunks = 0
    public var solvedNow = 0
    public var solveWallSeconds = 0.0
    /// Mesh and discretization facts.
    public var meshDetails: [String: JSONValue] = [:]
    public var shard: ShardSpec?
    /// The OpenBLAS kernel the rows were solved with (`BLASThreads.kernel`; for a merge, the shards').
    public var blasKernel = BLASThreads.kernel
    /// For a merge: one entry per shard (its samples and what its last run did).
    public var mergedShards: [JSONValue]?

    public var attempted: Int { records.filter { $0.status != .noWindProfile }.count }
    public var converged: Int { records.filter { $0.status == .converged }.count }
    public var skipped: Int { records.filter { $0.status == .noWindProfile }.count }
    /// Samples with a wind profile whose solve failed.
    public var failures: [SampleRecord] { records.filter { $0.status != .converged && $0.status != .noWindProfile } }
    /// Converged samples over the samples that had a wind profile (the others are excluded by the wind
    /// stage's `no_solution` policy, formulation.md §2a, and reported as skipped); 0 when none had one.
    public var successFraction: Double { attempted > 0 ? Double(converged) / Double(attempted) : 0 }

    /// The manifest's stage-specific part: status codes and counts, success fraction, the per-sample
    /// records (Newton iterations, final residual, min of c1/c2/c3, wall time), failures, timing.
    public var details: [String: JSONValue] {
        var counts: [String: JSONValue] = [:]
        for s in FEMStatus.allCases { counts[s.label] = JSONValue(records.filter { $0.status == s }.count) }
        let times = records.filter { $0.status != .noWindProfile }.map(\.seconds).sorted()
        let iterations = records.filter { $0.status == .converged }.map(\.newtonIterations)
        var d: [String: JSONValue] = [
            "status_codes": .object(Dictionary(uniqueKeysWithValues: FEMStatus.allCases.map { ($0.label, JSONValue(Int($0.rawValue))) })),
            "counts": .object(counts),
            "attempted": JSONValue(attempted), "converged": JSONValue(converged), "skipped_no_wind": JSONValue(skipped),
            "success_fraction": JSONValue(successFraction),
            "failures": .array(failures.map { .object(["sample": JSONValue($0.sample), "status": JSONValue(Int($0.status.rawValue)),
                                                       "label": JSONValue($0.status.label), "reason": JSONValue($0.reason ?? "")]) }),
            "samples": .array(records.map(\.json)),
            "solve_wall_seconds": JSONValue(solveWallSeconds),
            "sample_seconds_median": JSONValue(times.isEmpty ? 0 : times[times.count / 2]),
            "sample_seconds_max": JSONValue(times.last ?? 0),
            "sample_seconds_total": JSONValue(times.reduce(0, +)),
            "newton_iterations_max": JSONValue(iterations.max() ?? 0),
            "newton_iterations_mean": JSONValue(iterations.isEmpty ? 0 : Double(iterations.reduce(0, +)) / Double(iterations.count)),
            "restored_chunks": JSONValue(restoredChunks), "solved_in_this_run": JSONValue(solvedNow),
            "mesh": .object(meshDetails),
        ]
        if let shard { d["shard"] = JSONValue(shard.description) }
        d["blas_kernel"] = JSONValue(blasKernel)
        if let mergedShards { d["merged_shards"] = .array(mergedShards) }
        return d
    }
}

/// The `pollutant-fem` stage: the batch over the samples, shards and their merge (docs/pollutant-fem.md).
///
/// Files (DATA = the data folder):
/// - DATA/fem/c3.npy: N × P float64, c3 at the observation points (rows of zeros unless status 0);
/// - DATA/fem/status.npy: N int32, `FEMStatus` codes;
/// - DATA/fem/points.npy: P × 2 float64, the observation points (x, y);
/// - DATA/fem/dc3_dtheta.npy: N × P × 6 float64, ∂c3/∂θ (zeros unless status 0), with `[fem] sensitivities`;
/// - DATA/fem/checkpoints/: chunks of an unfinished run (removed when the run completes);
/// - DATA/fem/shards/shard-KKKK-of-NNNN/: c3.npy, status.npy and shard.json of one shard.
public enum PollutantStage {
    public static func femFolder(_ data: URL) -> URL { DataLayout(data).fem.folder }
    public static func shardsFolder(_ data: URL) -> URL { DataLayout(data).fem.shards }

    /// Keys of `[fem]` that do not change any result (excluded from the fingerprint, so that e.g. shards
    /// may run with different thread counts).
    static let resultNeutralKeys: Set<String> = ["threads", "chunk_size", "min_success_fraction", "fields", "fields_center"]

    /// SHA-256 over the input files and every setting that changes a result ([fem] except
    /// `resultNeutralKeys`, wind.nu, wind.x0). Checkpoints and shards carry it; a mismatch means
    /// they came from other inputs or settings.
    public static func fingerprint(config: PipelineConfig, inputFiles: [URL]) throws -> String {
        fingerprint(config: config, inputs: try inputFiles.map { try Provenance.inputFile($0) })
    }

    /// As `fingerprint(config:inputFiles:)`, from the hashes taken when the inputs were read.
    static func fingerprint(config: PipelineConfig, inputs: [Manifest.InputFile]) -> String {
        var text = ""
        for file in inputs { text += URL(fileURLWithPath: file.path).lastPathComponent + " " + file.sha256 + "\n" }
        var fem = config.resolved["fem"]?.object ?? [:]
        for key in resultNeutralKeys { fem.removeValue(forKey: key) }
        // Off, the sensitivities change nothing: runs without them keep the fingerprint they had before the key existed.
        if !config.fem.sensitivities { fem.removeValue(forKey: "sensitivities") }
        text += JSONValue.object(fem).jsonText() + "\n"
        text += "nu \(config.wind.nu) x0 \(config.wind.x0)\n"
        return SHA256Digest.hex(of: Data(text.utf8))
    }

    static func meshDetails(_ d: PollutantDiscretization, fem: FEMSettings) -> [String: JSONValue] {
        ["nx": JSONValue(fem.problem.mesh.nx), "ny": JSONValue(fem.problem.mesh.ny), "nodes": JSONValue(d.mesh.nodeCount),
         "triangles": JSONValue(d.mesh.triangleCount), "unknowns": JSONValue(d.space.unknownCount),
         "observation_points": JSONValue(d.observation.count), "inflow_detection": JSONValue(d.inflowDetection.rawValue),
         "source_integrals": .array(d.sourceIntegrals.map { JSONValue($0) })]
    }

    /// Solves all samples (or one shard of them) and writes the outputs. `makeProgress` receives the
    /// number of samples to solve and returns the per-sample callback.
    public static func run(config: PipelineConfig, dataDirectory data: URL, shard: ShardSpec? = nil,
                           blasKernel: String = BLASThreads.kernel, stop: StopSignal? = nil,
                           makeProgress: ((Int) -> (SampleRecord) -> Void)? = nil, log: (String) -> Void = { _ in }) throws -> StageSummary {
        let (inputs, inputFiles) = try BatchInputs.loadRecorded(dataDirectory: data, nu: config.wind.nu, profilePoints: config.wind.profilePoints)
        let discretization = try PollutantDiscretization(settings: config.fem)
        let fingerprint = fingerprint(config: config, inputs: inputFiles)
        let range = shard?.range(total: inputs.count) ?? 0..<inputs.count
        let folder = shard.map { shardsFolder(data).appendingPathComponent($0.folderName, isDirectory: true) } ?? femFolder(data)
        let checkpoints = folder.appendingPathComponent(DataLayout.FEM.checkpointsFolder, isDirectory: true)
        let settings = BatchSettings(fem: config.fem, wind: config.wind)

        let started = monotonicSeconds()
        let result = try BatchRunner.run(inputs: inputs, discretization: discretization, settings: settings, range: range,
                                         checkpoints: checkpoints, fingerprint: fingerprint, blasKernel: blasKernel, stop: stop,
                                         progress: makeProgress?(range.count), log: log)
        var summary = StageSummary()
        summary.solveWallSeconds = (monotonicSeconds() - started)
        summary.inputs = inputs.files
        summary.inputFiles = inputFiles
        summary.records = result.records
        summary.restoredChunks = result.restoredChunks
        summary.solvedNow = result.solvedNow
        summary.meshDetails = meshDetails(discretization, fem: config.fem)
        summary.shard = shard
        summary.blasKernel = blasKernel
        if let shard {
            summary.outputs = try writeShard(result, shard: shard, total: inputs.count, fingerprint: fingerprint, blasKernel: blasKernel,
                                             solveWallSeconds: summary.solveWallSeconds, to: folder)
        } else {
            summary.outputs = try writeDataset(c3: result.c3, status: result.statusCodes, points: discretization.observationPoints,
                                               pointCount: result.pointCount, sensitivities: result.sensitivities, to: folder)
        }
        try? FileManager.default.removeItem(at: checkpoints)
        return summary
    }

    /// c3.npy, status.npy and points.npy of the whole dataset.
    static func writeDataset(c3: [Double], status: [Int32], points: [Double], pointCount: Int, sensitivities: [Double]? = nil,
                             to folder: URL) throws -> [URL] {
        let c3URL = folder.appendingPathComponent(DataLayout.FEM.c3File), statusURL = folder.appendingPathComponent(DataLayout.FEM.statusFile)
        let pointsURL = folder.appendingPathComponent(DataLayout.FEM.pointsFile)
        try Npy.write(c3, shape: [status.count, pointCount], to: c3URL)
        try Npy.write(status, shape: [status.count], to: statusURL)
        try Npy.write(points, shape: [pointCount, 2], to: pointsURL)
        guard let sensitivities else { return [c3URL, statusURL, pointsURL] }
        let sensitivitiesURL = folder.appendingPathComponent(DataLayout.FEM.sensitivitiesFile)
        try Npy.write(sensitivities, shape: [status.count, pointCount, SensitivityFile.parameterCount], to: sensitivitiesURL)
        return [c3URL, statusURL, pointsURL, sensitivitiesURL]
    }

    struct ShardFile: Codable {
        var shard: Int
        var shards: Int
        var start: Int
        var end: Int
        var total: Int
        var points: Int
        var fingerprint: String
        var c3Sha256: String
        /// SHA-256 of the shard's dc3_dtheta.npy, when the run computes sensitivities.
        var sensitivitiesSha256: String?
        var records: [SampleRecord]
        /// Optional: shard files from before these were recorded lack them.
        var blasKernel: String?
        var solvedInRun: Int?
        var restoredChunks: Int?
        var solveWallSeconds: Double?
    }

    static func writeShard(_ result: BatchResult, shard: ShardSpec, total: Int, fingerprint: String, blasKernel: String,
                           solveWallSeconds: Double, to folder: URL) throws -> [URL] {
        let c3URL = folder.appendingPathComponent(DataLayout.FEM.c3File), statusURL = folder.appendingPathComponent(DataLayout.FEM.statusFile)
        let shardURL = folder.appendingPathComponent("shard.json")
        let data = Npy.encode(result.c3, shape: [result.range.count, result.pointCount])
        try AtomicFile.write(data, to: c3URL)
        try Npy.write(result.statusCodes, shape: [result.range.count], to: statusURL)
        var outputs = [c3URL, statusURL, shardURL]
        var sensitivitiesSha256: String? = nil
        if let sensitivities = result.sensitivities {
            let url = folder.appendingPathComponent(DataLayout.FEM.sensitivitiesFile)
            let encoded = Npy.encode(sensitivities, shape: [result.range.count, result.pointCount, SensitivityFile.parameterCount])
            try AtomicFile.write(encoded, to: url)
            sensitivitiesSha256 = SHA256Digest.hex(of: encoded)
            outputs.insert(url, at: 2)
        }
        let file = ShardFile(shard: shard.index, shards: shard.count, start: result.range.lowerBound, end: result.range.upperBound,
                             total: total, points: result.pointCount, fingerprint: fingerprint,
                             c3Sha256: SHA256Digest.hex(of: data), sensitivitiesSha256: sensitivitiesSha256, records: result.records,
                             blasKernel: blasKernel,
                             solvedInRun: result.solvedNow, restoredChunks: result.restoredChunks, solveWallSeconds: solveWallSeconds)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write(try encoder.encode(file), to: shardURL)   // written last: marks the shard complete
        return outputs
    }

    /// Assembles DATA/fem/shards/* into the files of an unsharded run. Refuses shards of other inputs or
    /// settings, incomplete shards, overlaps and gaps, each with a message naming the shards or samples.
    public static func merge(config: PipelineConfig, dataDirectory data: URL, log: (String) -> Void = { _ in }) throws -> StageSummary {
        let (inputs, inputFiles) = try BatchInputs.loadRecorded(dataDirectory: data, nu: config.wind.nu, profilePoints: config.wind.profilePoints)
        let discretization = try PollutantDiscretization(settings: config.fem)
        let fingerprint = fingerprint(config: config, inputs: inputFiles)
        let folder = shardsFolder(data)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasPrefix("shard-") }.sorted()
        guard !names.isEmpty else {
            throw PollutantInputError("\(folder.path) holds no shards: run `pollutant-fem --shard K/N` for K = 1 … N first")
        }
        var shards = try names.map { try readShard($0, in: folder, fingerprint: fingerprint, inputs: inputs, points: discretization.observation.count,
                                                   config: config, data: data) }
        shards.sort { ($0.file.start, $0.file.end) < ($1.file.start, $1.file.end) }
        try checkShardsCompose(shards, folder: folder, sampleCount: inputs.count)
        log("merging \(shards.count) shards (\(inputs.count) samples)")
        // Every check passed: from here on fem/ changes, and the earlier manifest no longer describes it.
        try removeManifest(in: femFolder(data))
        var summary = StageSummary()
        summary.inputs = inputs.files
        summary.inputFiles = inputFiles
        summary.records = shards.flatMap(\.file.records)
        // Nothing is solved by the merge itself: the counts are those of the runs that completed the shards.
        summary.solvedNow = shards.reduce(0) { $0 + ($1.file.solvedInRun ?? 0) }
        summary.restoredChunks = shards.reduce(0) { $0 + ($1.file.restoredChunks ?? 0) }
        summary.solveWallSeconds = shards.reduce(0) { $0 + ($1.file.solveWallSeconds ?? 0) }
        summary.blasKernel = shards.first?.file.blasKernel ?? "unrecorded"
        summary.mergedShards = shards.map { s in
            var o: [String: JSONValue] = ["name": JSONValue(s.name), "start": JSONValue(s.file.start), "end": JSONValue(s.file.end)]
            if let n = s.file.solvedInRun { o["solved_in_its_run"] = JSONValue(n) }
            if let n = s.file.restoredChunks { o["restored_chunks"] = JSONValue(n) }
            if let t = s.file.solveWallSeconds { o["solve_wall_seconds"] = JSONValue(t) }
            return .object(o)
        }
        summary.meshDetails = meshDetails(discretization, fem: config.fem)
        summary.outputs = try writeDataset(c3: shards.flatMap(\.c3), status: summary.records.map(\.status.rawValue),
                                           points: discretization.observationPoints, pointCount: discretization.observation.count,
                                           sensitivities: config.fem.sensitivities ? shards.flatMap(\.sensitivities) : nil,
                                           to: femFolder(data))
        return summary
    }

    /// One shard of DATA/fem/shards as the merge needs it.
    typealias LoadedShard = (name: String, file: ShardFile, c3: [Double], sensitivities: [Double])

    /// Reads and checks one shard: complete, of these inputs and settings, its files matching its record.
    static func readShard(_ name: String, in folder: URL, fingerprint: String, inputs: BatchInputs, points: Int,
                          config: PipelineConfig, data: URL) throws -> LoadedShard {
        let dir = folder.appendingPathComponent(name)
        guard let json = try? Data(contentsOf: dir.appendingPathComponent("shard.json")) else {
            throw PollutantInputError("\(dir.path) has no shard.json: that shard did not finish (run it again)")
        }
        let file: ShardFile
        do { file = try JSONDecoder().decode(ShardFile.self, from: json) } catch {
            throw PollutantInputError("\(dir.path)/shard.json is not readable: \(error)")
        }
        guard file.fingerprint == fingerprint else {
            throw PollutantInputError("shard \(name) was computed from other inputs or [fem]/[wind] settings than \(data.path) and the configuration now hold: rerun it (or delete it)")
        }
        guard file.total == inputs.count, file.points == points, file.start <= file.end,
              file.records.map(\.sample) == Array(file.start..<file.end) else {
            throw PollutantInputError("shard \(name): its shard.json is inconsistent (samples \(file.start)..<\(file.end) of \(file.total), \(file.points) points)")
        }
        let c3URL = dir.appendingPathComponent(DataLayout.FEM.c3File)
        guard let data = try? Data(contentsOf: c3URL), SHA256Digest.hex(of: data) == file.c3Sha256 else {
            throw PollutantInputError("shard \(name): c3.npy is missing or does not match its shard.json (rerun the shard)")
        }
        let rows = try Npy.decode(data, as: Double.self, path: c3URL.path, expectedShape: [file.end - file.start, file.points])
        var derivatives: [Double] = []
        if config.fem.sensitivities {
            let url = dir.appendingPathComponent(DataLayout.FEM.sensitivitiesFile)
            guard let data = try? Data(contentsOf: url), SHA256Digest.hex(of: data) == file.sensitivitiesSha256 else {
                throw PollutantInputError("shard \(name): \(DataLayout.FEM.sensitivitiesFile) is missing or does not match its shard.json (rerun the shard)")
            }
            derivatives = try SensitivityFile.decode(data, path: url.path, samples: file.end - file.start, points: file.points)
        }
        return (name, file, rows.values, derivatives)
    }

    /// The shards, sorted by their first sample, solved with one kernel and covering every sample once.
    static func checkShardsCompose(_ shards: [LoadedShard], folder: URL, sampleCount: Int) throws {
        // Rows of two kernels differ in the last bits: a dataset mixing them is not what any one run gives.
        let unrecorded = "unrecorded (a shard from before kernels were recorded)"
        if let first = shards.first, let other = shards.first(where: { ($0.file.blasKernel ?? unrecorded) != (first.file.blasKernel ?? unrecorded) }) {
            throw PollutantInputError("shards solved with different OpenBLAS kernels: \(folder.path)/\(first.name)/shard.json has "
                                      + "\(first.file.blasKernel ?? unrecorded), \(folder.path)/\(other.name)/shard.json has "
                                      + "\(other.file.blasKernel ?? unrecorded); rerun one group with OPENBLAS_CORETYPE set to the other's core")
        }
        var next = 0
        for (k, s) in shards.enumerated() {
            if s.file.start < next {
                throw PollutantInputError("shards \(shards[k - 1].name) (samples \(shards[k - 1].file.start)..<\(shards[k - 1].file.end)) and \(s.name) (samples \(s.file.start)..<\(s.file.end)) overlap: remove one of them")
            }
            if s.file.start > next {
                throw PollutantInputError("samples \(next)..<\(s.file.start) are in no shard (a shard is missing before \(s.name)); run it first")
            }
            next = s.file.end
        }
        guard next == sampleCount else {
            throw PollutantInputError("samples \(next)..<\(sampleCount) are in no shard (the last shard is missing); run it first")
        }
    }
}
