import Foundation
import ArgumentParser
import PDE
import Pipeline

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
        let shardSpec = try shard.map { text -> ShardSpec in
            do { return try ShardSpec(parsing: text) } catch let e as PollutantInputError { throw ValidationError(e.message) }
        }
        try PollutantStage.run(options, shard: shardSpec)
    }
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

    func run() throws { try PollutantStage.merge(options) }
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

    func run() throws { try PollutantStage.writeFigureFields(options) }
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
    @Flag(help: "Also compute dc3/dθ for θ = K12, K3, D, U0, u_h, u_v (the tangent of the discrete problem) and print it with its cost.")
    var sensitivities = false
    @Option(help: "Write dc3/dθ at the observation points (x, y, dc3/dK12, …, dc3/du_v) to this .csv or .npy file (P x 8); implies --sensitivities.")
    var sensitivitiesFile: String?

    func validate() throws {
        if let observations, !(observations.hasSuffix(".csv") || observations.hasSuffix(".npy")) {
            throw ValidationError("--observations must end in .csv or .npy")
        }
        if let vtu, !vtu.hasSuffix(".vtu") { throw ValidationError("--vtu must end in .vtu") }
        if let sensitivitiesFile, !(sensitivitiesFile.hasSuffix(".csv") || sensitivitiesFile.hasSuffix(".npy")) {
            throw ValidationError("--sensitivities-file must end in .csv or .npy")
        }
    }

    func run() throws {
        let parameters = PollutantParameters(k12: k12, k3: k3, diffusion: d, u0: u0, uh: uh, uv: uv)
        try SingleSolve.run(config: try options.loadConfig(), parameters: parameters,
                            outputs: SingleSolve.Outputs(vtu: vtu.map { URL(fileURLWithPath: $0) },
                                                         observations: observations.map { URL(fileURLWithPath: $0) },
                                                         sensitivities: sensitivities,
                                                         sensitivitiesFile: sensitivitiesFile.map { URL(fileURLWithPath: $0) }),
                            print: { Swift.print($0) })
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
        var request = MeshConvergenceReport.Request()
        do {
            request.meshes = try meshes.map(MeshConvergenceReport.parseMeshes)
            request.caseNames = try cases.map(MeshConvergenceReport.parseCases)
        } catch let e as PollutantInputError { throw ValidationError(e.message) }
        request.samples = samples
        request.csv = csv.map { URL(fileURLWithPath: $0) }
        try MeshConvergenceReport.run(config: try options.loadConfig(), dataDirectory: options.dataURL, request: request,
                                      print: { Swift.print($0) })
    }
}

MemoryTuning.retainFreedMemory()   // reuse UMFPACK's large blocks instead of page-faulting them afresh
PollutantFEM.stageMain(usesBLAS: true)
