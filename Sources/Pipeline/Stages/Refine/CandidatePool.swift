import Foundation
import NumericalFoundations
import Uncertainty

/// The parameter points the refine loop may acquire: a seeded Latin hypercube over the `[sampling]`
/// box, kept only where the wind's similarity solution exists (`UQStage.Feasibility`: the tabulated
/// existence boundary, a Blasius solve only next to it), so that no FEM solve is spent on a point the
/// FEM would skip. Points equal to a held-out test sample are dropped as well (a test sample is never
/// acquired; with continuous draws this removes nothing in practice, the check makes it a guarantee).
public struct CandidatePool: Sendable {
    /// Feasible points, count × 6 row-major (K12, K3, D, U0, u_h, u_v).
    public let parameters: [Double]
    public let count: Int
    /// Points drawn before the feasibility filter.
    public let drawn: Int
    /// Of those, how many the existence table could not decide without a Blasius solve.
    public let fullWindSolves: Int

    /// Draws `draws` points (stream 21 of `seed`) and keeps the feasible ones not in `excluded` (rows of 6).
    /// `feasibility` (built from `box` and ν when nil) may be shared between pools: its table costs ~80 λ_c solves.
    public init(box: [ClosedRange<Double>], nu: Double, draws: Int, seed: UInt64, excluded: [Double],
                feasibility: UQStage.Feasibility? = nil) throws {
        guard draws >= 1 else { throw StageError("refine: the candidate pool needs at least one draw, got \(draws)") }
        let d = box.count
        var generator = SeededGenerator(seed: seed, stream: 21)
        let design = LatinHypercube(count: draws, dimensions: d, generator: &generator).scaled(to: box)
        let feasible = try feasibility ?? UQStage.Feasibility(box: box, nu: nu)
        let solvesBefore = feasible.fullSolves
        var forbidden = Set<[Double]>()
        for i in 0..<(excluded.count / d) { forbidden.insert(Array(excluded[(i * d)..<((i + 1) * d)])) }
        var kept: [Double] = []
        for i in 0..<draws {
            let row = design[(i * d)..<((i + 1) * d)]
            if feasible(row), !forbidden.contains(Array(row)) { kept += row }
        }
        parameters = kept; count = kept.count / d; drawn = draws; fullWindSolves = feasible.fullSolves - solvesBefore
        guard count > 0 else { throw StageError("refine: none of the \(draws) candidate points lies where the wind solution exists") }
    }

    /// A pool written before (`write(to:)`), so that a resumed run need not rebuild the existence table.
    public init(reading url: URL, draws: Int) throws {
        let table = try Npy.read(Double.self, from: url, expectedShape: [nil, 6])
        guard table.shape[0] > 0, table.shape[0] <= draws else {
            throw StageError("refine: \(url.path) holds \(table.shape[0]) candidates, expected 1 … \(draws): delete it to draw the pool again")
        }
        parameters = table.values; count = table.shape[0]; drawn = draws; fullWindSolves = 0
    }

    public func write(to url: URL) throws { try Npy.write(parameters, shape: [count, 6], to: url) }

    public func row(_ i: Int) -> ArraySlice<Double> { parameters[(i * 6)..<((i + 1) * 6)] }
}
