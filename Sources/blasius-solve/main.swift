import Foundation
import ArgumentParser
import NumericalFoundations
import PDE
import Pipeline

/// `blasius-solve`: the generalized Blasius wind profile (formulation.md §2, §2a) for every sample,
/// one case, or the existence boundary λ_c(f_w).
struct BlasiusSolve: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blasius-solve",
        abstract: "Generalized Blasius wind profiles 2f''' + f f'' = 0 by shooting (formulation.md §2).",
        discussion: """
        Without a subcommand, solves every sample of DATA/samples/params.npy (the batch stage). \
        See docs/blasius.md for the method, the output files and the status codes.
        """,
        subcommands: [Batch.self, Profile.self, Boundary.self],
        defaultSubcommand: Batch.self)
}

// MARK: - batch

struct Batch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Solve the wind profile of every sample (the pipeline's `wind` stage; the default).",
        discussion: """
        Reads DATA/samples/params.npy (N x 6: K12, K3, D, U0, u_h, u_v), maps each sample to \
        λ = u_h/U0 and f_w = −2 u_v/sqrt(ν U0) (ν = wind.nu), solves all samples on all cores and \
        writes to DATA/wind/:

        profiles.npy: N x K x 4 float64, (η, f, f', f'') on K = wind.profile_points nodes per sample
        summary.npy: N x 4 float64, (λ, f_w, f''(0), β) with β = lim (η − f)
        status.npy: N int32, 0 solved, 1 clamped, 2 no solution (λ < λ_c), 3 no solution \
        (blow-off), 4 not converged
        log_fpp0.npy: N float64, ln|f''(0)| (f''(0) underflows under strong blowing)
        effective_params.npy: N x 6 float64, the parameters used (u_v changed where clamped)
        manifest.json: per-sample iterations (shots), times and reasons; counts per status

        Rows of samples without a profile are zeros. wind.no_solution chooses skip, clamp or error.
        """)

    @OptionGroup var options: StageOptions

    func run() throws { try WindStage.run(options) }
}

// MARK: - profile

struct Profile: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Solve one case and print f''(0), β, the branch and the profile.",
        discussion: """
        Give either the similarity parameters (--lambda, --fw) or the physical ones (--U0, --uh, --uv, \
        optionally --nu), which (F3) maps to λ = u_h/U0, f_w = −2 u_v/sqrt(ν U0). Negative values may \
        be written --lambda -0.2 or --lambda=-0.2.

        The summary lines start with '#'. The profile (η, f, f', f'') goes to --out (.csv or .npy) or, \
        without --out, to standard output as CSV.

        Exit status: 0 solved, 2 no solution, 3 not converged.
        """)

    @Option(name: .customLong("lambda"), parsing: .unconditional, help: "λ = f'(0), the wall speed over the free-stream speed.") var lambda: Double?
    @Option(name: .customLong("fw"), parsing: .unconditional, help: "f_w = f(0) (positive: suction, negative: blowing).") var fw: Double?
    @Option(name: .customLong("U0"), help: "Free-stream wind speed U0 > 0.") var u0: Double?
    @Option(name: .customLong("uh"), parsing: .unconditional, help: "Horizontal slip velocity u_h at the ground.") var uh: Double?
    @Option(name: .customLong("uv"), parsing: .unconditional, help: "Vertical (transpiration) velocity u_v at the ground.") var uv: Double?
    @Option(name: .customLong("nu"), help: "Kinematic viscosity ν > 0.") var nu: Double = 1e-5
    @Option(help: "Number of profile nodes K.") var points: Int = 401
    @Option(help: "Accuracy of f'(∞) = 1.") var tolerance: Double = 1e-10
    @Option(help: "Write the profile to this .csv or .npy file instead of standard output.") var out: String?

    func validate() throws {
        let similarity = lambda != nil || fw != nil
        let physical = u0 != nil || uh != nil || uv != nil
        if similarity == physical { throw ValidationError("give either --lambda and --fw, or --U0, --uh and --uv") }
        if similarity, lambda == nil || fw == nil { throw ValidationError("--lambda and --fw go together") }
        if physical, u0 == nil || uh == nil || uv == nil { throw ValidationError("--U0, --uh and --uv go together") }
        guard points >= 16, points <= 100_000 else { throw ValidationError("--points must be between 16 and 100000 (as wind.profile_points)") }
        guard tolerance.isFinite, tolerance >= 1e-12, tolerance <= 1e-3 else { throw ValidationError("--tolerance must be between 1e-12 and 1e-3") }
        if let out, !(out.hasSuffix(".csv") || out.hasSuffix(".npy")) { throw ValidationError("--out must end in .csv or .npy") }
    }

    func run() throws {
        let parameters: SimilarityParameters
        if let lambda, let fw {
            guard lambda.isFinite, fw.isFinite else { throw StageError("λ and f_w must be finite numbers") }
            parameters = SimilarityParameters(lambda: lambda, fw: fw)
        } else {
            do { parameters = try SimilarityParameters(U0: u0!, uh: uh!, uv: uv!, nu: nu) } catch let e as WindParameterError {
                throw StageError(e.message)
            }
        }
        try WindCases.profile(parameters, tolerance: tolerance, points: points, out: out.map { URL(fileURLWithPath: $0) },
                              print: { Swift.print($0) })
    }
}

// MARK: - boundary

struct Boundary: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boundary",
        abstract: "Tabulate the existence boundary λ_c(f_w) (turning point of the reverse-wall branch).",
        discussion: """
        For each of --count values of f_w from --fw-from to --fw-to, prints λ_c(f_w) (solutions exist \
        for λ ≥ λ_c) and f''(0) of the solution at the turning point, as CSV. For f_w ≤ f_w* ≈ −1.23849 \
        (blow-off) there is no solution for any λ ≤ 0, and the table says so.
        """)

    @Option(name: .customLong("fw-from"), parsing: .unconditional, help: "First f_w.") var fwFrom: Double
    @Option(name: .customLong("fw-to"), parsing: .unconditional, help: "Last f_w.") var fwTo: Double
    @Option(help: "Number of f_w values (≥ 1).") var count: Int = 11
    @Option(help: "Accuracy of f'(∞) = 1 in the shots.") var tolerance: Double = 1e-10

    func validate() throws {
        guard fwFrom.isFinite, fwTo.isFinite else { throw ValidationError("--fw-from and --fw-to must be finite") }
        guard count >= 1, count <= 100_000 else { throw ValidationError("--count must be between 1 and 100000") }
        guard tolerance.isFinite, tolerance >= 1e-12, tolerance <= 1e-3 else { throw ValidationError("--tolerance must be between 1e-12 and 1e-3") }
    }

    func run() throws {
        WindCases.boundaryTable(fwFrom: fwFrom, to: fwTo, count: count, tolerance: tolerance).forEach { Swift.print($0) }
    }
}

BlasiusSolve.stageMain()
