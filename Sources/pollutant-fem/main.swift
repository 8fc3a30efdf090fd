import Foundation
import ArgumentParser
import ArrayFiles
import Blasius
import FEMStage
import Configuration
import FiniteElements
import PollutantModel
import SparseLinearAlgebra
import StageSupport

/// `pollutant-fem`: the reacting-pollutant dataset (formulation.md §3), one steady FEM solve per sample.
struct PollutantFEM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pollutant-fem",
        abstract: "Steady reacting-pollutant fields (F5)-(F8) for every sample: the surrogate's training data.",
        discussion: """
        Without a subcommand, solves every sample of DATA/samples/params.npy with its wind profile from \
        DATA/wind/ (blasius-solve) and writes DATA/fem/c3.npy, status.npy, points.npy, manifest.json and \
        the Figure 2 fields. See docs/pollutant-fem.md for the method, the files and the status codes.
        """,
        subcommands: [Run.self, Merge.self, Solve.self, Convergence.self, Fields.self],
        defaultSubcommand: Run.self)
}

/// Writes the manifest of a run: inputs with hashes, outputs (the fields too), the summary's details.
func record(_ summary: StageSummary, config: PipelineConfig, extraOutputs: [URL] = [], manifest: URL) throws {
    var record = StageRecord(stage: "pollutant-fem", config: config, seed: nil)
    for url in summary.inputs { try record.input(url) }
    for url in summary.outputs + extraOutputs { record.output(url) }
    for (key, value) in summary.details { record.detail(key, value) }
    try record.finish(manifestAt: manifest)
}

/// Prints the outcome and decides the exit status: success iff enough of the samples with a wind
/// profile converged (fem.min_success_fraction). A shard always succeeds once it is complete: a block of
/// samples may hold only skipped ones, and the merge applies the threshold to the whole dataset (a failing
/// shard would otherwise hold back the merge job that depends on it).
func report(_ summary: StageSummary, config: PipelineConfig, seconds: Double, destination: String, applyThreshold: Bool = true) throws {
    let n = summary.records.count
    let share = String(format: "%.1f%%", 100 * summary.successFraction)
    note("pollutant-fem: \(n) samples in \(formatDuration(seconds)): \(summary.converged) converged, \(summary.skipped) skipped " +
         "(no wind profile), \(summary.failures.count) failed; \(share) of the \(summary.attempted) samples with a wind " +
         "profile converged → \(destination)")
    let failures = summary.failures
    for f in failures.prefix(20) { note("  sample \(f.sample): \(f.status.label) (\(f.status.rawValue)): \(f.reason ?? "")") }
    if failures.count > 20 { note("  … and \(failures.count - 20) more (see the manifest)") }
    if applyThreshold && summary.successFraction < config.fem.minSuccessFraction {
        note("pollutant-fem: only \(share) converged, below fem.min_success_fraction = \(config.fem.minSuccessFraction)")
        throw ExitCode(1)
    }
}

