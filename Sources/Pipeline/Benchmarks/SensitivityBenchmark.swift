import Foundation
import NumericalFoundations
import PDE

/// The cost of the sensitivities: for each of a few parameter sets on the mesh of a configuration's
/// [fem], the wall time of one solve alone and of one solve with its six sensitivities
/// (`PollutantSolver.solveWithSensitivities`: the solve, the six perturbed Blasius winds, the right-hand
/// sides and the refined tangent solves), each the fastest of `repeats`, and their ratio.
/// Target: median ratio ≤ 1.3 (docs/fem.md "Parametric sensitivities").
public enum SensitivityBenchmark {
    public struct Row: Sendable {
        public var parameters: PollutantParameters
        public var solveSeconds: Double
        public var withSensitivitiesSeconds: Double
        /// The same in CPU time of the calling thread (the solver is single-threaded with one BLAS
        /// thread): less disturbed by other processes on a shared machine than the wall time.
        public var solveCPUSeconds = 0.0
        public var withSensitivitiesCPUSeconds = 0.0
        public var newtonFactorizations: Int
        public var sweeps: [Int]
        public var refactorized: Bool
        public var ratio: Double { withSensitivitiesSeconds / solveSeconds }
        public var cpuRatio: Double { withSensitivitiesCPUSeconds / solveCPUSeconds }
    }

    /// Spread over the box of formulation.md §1, each with a similarity solution.
    public static let defaultParameters: [PollutantParameters] = [
        PollutantParameters(k12: 10, k3: 5, diffusion: 0.05, u0: 1, uh: 0.05, uv: -0.05),
        PollutantParameters(k12: 5, k3: 1, diffusion: 0.1, u0: 1, uh: 0.05, uv: 0),
        PollutantParameters(k12: 12, k3: 3, diffusion: 0.02, u0: 0.5, uh: 0.1, uv: -0.05),
        PollutantParameters(k12: 2, k3: 0.5, diffusion: 0.3, u0: 1.5, uh: -0.1, uv: 0),
        PollutantParameters(k12: 18, k3: 8, diffusion: 0.02, u0: 2, uh: 0, uv: 0),
        PollutantParameters(k12: 15, k3: 2, diffusion: 0.08, u0: 0.8, uh: -0.05, uv: -0.2),
        PollutantParameters(k12: 3, k3: 9, diffusion: 0.15, u0: 1.2, uh: 0.2, uv: 0),
    ]

    public static func run(config: PipelineConfig, parameters: [PollutantParameters] = defaultParameters, repeats: Int = 2,
                           log: (String) -> Void) throws -> [Row] {
        let discretization = try PollutantDiscretization(settings: config.fem)
        let solver = PollutantSolver(discretization: discretization, newton: NewtonOptions(config.fem))
        let options = SensitivityOptions(wind: InProcessWind.Options(config.wind))
        log("mesh \(config.fem.problem.mesh.nx) x \(config.fem.problem.mesh.ny): \(discretization.mesh.nodeCount) nodes, \(discretization.space.unknownCount) unknowns, \(discretization.observation.count) observation points; fastest of \(repeats)")
        var rows: [Row] = []
        for p in parameters {
            let profile = try InProcessWind.profile(for: p, options: options.wind).profile
            var plain = Double.infinity, with = Double.infinity, plainCPU = Double.infinity, withCPU = Double.infinity
            var row = Row(parameters: p, solveSeconds: 0, withSensitivitiesSeconds: 0, newtonFactorizations: 0, sweeps: [], refactorized: false)
            for _ in 0..<max(1, repeats) {
                var started = monotonicSeconds(), startedCPU = threadCPUSeconds()
                let solution = try solver.solve(p, profile: profile, nu: options.wind.nu, x0: options.wind.x0)
                plain = min(plain, monotonicSeconds() - started)
                plainCPU = min(plainCPU, threadCPUSeconds() - startedCPU)
                started = monotonicSeconds(); startedCPU = threadCPUSeconds()
                let result = try solver.solveWithSensitivities(p, profile: profile, options: options)
                with = min(with, monotonicSeconds() - started)
                withCPU = min(withCPU, threadCPUSeconds() - startedCPU)
                row.newtonFactorizations = solution.report.factorizations
                row.sweeps = result.sensitivities.report.sweeps
                row.refactorized = result.sensitivities.report.refactorized
            }
            row.solveSeconds = plain
            row.withSensitivitiesSeconds = with
            row.solveCPUSeconds = plainCPU
            row.withSensitivitiesCPUSeconds = withCPU
            log(String(format: "%@: solve %.3f s, with sensitivities %.3f s, ratio %.3f (CPU %.3f / %.3f s, ratio %.3f); %d Newton factorizations, sweeps %@%@",
                       p.description, plain, with, with / plain, plainCPU, withCPU, withCPU / plainCPU, row.newtonFactorizations, row.sweeps.map(String.init).joined(separator: " "),
                       row.refactorized ? ", refactorised" : ""))
            rows.append(row)
        }
        return rows
    }

    /// CPU seconds of the calling thread.
    public static func threadCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + 1e-9 * Double(t.tv_nsec)
    }

    public static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : 0.5 * (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2])
    }
}
