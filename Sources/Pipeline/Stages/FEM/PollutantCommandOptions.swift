import Foundation
import ArgumentParser
import PDE

/// The command line of `pollutant-fem run`: the stage options and an optional shard.
public struct PollutantRunOptions: ParsableArguments {
    @OptionGroup public var stage: StageOptions

    @Option(help: ArgumentHelp("Solve only the K-th (1-based) of N contiguous blocks of samples, into DATA/fem/shards/.", valueName: "K/N"))
    public var shard: String?

    public init() {}
}

/// The command line of `pollutant-fem solve`: one parameter set and where to write its fields.
public struct PollutantSolveOptions: ParsableArguments {
    @OptionGroup public var stage: StageOptions
    @Option(name: .customLong("K12"), parsing: .unconditional, help: "Reaction rate of c1 + c2 → c3.") public var k12: Double
    @Option(name: .customLong("K3"), parsing: .unconditional, help: "Decay rate of c3.") public var k3: Double
    @Option(name: .customLong("D"), parsing: .unconditional, help: "Diffusion coefficient (all species).") public var d: Double
    @Option(name: .customLong("U0"), parsing: .unconditional, help: "Free-stream wind speed.") public var u0: Double
    @Option(name: .customLong("uh"), parsing: .unconditional, help: "Slip velocity at the ground.") public var uh: Double
    @Option(name: .customLong("uv"), parsing: .unconditional, help: "Transpiration velocity at the ground (> 0 blowing).") public var uv: Double
    @Option(help: "Write the fields on the mesh to this .vtu file.") public var vtu: String?
    @Option(help: "Write c3 at the observation points to this .csv or .npy file.") public var observations: String?
    @Flag(help: "Also compute dc3/dθ for θ = K12, K3, D, U0, u_h, u_v (the tangent of the discrete problem) and print it with its cost.")
    public var sensitivities = false
    @Option(help: "Write dc3/dθ at the observation points (x, y, dc3/dK12, …, dc3/du_v) to this .csv or .npy file (P x 8); implies --sensitivities.")
    public var sensitivitiesFile: String?

    public init() {}

    public func validate() throws {
        if let observations, !(observations.hasSuffix(".csv") || observations.hasSuffix(".npy")) {
            throw ValidationError("--observations must end in .csv or .npy")
        }
        if let vtu, !vtu.hasSuffix(".vtu") { throw ValidationError("--vtu must end in .vtu") }
        if let sensitivitiesFile, !(sensitivitiesFile.hasSuffix(".csv") || sensitivitiesFile.hasSuffix(".npy")) {
            throw ValidationError("--sensitivities-file must end in .csv or .npy")
        }
    }
}

/// The command line of `pollutant-fem convergence`: the meshes, the cases and the extra samples.
public struct MeshConvergenceOptions: ParsableArguments {
    @OptionGroup public var stage: StageOptions
    @Option(help: "Meshes NXxNY, coarse to fine (default: fem.nx x fem.ny halved, as is, doubled).") public var meshes: String?
    @Option(help: "Comma-separated case names (default: all; 'none' for only --samples): \(MeshConvergenceStudy.representativeCases.map(\.name).joined(separator: ", ")).")
    public var cases: String?
    @Option(parsing: .unconditional, help: "Also solve this many samples of DATA (evenly spaced over those with a wind profile, with their profiles from DATA/wind).")
    public var samples: Int = 0
    @Option(help: "Also write the table to this .csv file.") public var csv: String?

    public init() {}
}

extension PollutantStage {
    /// Makes the allocator keep UMFPACK's large blocks for reuse instead of page-faulting them afresh
    /// (`MemoryTuning`); called once, before any solve.
    public static func retainFreedMemory() {
        MemoryTuning.retainFreedMemory()
    }

    /// `pollutant-fem run`: the batch, or one shard of it; a malformed `--shard` is a usage error.
    public static func run(_ options: PollutantRunOptions) throws {
        let shard = try options.shard.map { text -> ShardSpec in
            do { return try ShardSpec(parsing: text) } catch let e as PollutantInputError { throw ValidationError(e.message) }
        }
        try run(options.stage, shard: shard)
    }

    /// `pollutant-fem solve`: one parameter set, its report on stdout.
    public static func solveOne(_ options: PollutantSolveOptions) throws {
        let parameters = PollutantParameters(k12: options.k12, k3: options.k3, diffusion: options.d, u0: options.u0, uh: options.uh, uv: options.uv)
        try SingleSolve.run(config: try options.stage.loadConfig(), parameters: parameters,
                            outputs: SingleSolve.Outputs(vtu: options.vtu.map { URL(fileURLWithPath: $0) },
                                                         observations: options.observations.map { URL(fileURLWithPath: $0) },
                                                         sensitivities: options.sensitivities,
                                                         sensitivitiesFile: options.sensitivitiesFile.map { URL(fileURLWithPath: $0) }),
                            print: { Swift.print($0) })
    }

    /// `pollutant-fem convergence`: the mesh convergence table on stdout.
    public static func meshConvergence(_ options: MeshConvergenceOptions) throws {
        var request = MeshConvergenceReport.Request()
        do {
            request.meshes = try options.meshes.map(MeshConvergenceReport.parseMeshes)
            request.caseNames = try options.cases.map(MeshConvergenceReport.parseCases)
        } catch let e as PollutantInputError { throw ValidationError(e.message) }
        request.samples = options.samples
        request.csv = options.csv.map { URL(fileURLWithPath: $0) }
        try MeshConvergenceReport.run(config: try options.stage.loadConfig(), dataDirectory: options.stage.dataURL, request: request,
                                      print: { Swift.print($0) })
    }
}
