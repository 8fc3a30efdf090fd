import Foundation
import ArgumentParser
import NumericalFoundations
import Surrogates

/// The cost of fitting one POD-GP coefficient: on synthetic data of the refine study's shape (500
/// likelihood samples, 10 inputs: the six parameters and four wind descriptors), the time of one
/// marginal-likelihood evaluation with its gradient (R&W eqs. 2.30, 5.9; fastest and median of
/// `repeats`) and of one full fit (L-BFGS from `restarts` starts), in CPU seconds of the calling
/// thread (BLAS single-threaded, so a shared machine disturbs it less than the wall time).
///
/// The fit's digest (SHA-256 of its hyper-parameters' and NLML's bits, and of every restart's) lets a
/// change to the likelihood code be checked for identical results: two builds that print the same
/// digest fitted the same bits.
public enum GaussianProcessBenchmark {
    public struct Options: Sendable {
        public var samples = 500
        public var dimension = 10
        public var restarts = 3
        public var repeats = 20
        public var kernel = CovarianceKernel.matern52
        public var seed: UInt64 = 1
        public init() {}
    }

    public struct Result: Sendable {
        public var evaluationSeconds: [Double]
        public var fitSeconds: Double
        public var fitEvaluations: Int
        public var negativeLogMarginalLikelihood: Double
        public var digest: String
    }

    /// Inputs uniform in [−1, 1]^d; the target a smooth map whose relevance falls off with the input
    /// index (so the fitted length scales differ, as in the study), plus a little seeded noise.
    public static func syntheticData(count n: Int, dimension d: Int, seed: UInt64) -> (inputs: [Double], targets: [Double]) {
        var generator = SeededGenerator(seed: seed, stream: 0)
        let inputs = (0..<(n * d)).map { _ in 2 * generator.nextUniform() - 1 }
        let targets = (0..<n).map { i -> Double in
            var s = 0.0
            for m in 0..<d { s += inputs[i * d + m] / Double(m + 1) }
            return Foundation.sin(2 * s) + 0.5 * inputs[i * d] * inputs[i * d] + 1e-3 * (2 * generator.nextUniform() - 1)
        }
        return (inputs, targets)
    }

    public static func run(_ o: Options) throws -> Result {
        let (x, y) = syntheticData(count: o.samples, dimension: o.dimension, seed: o.seed)
        let theta = GaussianProcessHyperparameters(logLengthScales: (0..<o.dimension).map { Foundation.log(0.5 + 0.2 * Double($0)) },
                                                   logSignalStandardDeviation: 0, logNoiseStandardDeviation: Foundation.log(0.01))
        return try Lapack.withSingleThreadedBLAS { () throws -> Result in
            var times: [Double] = []
            for _ in 0..<max(1, o.repeats) {
                let start = SensitivityBenchmark.threadCPUSeconds()
                _ = try GaussianProcessRegressor.negativeLogMarginalLikelihood(inputs: x, targets: y, count: o.samples, dimension: o.dimension,
                                                                               kernel: o.kernel, hyperparameters: theta)
                times.append(SensitivityBenchmark.threadCPUSeconds() - start)
            }
            let start = SensitivityBenchmark.threadCPUSeconds()
            let gp = try GaussianProcessRegressor.fit(inputs: x, targets: y, count: o.samples, dimension: o.dimension,
                                                      options: GaussianProcessOptions(kernel: o.kernel, restarts: o.restarts, seed: o.seed))
            let fitSeconds = SensitivityBenchmark.threadCPUSeconds() - start
            guard let report = gp.fitReport else { throw StageError("bench-gp: the fit returned no report") }
            var digest = SHA256Digest()
            func add(_ values: [Double]) { for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { digest.update($0) } } }
            add(gp.hyperparameters.vector + [gp.negativeLogMarginalLikelihood] + gp.alpha)
            for r in report.restarts { add(r.optimum.vector + [r.negativeLogMarginalLikelihood, Double(r.evaluations)]) }
            return Result(evaluationSeconds: times, fitSeconds: fitSeconds, fitEvaluations: report.restarts.reduce(0) { $0 + $1.evaluations },
                          negativeLogMarginalLikelihood: gp.negativeLogMarginalLikelihood, digest: digest.hexDigest())
        }
    }
}

/// The command line of `train-dmd bench-gp`.
public struct GaussianProcessBenchmarkOptions: ParsableArguments {
    public static let discussion = """
        Run it in a release build: swift run -c release train-dmd bench-gp.

        Prints the CPU seconds of one likelihood evaluation with its gradient (fastest and median), of the whole fit, the fit's likelihood evaluations, and a digest of the fitted bits (equal digests: equal results).
        """
    @Option(parsing: .unconditional, help: "Likelihood samples n (the refine study: gp_hyperparameter_samples = 500).") public var samples: Int = 500
    @Option(parsing: .unconditional, help: "Inputs d (the refine study: 6 parameters + 4 wind descriptors).") public var dimension: Int = 10
    @Option(parsing: .unconditional, help: "L-BFGS starts of the fit.") public var restarts: Int = 3
    @Option(parsing: .unconditional, help: "Timed likelihood evaluations.") public var repeats: Int = 20
    @Option(help: "matern52 or squared_exponential.") public var kernel: String = "matern52"
    @Option(parsing: .unconditional, help: "Seed of the synthetic data and of the fit's starts.") public var seed: UInt64 = 1
    public init() {}

    public func run() throws {
        #if DEBUG
        note("train-dmd bench-gp: warning: this is a debug build; timings mean little (use swift run -c release train-dmd bench-gp)")
        #endif
        guard samples >= 2, dimension >= 1, restarts >= 1, repeats >= 1 else {
            throw ValidationError("bench-gp needs --samples ≥ 2, --dimension ≥ 1, --restarts ≥ 1, --repeats ≥ 1")
        }
        guard let k = CovarianceKernel(rawValue: kernel) else {
            throw ValidationError("--kernel must be one of \(CovarianceKernel.allCases.map(\.rawValue).joined(separator: ", ")), got \(kernel)")
        }
        var o = GaussianProcessBenchmark.Options()
        o.samples = samples; o.dimension = dimension; o.restarts = restarts; o.repeats = repeats; o.kernel = k; o.seed = seed
        let r = try GaussianProcessBenchmark.run(o)
        let sorted = r.evaluationSeconds.sorted()
        print("GP likelihood, n = \(samples), d = \(dimension), \(kernel), BLAS single-threaded (CPU seconds of this thread)")
        // The public likelihood allocates its buffers each call; the fit's maximisations reuse theirs.
        print(String(format: "one evaluation with gradient (fresh buffers): fastest %.4f s, median %.4f s (%d repeats)", sorted[0], sorted[sorted.count / 2], sorted.count))
        print(String(format: "fit (%d starts): %.2f s, %d evaluations, %.4f s per evaluation (buffers reused)", restarts, r.fitSeconds, r.fitEvaluations,
                     r.fitSeconds / Double(max(r.fitEvaluations, 1))))
        print(String(format: "NLML at the optimum %.10g", r.negativeLogMarginalLikelihood))
        print("digest \(r.digest)")
    }
}