// MARK: - run (the batch, the default)

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Solve every sample (or one shard of them) and write the dataset (the default subcommand).",
        discussion: """
        Reads DATA/samples/params.npy (N x 6: K12, K3, D, U0, u_h, u_v) and DATA/wind/{status,profiles,summary}.npy, \
        solves (F5)-(F8) for every sample with a wind profile on fem.threads cores (one sample per core, \
        each with its own UMFPACK factorization), and writes to DATA/fem/:

        c3.npy: N x P float64, c3 at the P observation points (zeros unless the status is 0)
        status.npy: N int32: 0 converged, 1 no wind profile (skipped), 2 Newton not converged, \
        3 line search failed, 4 non-finite values, 5 linear solver failed, 6 invalid problem
        points.npy: P x 2 float64, the observation points (x, y), k = j*observation_nx + i
        manifest.json: per-sample records (status, reason, Newton iterations, residuals, min c1/c2/c3, time)
        fields/*.vtu: the one-at-a-time parameter variations of the paper's Figure 2 (if fem.fields)

        Results are checkpointed every fem.chunk_size samples in DATA/fem/checkpoints/: a killed run, \
        started again, continues where it stopped and ends with the same bytes. With --shard K/N only \
        the K-th of N contiguous blocks is solved, into DATA/fem/shards/; `pollutant-fem merge` assembles \
        them. Exit status 0 iff at least fem.min_success_fraction of the samples with a wind profile converged \
        (a shard: once it is complete; merge applies the threshold to the whole dataset).
        """)

    @OptionGroup var options: StageOptions

    @Option(help: ArgumentHelp("Solve only the K-th (1-based) of N contiguous blocks of samples, into DATA/fem/shards/.", valueName: "K/N"))
    var shard: String?

    func run() throws {
        let config = try options.loadConfig()
        let shardSpec = try shard.map { text -> ShardSpec in
            do { return try ShardSpec(parsing: text) } catch let e as PollutantInputError { throw ValidationError(e.message) }
        }
        let outputFolder = shardSpec.map { PollutantStage.shardsFolder(options.dataURL).appendingPathComponent($0.folderName) }
            ?? PollutantStage.femFolder(options.dataURL)
        let lock = try options.lockOutput(outputFolder)
        defer { lock.release() }
        // The manifest is written last and marks a complete run: an earlier run's must not stay beside
        // this run's outputs if this one fails.
        try removeManifest(in: outputFolder)
        BLASThreads.set(1)   // one BLAS thread per solver thread (fem.threads solvers share the cores)
        let started = monotonicSeconds()
        let summary: StageSummary
        do {
            summary = try PollutantStage.run(config: config, dataDirectory: options.dataURL, shard: shardSpec, makeProgress: { total in
                let progress = ProgressReporter("pollutant-fem" + (shardSpec.map { " shard \($0)" } ?? ""), total: total)
                let failed = FailureCount()
                return { record in
                    if record.status != .converged && record.status != .noWindProfile { failed.increment() }
                    progress.advance(detail: failed.value > 0 ? "\(failed.value) failed" : "")
                }
            }, log: note)
        } catch let error as PollutantInputError {
            throw StageError("pollutant-fem: \(error.message)")
        }
        let fem = PollutantStage.femFolder(options.dataURL)
        var fieldFiles: [URL] = []
        if shardSpec == nil && config.fem.fields {
            fieldFiles = try writeFields(config: config, data: options.dataURL)
        }
        let folder = shardSpec.map { PollutantStage.shardsFolder(options.dataURL).appendingPathComponent($0.folderName) } ?? fem
        try record(summary, config: config, extraOutputs: fieldFiles, manifest: folder.appendingPathComponent("manifest.json"))
        try report(summary, config: config, seconds: monotonicSeconds() - started, destination: folder.path,
                   applyThreshold: shardSpec == nil)
    }
}

