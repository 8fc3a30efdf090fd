import Foundation
import ArgumentParser
import Surrogates

/// The command line of `train-dmd dmd`: the DMD library as a general tool for any snapshot matrix,
/// and its benchmark.
public struct DMDToolOptions: ParsableArguments {
    public static let discussion = """
        Input: a 2-D float64 or float32 .npy array of snapshots w_1 … w_m (oldest first), shape (n, m) with one snapshot per \
        column (np.stack(snapshots, axis=1)), or shape (m, n) with --layout rows.

        Method (docs/dmd.md, formulation.md F9-F13): X = [w_1 … w_{m-1}], X' = [w_2 … w_m]; thin SVD of X (Householder QR \
        then SVD of R, or the method of snapshots with --svd gram); keep the r singular values with σ_i/σ_0 > tol; \
        Ã = U_rᵀ X' V_r Σ_r⁻¹; Ã Y = Y Λ; modes Φ (exact or projected); amplitudes b by least squares Φ b ≈ w_m; \
        w_{m+s} = Re(Φ Λ^s b).

        Output folder: singular_values.npy (min(n,m-1),), eigenvalues.npy (r,2: Re, Im), amplitudes.npy (r,2), \
        reduced_operator.npy (r,r), extrapolated.npy (n,), modes.npy (n,r,2; with --write-modes), summary.json.

        --bench instead times the DMD of one layer for several n and m on both SVD paths (build with -c release), \
        and one jump of every layer of the paper's network.
        """

    @Option(help: ArgumentHelp("Snapshot matrix (.npy, float64 or float32).", valueName: "file.npy"))
    public var snapshots: String?

    @Option(parsing: .unconditional, help: "Steps s to extrapolate beyond the last snapshot (s ≥ 0; may be fractional: λ^s on the principal branch).")
    public var steps: Double?

    @Option(parsing: .unconditional, help: "Keep singular values with σ_i/σ_0 > tol (the paper: 1e-10).")
    public var tol: Double = 1e-10

    @Option(parsing: .unconditional, help: "At most this many modes (on top of --tol).")
    public var rank: Int?

    @Option(help: "Output folder (created if missing).")
    public var out: String = "dmd-out"

    @Option(help: "Thin SVD: qr (Householder QR then SVD of R; accurate) or gram (the paper's method of snapshots, eigen-decomposition of XᵀX).")
    public var svd: String = "qr"

    @Option(help: "Modes: exact (X' V Σ⁻¹ Y) or projected (U Y).")
    public var modes: String = "exact"

    @Option(help: "Snapshot layout in the file: columns (shape (n, m)) or rows (shape (m, n)).")
    public var layout: String = "columns"

    @Flag(help: "Safeguard (a): scale eigenvalues with |λ| > 1 back onto the unit circle before extrapolating.")
    public var clampEigenvalues = false

    @Option(parsing: .unconditional, help: "Safeguard (b): relaxation ω, w = w_m + ω (w_dmd − w_m); 1 is the plain jump.")
    public var relaxation: Double = 1

    @Flag(help: "Also write the modes Φ (n × r complex; large for big n).")
    public var writeModes = false

    @Flag(help: "Run the benchmark instead of a decomposition (use a release build: swift run -c release train-dmd dmd --bench).")
    public var bench = false

    @Option(help: "Benchmark: comma-separated snapshot lengths n.")
    public var benchDimensions: String = "10000,100000,2700000"

    @Option(help: "Benchmark: comma-separated snapshot counts m.")
    public var benchSnapshots: String = "8,14,20"

    public init() {}

    public func validate() throws {
        if bench { return }
        guard snapshots != nil else { throw ValidationError("--snapshots FILE.npy is required (or --bench)") }
        guard let steps, steps.isFinite, steps >= 0 else { throw ValidationError("--steps s is required: a finite number ≥ 0") }
        guard DMDOptions.SVDMethod(rawValue: svd) != nil else { throw ValidationError("--svd must be qr or gram, got '\(svd)'") }
        guard DMDOptions.ModeKind(rawValue: modes) != nil else { throw ValidationError("--modes must be exact or projected, got '\(modes)'") }
        guard DMDCommandLine.SnapshotLayout(rawValue: layout) != nil else { throw ValidationError("--layout must be columns or rows, got '\(layout)'") }
    }

    /// The decomposition asked for (after `validate()`, which checked every choice).
    var request: DMDCommandLine.Request {
        let options = DMDOptions(svdMethod: DMDOptions.SVDMethod(rawValue: svd)!, modes: DMDOptions.ModeKind(rawValue: modes)!,
                                 tolerance: tol, maximumRank: rank, clampEigenvaluesToUnitCircle: clampEigenvalues, relaxation: relaxation)
        return DMDCommandLine.Request(snapshotsURL: URL(fileURLWithPath: snapshots!), outputDirectory: URL(fileURLWithPath: out, isDirectory: true),
                                      steps: steps!, options: options, layout: DMDCommandLine.SnapshotLayout(rawValue: layout)!,
                                      writeModes: writeModes)
    }
}

/// `train-dmd dmd`: one decomposition (`DMDCommandLine`) or, with `--bench`, the timings of `DMDBenchmark`.
public enum DMDToolStage {
    public static func run(_ options: DMDToolOptions) throws {
        if options.bench { return try runBenchmark(options) }
        let summary = try DMDCommandLine.run(options.request)
        print("dmd: n = \(summary.dimension), m = \(summary.snapshotCount), rank r = \(summary.rank), largest |λ| = \(summary.largestEigenvalueModulus), \(String(format: "%.3f", summary.decompositionSeconds)) s")
        for url in summary.outputs { print("  \(url.path)") }
    }

    static func runBenchmark(_ options: DMDToolOptions) throws {
        func integers(_ text: String, _ flag: String) throws -> [Int] {
            let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else { throw ValidationError("\(flag) must be comma-separated positive integers, got '\(text)'") }
            return values.map { $0! }
        }
        let dimensions = try integers(options.benchDimensions, "--bench-dimensions")
        let counts = try integers(options.benchSnapshots, "--bench-snapshots")
        guard counts.allSatisfy({ $0 >= 2 }) else { throw ValidationError("--bench-snapshots: m must be at least 2") }
        print("DMD of one layer (best of several runs; append = one Float snapshot into the float64 buffer; extrapolate = s = 55 into Float):")
        _ = try DMDBenchmark.scaling(dimensions: dimensions, snapshotCounts: counts) { print($0) }
        print("\nOne jump of every layer of the paper network (n = 280, 8 200, 201 000, 2 672 670; m = 14, QR path):")
        let jump = try DMDBenchmark.networkJump()
        print(String(format: "  snapshot of all layers   %8.2f ms (per epoch)", jump.snapshotSeconds * 1e3))
        print(String(format: "  jump, layers in sequence %8.2f ms", jump.sequentialSeconds * 1e3))
        print(String(format: "  jump, layers concurrent  %8.2f ms", jump.concurrentSeconds * 1e3))
        print(String(format: "  jump, concurrent, 1 BLAS thread per layer %8.2f ms", jump.concurrentSingleThreadedBLASSeconds * 1e3))
    }
}
