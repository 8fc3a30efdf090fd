import Foundation
import NumericalFoundations

/// A fast answer to "does the wind similarity solution exist for (λ, f_w)?" for 10⁵–10⁶ parameter sets
/// (the uncertainty study's feasibility indicator), agreeing with `BlasiusSolver.solve` (the wind stage):
///
/// - λ > 0: a (possibly blown-off) solution exists for every f_w (docs/blasius.md), except where `solve`
///   refuses a layer lifted so far that doubles cannot resolve it (the same test is applied here);
/// - λ ≤ 0 and f_w < f_w* (blow-off): none;
/// - λ ≤ 0 and f_w ≥ f_w*: exists iff λ ≥ λ_c(f_w). λ_c costs ~150 shots (15–20 ms), so it is tabulated
///   once on `nodes` values of f_w (denser towards f_w*, where λ_c → 0) and interpolated linearly. The
///   interpolation error is measured at every interval's midpoint; rows within that interval's band = 2 × its error
///   (+1e-9) of the interpolated boundary are decided by a full `solve`, so the table never changes an
///   answer, it only avoids the shooting away from the boundary.
/// Above the f_w where λ_c drops below the smallest λ of interest every λ in range has a solution.
public struct WindExistenceTable: Sendable {
    public let fwNodes: [Double]
    public let criticalLambdas: [Double]
    /// Largest measured |λ_c − interpolated λ_c| at the midpoints.
    public let interpolationError: Double
    /// Per interval: 2 × its midpoint error + 1e-9 (near f_w*, where λ_c → 0, the band is tiny).
    public let bands: [Double]
    /// λ below which the table was not built (decided by `solve`).
    public let lambdaMin: Double
    let solver: BlasiusSolver

    /// Builds the table for λ ≥ lambdaMin (on all cores).
    public init(lambdaMin: Double, nodes: Int = 40, solver: BlasiusSolver = BlasiusSolver()) throws {
        guard lambdaMin.isFinite, lambdaMin < 0, nodes >= 3 else {
            throw WindBatchError("existence table: expected λ_min < 0 and at least 3 nodes (got \(lambdaMin), \(nodes))")
        }
        self.solver = solver
        self.lambdaMin = lambdaMin
        let fwStar = BlasiusSolver.blowOffSuction
        func critical(_ fw: Double) throws -> Double {
            if fw <= fwStar { return 0 }
            switch solver.criticalLambda(fw: fw) {
            case .fold(let l, _): return l
            case .blowOff: return 0
            case .notConverged(let reason): throw WindBatchError("existence table: λ_c(\(fw)) did not converge: \(reason)")
            }
        }
        // The top: λ_c ≈ −0.18 f_w² for large suction; step up until λ_c < λ_min.
        var top = max(1.0, (-lambdaMin / 0.18).squareRoot())
        while try critical(top) >= lambdaMin { top *= 1.25 }
        let nodesF = (0..<nodes).map { k -> Double in
            let t = Double(k) / Double(nodes - 1)
            return fwStar + (top - fwStar) * t * t
        }
        let mids = (0..<(nodes - 1)).map { 0.5 * (nodesF[$0] + nodesF[$0 + 1]) }
        let all = nodesF + mids
        var values = [Double](repeating: .nan, count: all.count)
        var failure: String? = nil
        let lock = NSLock()
        values.withUnsafeMutableBufferPointer { buffer in
            let slots = buffer.baseAddress!
            ParallelWork.forEachItem(count: all.count) { k in
                do { slots[k] = try critical(all[k]) } catch {
                    lock.lock(); failure = "\(error)"; lock.unlock()
                }
            }
        }
        if let failure { throw WindBatchError(failure) }
        fwNodes = nodesF
        criticalLambdas = Array(values[0..<nodes])
        var errors: [Double] = []
        for k in 0..<(nodes - 1) {
            let interpolated = 0.5 * (criticalLambdas[k] + criticalLambdas[k + 1])
            errors.append(abs(values[nodes + k] - interpolated))
        }
        interpolationError = errors.max() ?? 0
        bands = errors.map { 2 * $0 + 1e-9 }
    }

    /// The interpolated λ_c(f_w) (f_w* ≤ f_w ≤ the last node).
    public func interpolatedCriticalLambda(fw: Double) -> Double { interpolate(fw).lambda }

    func interpolate(_ fw: Double) -> (lambda: Double, band: Double) {
        if fw <= fwNodes[0] { return (0, bands[0]) }
        if fw >= fwNodes[fwNodes.count - 1] { return (criticalLambdas[criticalLambdas.count - 1], bands[bands.count - 1]) }
        var lo = 0, hi = fwNodes.count - 1
        while hi - lo > 1 { let m = (lo + hi) / 2; if fwNodes[m] <= fw { lo = m } else { hi = m } }
        let t = (fw - fwNodes[lo]) / (fwNodes[hi] - fwNodes[lo])
        return (criticalLambdas[lo] + t * (criticalLambdas[hi] - criticalLambdas[lo]), bands[lo])
    }

    /// Whether a solution exists, and whether a full solve was needed to tell.
    public func classify(lambda: Double, fw: Double) -> (exists: Bool, solved: Bool) {
        guard lambda.isFinite, fw.isFinite else { return (false, false) }
        if lambda > 0 {
            if fw < 0 {
                let etaStar = -fw / lambda
                if !etaStar.isFinite || etaStar.ulp > 1e-4 * min(1, 1 / lambda.squareRoot()) { return (false, false) }
            }
            return (true, false)
        }
        if fw < BlasiusSolver.blowOffSuction { return (false, false) }
        if lambda >= lambdaMin {
            if fw >= fwNodes[fwNodes.count - 1] { return (true, false) }
            let (lc, band) = interpolate(fw)
            if lambda > lc + band { return (true, false) }
            if lambda < lc - band { return (false, false) }
        }
        return (solver.solve(lambda: lambda, fw: fw).solution != nil, true)
    }

    public func exists(lambda: Double, fw: Double) -> Bool { classify(lambda: lambda, fw: fw).exists }
}