final class FailureCount: @unchecked Sendable {
    private var count = 0
    private let lock = NSLock()
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

/// Removes FOLDER/manifest.json of an earlier run (a failed run must not leave it describing new files).
func removeManifest(in folder: URL) throws {
    let url = folder.appendingPathComponent("manifest.json")
    guard FileManager.default.fileExists(atPath: url.path) else { return }
    guard unlink(url.path) == 0 else { throw StageError("\(url.path): cannot remove the earlier run's manifest: \(String(cString: strerror(errno)))") }
}

func writeFields(config: PipelineConfig, data: URL) throws -> [URL] {
    let started = monotonicSeconds()
    let discretization: PollutantDiscretization
    do { discretization = try PollutantDiscretization(settings: config.fem) } catch let e as PollutantInputError { throw StageError(e.message) }
    let folder = DataLayout(data).fem.fields
    let files: [URL]
    do {
        files = try FigureFields.write(config: config, discretization: discretization, folder: folder) { note("pollutant-fem: \($0)") }
    } catch let e as FieldWriteError {
        throw StageError("pollutant-fem: cannot write the Figure 2 fields: \(e.description)")
    }
    note("pollutant-fem: \(files.count - 1) Figure 2 fields in \(formatDuration(monotonicSeconds() - started)) → \(folder.path)")
    return files
}

// MARK: - merge

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Assemble DATA/fem/shards/* into DATA/fem/c3.npy, status.npy, points.npy and manifest.json.",
        discussion: """
        Refuses shards computed from other inputs or settings, unfinished shards, overlapping shards and \
        missing ones, naming them. The result is byte-identical to an unsharded run. Also writes the \
        Figure 2 fields if fem.fields. scripts/slurm/pollutant-fem.sbatch runs shards as a SLURM job array \
        followed by this merge.
        """)

    @OptionGroup var options: StageOptions

    func run() throws {
        let config = try options.loadConfig()
        let lock = try options.lockOutput(PollutantStage.femFolder(options.dataURL))
        defer { lock.release() }
        try removeManifest(in: PollutantStage.femFolder(options.dataURL))
        BLASThreads.set(1)
        let started = monotonicSeconds()
        let summary: StageSummary
        do { summary = try PollutantStage.merge(config: config, dataDirectory: options.dataURL, log: note) } catch let error as PollutantInputError {
            throw StageError("pollutant-fem merge: \(error.message)")
        }
        var fieldFiles: [URL] = []
        if config.fem.fields { fieldFiles = try writeFields(config: config, data: options.dataURL) }
        let fem = PollutantStage.femFolder(options.dataURL)
        try record(summary, config: config, extraOutputs: fieldFiles, manifest: fem.appendingPathComponent("manifest.json"))
        try report(summary, config: config, seconds: monotonicSeconds() - started, destination: fem.path)
    }
}

// MARK: - fields

struct Fields: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fields",
        abstract: "Write only DATA/fem/fields/*.vtu, the one-at-a-time variations of the paper's Figure 2.",
        discussion: """
        The central parameter set is fem.fields_center; each parameter in turn is set to the low and the \
        high end of its [sampling] range (13 solves). The wind profiles are solved in-process with [wind]. \
        fields.json lists the parameters of every file.
        """)

    @OptionGroup var options: StageOptions

    func run() throws {
        let config = try options.loadConfig()
        let lock = try options.lockOutput(PollutantStage.femFolder(options.dataURL))
        defer { lock.release() }
        BLASThreads.set(1)
        _ = try writeFields(config: config, data: options.dataURL)
    }
}

// MARK: - solve (one parameter set by hand)

struct Solve: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "solve",
        abstract: "Solve one parameter set by hand (the Blasius wind is solved too).",
        discussion: """
        Uses the mesh, sources and observation grid of [fem] and the wind settings of [wind]. Prints the \
        Newton history, the extrema of c1, c2, c3 and the global balance of each species; --vtu writes c1, \
        c2, c3, the wind and the inflow mask on the mesh, --observations writes c3 at the observation \
        points (x, y, c3) as .csv or .npy (P x 3). Negative values may be written --uh -0.1 or --uh=-0.1.
        """)

    @OptionGroup var options: StageOptions
    @Option(name: .customLong("K12"), help: "Reaction rate of c1 + c2 → c3.") var k12: Double
    @Option(name: .customLong("K3"), help: "Decay rate of c3.") var k3: Double
    @Option(name: .customLong("D"), help: "Diffusion coefficient (all species).") var d: Double
    @Option(name: .customLong("U0"), help: "Free-stream wind speed.") var u0: Double
    @Option(name: .customLong("uh"), parsing: .unconditional, help: "Slip velocity at the ground.") var uh: Double
    @Option(name: .customLong("uv"), parsing: .unconditional, help: "Transpiration velocity at the ground (> 0 blowing).") var uv: Double
    @Option(help: "Write the fields on the mesh to this .vtu file.") var vtu: String?
    @Option(help: "Write c3 at the observation points to this .csv or .npy file.") var observations: String?

    func validate() throws {
        if let observations, !(observations.hasSuffix(".csv") || observations.hasSuffix(".npy")) {
            throw ValidationError("--observations must end in .csv or .npy")
        }
        if let vtu, !vtu.hasSuffix(".vtu") { throw ValidationError("--vtu must end in .vtu") }
    }

    func run() throws {
        let config = try options.loadConfig()
        BLASThreads.set(1)
        let p = PollutantParameters(k12: k12, k3: k3, diffusion: d, u0: u0, uh: uh, uv: uv)
        let solution: PollutantSolution
        let discretization: PollutantDiscretization
        let started = monotonicSeconds()
        do {
            try p.validate(context: "parameters")
            let wind = try InProcessWind.profile(for: p, options: InProcessWind.Options(config.wind))
            if let n = wind.note { print("# wind: \(n)") }
            discretization = try PollutantDiscretization(settings: config.fem)
            let solver = PollutantSolver(discretization: discretization, newton: NewtonOptions(config.fem))
            solution = try solver.solve(p, profile: wind.profile, nu: config.wind.nu, x0: config.wind.x0)
        } catch let e as PollutantInputError {
            throw StageError("pollutant-fem solve: \(e.message)")
        } catch let failure as NewtonFailure {
            throw StageError("pollutant-fem solve: \(failure)")
        }
        let mesh = discretization.mesh
        let r = solution.report
        print("# \(p)")
        print("# mesh \(config.fem.nx) x \(config.fem.ny): \(mesh.nodeCount) nodes, \(discretization.space.unknownCount) unknowns; \(solution.inflowNodes.filter { $0 }.count) inflow nodes")
        print("# Newton: \(r.iterations) iterations, \(r.factorizations) factorizations, relative residuals " +
              r.relativeResiduals.map { String(format: "%.2e", $0) }.joined(separator: " ") +
              String(format: "; %.3f s (assembly %.3f, factorization %.3f)", r.totalSeconds, r.assemblySeconds, r.factorizationSeconds))
        let lo = solution.minima, hi = solution.maxima
        for s in 0..<3 { print(String(format: "# c%d: min %.6g, max %.6g", s + 1, lo[s], hi[s])) }
        let balance = GlobalBalance.compute(solution, parameters: p, discretization: discretization)
        for (s, b) in balance.enumerated() {
            print(String(format: "# balance c%d: source %.6e = reaction %.6e + advective outflux %.6e + diffusive outflux %.6e; imbalance %.3e (%.2e relative)",
                         s + 1, b.source, b.reaction, b.advectiveOutflux, b.diffusiveOutflux, b.imbalance, b.relativeImbalance))
        }
        let c3 = solution.c3AtObservations
        print(String(format: "# c3 at the %d observation points: min %.6g, max %.6g, mean %.6g", c3.count,
                     c3.min() ?? 0, c3.max() ?? 0, c3.reduce(0, +) / Double(max(c3.count, 1))))
        if let vtu {
            try solution.vtu(mesh: mesh).write(to: URL(fileURLWithPath: vtu), encoding: .base64)
            print("# fields → \(vtu)")
        }
        if let observations {
            let url = URL(fileURLWithPath: observations)
            let pts = discretization.observationPoints
            if observations.hasSuffix(".npy") {
                var table = [Double]()
                for k in 0..<c3.count { table += [pts[2 * k], pts[2 * k + 1], c3[k]] }
                try Npy.write(table, shape: [c3.count, 3], to: url)
            } else {
                var text = "x,y,c3\n"
                for k in 0..<c3.count { text += "\(pts[2 * k]),\(pts[2 * k + 1]),\(c3[k])\n" }
                try AtomicFile.write(text, to: url)
            }
            print("# c3 at the observation points → \(observations)")
        }
        print(String(format: "# total %.2f s", monotonicSeconds() - started))
    }
}

// MARK: - convergence

struct Convergence: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convergence",
        abstract: "Mesh convergence study: representative samples on successively refined meshes.",
        discussion: """
        Solves the representative parameter sets (the centre of the box and the corners that stress the \
        mesh: thin plumes, slow wind, suction, a blown-off layer, reverse wall motion) on each mesh and \
        prints the relative change of c3 at the observation points from each mesh to the next finer one, \
        in the RMS (L2) norm and the max norm. The mesh grading, sources and observation points are those \
        of [fem]. formulation.md §3 asks for the default mesh to change c3 by < 1 % on the next refinement.
        """)

    @OptionGroup var options: StageOptions
    @Option(help: "Meshes NXxNY, coarse to fine (default: fem.nx x fem.ny halved, as is, doubled).") var meshes: String?
    @Option(help: "Comma-separated case names (default: all; 'none' for only --samples): \(MeshConvergenceStudy.representativeCases.map(\.name).joined(separator: ", ")).")
    var cases: String?
    @Option(help: "Also solve this many samples of DATA (evenly spaced over those with a wind profile, with their profiles from DATA/wind).")
    var samples: Int = 0
    @Option(help: "Also write the table to this .csv file.") var csv: String?

    func run() throws {
        let config = try options.loadConfig()
        BLASThreads.set(1)
        let fem = config.fem
        let meshList: [(nx: Int, ny: Int)]
        if let meshes {
            meshList = try meshes.split(separator: ",").map { item in
                let parts = item.lowercased().split(separator: "x").compactMap { Int($0) }
                guard parts.count == 2, parts[0] >= 2, parts[1] >= 2 else { throw ValidationError("--meshes: '\(item)' is not NXxNY (e.g. 120x80)") }
                return (parts[0], parts[1])
            }
        } else {
            meshList = [(max(2, fem.nx / 2), max(2, fem.ny / 2)), (fem.nx, fem.ny), (2 * fem.nx, 2 * fem.ny)]
        }
        var selected = MeshConvergenceStudy.representativeCases
        if let cases, cases == "none" {
            selected = []
        } else if let cases {
            let names = cases.split(separator: ",").map(String.init)
            selected = try names.map { name in
                guard let c = MeshConvergenceStudy.representativeCases.first(where: { $0.name == name }) else {
                    throw ValidationError("--cases: unknown case '\(name)'")
                }
                return c
            }
        }
        let newton = NewtonOptions(fem)
        let results: [MeshConvergenceStudy.MeshResult]
        do {
            if samples > 0 {
                let inputs = try BatchInputs.load(dataDirectory: options.dataURL, nu: config.wind.nu)
                selected += MeshConvergenceStudy.cases(from: inputs, count: samples)
            }
            results = try MeshConvergenceStudy.run(specification: PollutantDiscretization.Specification(fem),
                                                   wind: InProcessWind.Options(config.wind), meshes: meshList, cases: selected,
                                                   threads: fem.threads, newton: newton, log: { note("pollutant-fem convergence: \($0)") })
        } catch let e as PollutantInputError { throw StageError("pollutant-fem convergence: \(e.message)") }
        let changes = MeshConvergenceStudy.changes(results)
        var csvText = "case,coarse,fine,relative_l2_change,relative_max_change\n"
        let header = "case          " + (1..<results.count).map { m in
            "  \(results[m - 1].nx)x\(results[m - 1].ny)→\(results[m].nx)x\(results[m].ny) (RMS, max)".padding(toLength: 34, withPad: " ", startingAt: 0)
        }.joined()
        print(header)
        for (k, c) in selected.enumerated() {
            var line = c.name.padding(toLength: 14, withPad: " ", startingAt: 0)
            defer { print(line) }
            for (m, row) in changes.enumerated() {
                let l2 = row[k].relativeL2.map { String(format: "%.3f%%", 100 * $0) } ?? "failed"
                let mx = row[k].relativeMax.map { String(format: "%.3f%%", 100 * $0) } ?? "failed"
                line += "  " + "\(l2), \(mx)".padding(toLength: 32, withPad: " ", startingAt: 0)
                csvText += "\(c.name),\(results[m].nx)x\(results[m].ny),\(results[m + 1].nx)x\(results[m + 1].ny),\(row[k].relativeL2.map { "\($0)" } ?? ""),\(row[k].relativeMax.map { "\($0)" } ?? "")\n"
            }
            line += "  Newton its " + results.map { "\($0.newtonIterations[k])" }.joined(separator: "/")
        }
        // Distribution over all cases of the change from each mesh to the next.
        for (m, row) in changes.enumerated() {
            let l2 = row.compactMap(\.relativeL2).sorted(), mx = row.compactMap(\.relativeMax).sorted()
            guard !l2.isEmpty else { continue }
            func q(_ v: [Double], _ f: Double) -> String { String(format: "%.3f%%", 100 * v[min(v.count - 1, Int(f * Double(v.count - 1)))]) }
            print("# \(results[m].nx)x\(results[m].ny)→\(results[m + 1].nx)x\(results[m + 1].ny) over \(l2.count) cases: RMS change median \(q(l2, 0.5)), 90th percentile \(q(l2, 0.9)), max \(q(l2, 1)); max-norm change median \(q(mx, 0.5)), max \(q(mx, 1))")
        }
        for r in results {
            for (k, f) in r.failures.enumerated() { if let f { print("# \(r.nx)x\(r.ny) \(selected[k].name): \(f)") } }
            let total = r.solveSeconds.reduce(0, +)
            print(String(format: "# %dx%d: %d nodes, setup %.2f s, mean solve %.2f s", r.nx, r.ny, r.nodes, r.setupSeconds, total / Double(max(r.solveSeconds.count, 1))))
        }
        if let csv { try AtomicFile.write(csvText, to: URL(fileURLWithPath: csv)) }
    }
}

MemoryTuning.retainFreedMemory()   // reuse UMFPACK's large blocks instead of page-faulting them afresh
PollutantFEM.stageMain(usesBLAS: true)
