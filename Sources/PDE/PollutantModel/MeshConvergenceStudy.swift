import Foundation
import NumericalFoundations

/// The mesh convergence study of formulation.md §3: a few representative parameter sets solved on
/// successively refined meshes (same grading), comparing c3 at the observation points.
public enum MeshConvergenceStudy {
    public struct Case: Sendable {
        public var name: String
        public var parameters: PollutantParameters
        /// The wind profile; nil: solved in-process (`InProcessWind`).
        public var profile: BlasiusProfile?
        public init(name: String, parameters: PollutantParameters, profile: BlasiusProfile? = nil) {
            self.name = name; self.parameters = parameters; self.profile = profile
        }
    }

    /// `count` samples of a batch's inputs, evenly spaced over those with a wind profile, named "sample-i".
    public static func cases(from inputs: BatchInputs, count: Int) -> [Case] {
        let usable = (0..<inputs.count).filter { inputs.profiles[$0] != nil }
        guard count > 0, !usable.isEmpty else { return [] }
        let picks = (0..<min(count, usable.count)).map { usable[$0 * usable.count / min(count, usable.count)] }
        return picks.map { Case(name: "sample-\($0)", parameters: inputs.parameters[$0], profile: inputs.profiles[$0]) }
    }

    /// Representative samples: the centre of the box and the corners that stress the mesh most —
    /// the thinnest plumes (least diffusion, fastest wind), the slowest wind, strong suction, a blown-off
    /// layer (blowing with u_h > 0), reverse wall motion, and fast production with fast decay.
    /// All of them have a similarity solution (formulation.md §2a).
    public static let representativeCases: [Case] = [
        Case(name: "centre", parameters: PollutantParameters(k12: 10, k3: 5, diffusion: 0.25, u0: 1, uh: 0.1, uv: 0)),
        Case(name: "thin-plume", parameters: PollutantParameters(k12: 20, k3: 0, diffusion: 0.01, u0: 2, uh: 0, uv: 0)),
        Case(name: "slow-wind", parameters: PollutantParameters(k12: 20, k3: 1, diffusion: 0.01, u0: 0.05, uh: 0.01, uv: 0)),
        Case(name: "suction", parameters: PollutantParameters(k12: 5, k3: 2, diffusion: 0.05, u0: 1, uh: -0.2, uv: -0.2)),
        Case(name: "blown-off", parameters: PollutantParameters(k12: 10, k3: 0.5, diffusion: 0.05, u0: 0.5, uh: 0.2, uv: 0.2)),
        Case(name: "reverse-wall", parameters: PollutantParameters(k12: 1, k3: 10, diffusion: 0.1, u0: 1, uh: -0.2, uv: 0)),
    ]

    public struct MeshResult: Sendable {
        public var nx: Int
        public var ny: Int
        public var nodes: Int
        /// c3 at the observation points per case (nil where the solve failed, with the reason in `failures`).
        public var c3: [[Double]?]
        public var failures: [String?]
        public var newtonIterations: [Int]
        /// Wall seconds per case and for building the discretization (mesh, pattern, symbolic analysis).
        public var solveSeconds: [Double]
        public var setupSeconds: Double
    }

    public struct Change: Sendable {
        /// ‖c3_h − c3_{h/2}‖₂ / ‖c3_{h/2}‖₂ over the observation points (nil if either solve failed).
        public var relativeL2: Double?
        /// ‖c3_h − c3_{h/2}‖∞ / ‖c3_{h/2}‖∞.
        public var relativeMax: Double?
    }

    /// Solves every case on every mesh (`specification` at each resolution; cases in parallel on
    /// `threads` workers), with the Blasius profile of each case that has none solved in-process under `wind`.
    public static func run(specification: PollutantDiscretization.Specification, wind: InProcessWind.Options,
                           meshes: [(nx: Int, ny: Int)], cases: [Case], threads: Int, newton: NewtonOptions,
                           log: (String) -> Void = { _ in }) throws -> [MeshResult] {
        let profiles = try cases.map { try $0.profile ?? InProcessWind.profile(for: $0.parameters, options: wind).profile }
        var results: [MeshResult] = []
        for (nx, ny) in meshes {
            let started = monotonicSeconds()
            let discretization = try PollutantDiscretization(specification.resolution(nx: nx, ny: ny))
            let setup = (monotonicSeconds() - started)
            let collector = ResultSlots<(c3: [Double]?, failure: String?, iterations: Int, seconds: Double)>(count: cases.count)
            ParallelWork.forEachItem(count: cases.count, threads: threads,
                           makeWorker: { _ in PollutantSolver(discretization: discretization, newton: newton) }) { solver, i in
                let t0 = monotonicSeconds()
                do {
                    let s = try solver.solve(cases[i].parameters, profile: profiles[i], nu: wind.nu, x0: wind.x0)
                    collector.set(i, (s.c3AtObservations, nil, s.report.iterations, (monotonicSeconds() - t0)))
                } catch {
                    collector.set(i, (nil, "\(error)", 0, (monotonicSeconds() - t0)))
                }
            }
            let slots = collector.values.map { $0! }
            let result = MeshResult(nx: nx, ny: ny, nodes: discretization.mesh.nodeCount, c3: slots.map(\.c3),
                                    failures: slots.map(\.failure), newtonIterations: slots.map(\.iterations),
                                    solveSeconds: slots.map(\.seconds), setupSeconds: setup)
            results.append(result)
            log("mesh \(nx)×\(ny): \(result.nodes) nodes, setup \(String(format: "%.2f", setup)) s, solves " +
                result.solveSeconds.map { String(format: "%.2f", $0) }.joined(separator: " ") + " s")
        }
        return results
    }

    /// The relative change of c3 from each mesh to the next finer one, per case.
    public static func changes(_ results: [MeshResult]) -> [[Change]] {
        guard results.count >= 2 else { return [] }
        return (1..<results.count).map { m in
            (0..<results[m].c3.count).map { k in
                guard let coarse = results[m - 1].c3[k], let fine = results[m].c3[k], coarse.count == fine.count else {
                    return Change(relativeL2: nil, relativeMax: nil)
                }
                var d2 = 0.0, f2 = 0.0, dMax = 0.0, fMax = 0.0
                for (a, b) in zip(coarse, fine) {
                    d2 += (a - b) * (a - b); f2 += b * b
                    dMax = max(dMax, abs(a - b)); fMax = max(fMax, abs(b))
                }
                return Change(relativeL2: f2 > 0 ? (d2 / f2).squareRoot() : (d2 > 0 ? .infinity : 0),
                              relativeMax: fMax > 0 ? dMax / fMax : (dMax > 0 ? .infinity : 0))
            }
        }
    }
}

/// Per-index result slots written by several workers (each index by one worker only).
final class ResultSlots<T>: @unchecked Sendable {
    private var storage: [T?]
    private let lock = NSLock()
    init(count: Int) { storage = [T?](repeating: nil, count: count) }
    func set(_ i: Int, _ value: T) { lock.lock(); storage[i] = value; lock.unlock() }
    var values: [T?] { lock.lock(); defer { lock.unlock() }; return storage }
}
