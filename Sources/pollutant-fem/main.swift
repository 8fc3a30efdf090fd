import ArgumentParser
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

    @OptionGroup var options: PollutantRunOptions

    func run() throws { try PollutantStage.run(options) }
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

    @OptionGroup var options: PollutantSolveOptions

    func run() throws { try PollutantStage.solveOne(options) }
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

    @OptionGroup var options: MeshConvergenceOptions

    func run() throws { try PollutantStage.meshConvergence(options) }
}

PollutantStage.retainFreedMemory()
PollutantFEM.stageMain(usesBLAS: true)
