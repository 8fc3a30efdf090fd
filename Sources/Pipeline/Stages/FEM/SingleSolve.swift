import Foundation
import NumericalFoundations
import PDE

/// `pollutant-fem solve`: one parameter set by hand, with its wind profile solved in-process. Prints
/// the Newton history, the extrema and the global balance of each species (`GlobalBalance`, the
/// integral form of (F5)–(F7)), and writes the fields and/or c3 at the observation points on request.
public enum SingleSolve {
    /// Where to write the results; nil: not written.
    public struct Outputs: Sendable {
        /// The fields on the mesh (.vtu).
        public var vtu: URL?
        /// c3 at the observation points, (x, y, c3) per row: .npy (P × 3) or .csv.
        public var observations: URL?
        /// Whether to compute ∂c3/∂θ (docs/fem.md (S1)–(S6)) and print a summary with its cost.
        public var sensitivities: Bool
        /// ∂c3/∂θ at the observation points, (x, y, ∂c3/∂K12, …, ∂c3/∂u_v) per row: .npy (P × 8) or .csv.
        public var sensitivitiesFile: URL?
        public init(vtu: URL? = nil, observations: URL? = nil, sensitivities: Bool = false, sensitivitiesFile: URL? = nil) {
            self.vtu = vtu; self.observations = observations
            self.sensitivities = sensitivities || sensitivitiesFile != nil; self.sensitivitiesFile = sensitivitiesFile
        }
    }

    /// Solves `parameters` with the mesh, sources and Newton settings of [fem] and the wind of [wind];
    /// every line of the report goes to `print` (standard output in the executable).
    public static func run(config: PipelineConfig, parameters p: PollutantParameters, outputs: Outputs,
                           print: (String) -> Void) throws {
        BLASThreads.set(1)
        let started = monotonicSeconds()
        let solution: PollutantSolution
        var sensitivities: PollutantSensitivities? = nil
        let discretization: PollutantDiscretization
        do {
            try p.validate(context: "parameters")
            let wind = try InProcessWind.profile(for: p, options: InProcessWind.Options(config.wind))
            if let n = wind.note { print("# wind: \(n)") }
            discretization = try PollutantDiscretization(settings: config.fem)
            let solver = PollutantSolver(discretization: discretization, newton: NewtonOptions(config.fem))
            solution = try solver.solve(p, profile: wind.profile, nu: config.wind.nu, x0: config.wind.x0)
            if outputs.sensitivities {
                sensitivities = try solver.sensitivities(of: solution, parameters: p, options: SensitivityOptions(wind: InProcessWind.Options(config.wind)))
            }
        } catch let e as PollutantInputError {
            throw StageError("pollutant-fem solve: \(e.message)")
        } catch let failure as NewtonFailure {
            throw StageError("pollutant-fem solve: \(failure)")
        }
        let mesh = discretization.mesh
        let r = solution.report
        print("# \(p)")
        print("# mesh \(config.fem.problem.mesh.nx) x \(config.fem.problem.mesh.ny): \(mesh.nodeCount) nodes, \(discretization.space.unknownCount) unknowns; " +
              "\(solution.inflowNodes.filter { $0 }.count) inflow nodes")
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
        if let vtu = outputs.vtu {
            try solution.vtu(mesh: mesh).write(to: vtu, encoding: .base64)
            print("# fields → \(vtu.relativePath)")
        }
        if let url = outputs.observations {
            let points = discretization.observationPoints
            if url.pathExtension == "npy" {
                var table = [Double]()
                table.reserveCapacity(3 * c3.count)
                for k in 0..<c3.count { table += [points[2 * k], points[2 * k + 1], c3[k]] }
                try Npy.write(table, shape: [c3.count, 3], to: url)
            } else {
                var text = "x,y,c3\n"
                for k in 0..<c3.count { text += "\(points[2 * k]),\(points[2 * k + 1]),\(c3[k])\n" }
                try AtomicFile.write(text, to: url)
            }
            print("# c3 at the observation points → \(url.relativePath)")
        }
        if let sensitivities { try report(sensitivities, solveSeconds: r.totalSeconds, points: discretization.observationPoints,
                                          file: outputs.sensitivitiesFile, print: print) }
        print(String(format: "# total %.2f s", monotonicSeconds() - started))
    }

    /// Prints RMS and max |∂c3/∂θ_k| over the observation points, the tangent solves' cost beside the
    /// solve's, and writes the table on request.
    static func report(_ s: PollutantSensitivities, solveSeconds: Double, points: [Double], file: URL?, print: (String) -> Void) throws {
        let count = PollutantSensitivities.parameterCount, p = s.observations.count / count
        for (k, name) in PollutantParameters.names.enumerated() {
            var sum = 0.0, largest = 0.0
            for q in 0..<p { let v = s.observations[q * count + k]; sum += v * v; largest = max(largest, abs(v)) }
            let how = s.differences[k].isEmpty ? "analytic" : "\(s.differences[k]) difference of the wind"
            print(String(format: "# dc3/d%@: RMS %.6e, max |.| %.6e (%@)", name, (sum / Double(max(p, 1))).squareRoot(), largest, how))
        }
        let t = s.report
        print(String(format: "# sensitivities: %.3f s beside the solve's %.3f s (ratio %.3f); perturbed winds %.3f s, right-hand sides %.3f s, tangent solves %.3f s; LU sweeps %@%@",
                     s.totalSeconds, solveSeconds, (solveSeconds + s.totalSeconds) / solveSeconds, s.windSeconds, t.rightHandSideSeconds, t.solveSeconds,
                     t.sweeps.map(String.init).joined(separator: " "), t.refactorized ? "; J(c*) refactorised" : ""))
        guard let url = file else { return }
        if url.pathExtension == "npy" {
            var table = [Double]()
            table.reserveCapacity((2 + count) * p)
            for q in 0..<p { table += [points[2 * q], points[2 * q + 1]] + s.observations[(q * count)..<((q + 1) * count)] }
            try Npy.write(table, shape: [p, 2 + count], to: url)
        } else {
            var text = "x,y," + PollutantParameters.names.map { "dc3_d\($0)" }.joined(separator: ",") + "\n"
            for q in 0..<p {
                text += ([points[2 * q], points[2 * q + 1]] + s.observations[(q * count)..<((q + 1) * count)]).map { "\($0)" }.joined(separator: ",") + "\n"
            }
            try AtomicFile.write(text, to: url)
        }
        print("# dc3/dθ at the observation points → \(url.relativePath)")
    }
}
