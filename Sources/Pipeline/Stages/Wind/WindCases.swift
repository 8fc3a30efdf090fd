import Foundation
import NumericalFoundations
import PDE

/// `blasius-solve profile` and `boundary`: one case of the generalized Blasius problem
/// 2f''' + f f'' = 0 (formulation.md §2), or the existence boundary λ_c(f_w) (§2a), printed for a
/// user. The mathematics is `BlasiusSolver`'s; this adds the report and the files.
public enum WindCases {
    /// Exit status of `profile` when the case has no solution (λ < λ_c, or blow-off).
    public static let noSolutionExitCode: Int32 = 2
    /// Exit status of `profile` when the shooting did not converge.
    public static let notConvergedExitCode: Int32 = 3

    /// Solves one case and prints the '#' summary lines and, without `out`, the profile as CSV
    /// (`print`: standard output); with `out` (.npy: K × 4, or .csv) the profile goes to that file.
    /// Throws `ReportedFailure` with `noSolutionExitCode` / `notConvergedExitCode` after printing why.
    public static func profile(_ parameters: SimilarityParameters, tolerance: Double, points: Int, out: URL?,
                               print: (String) -> Void) throws {
        let solver = BlasiusSolver(tolerance: tolerance, profilePoints: points)
        var statistics = SolveStatistics()
        let result = solver.solve(lambda: parameters.lambda, fw: parameters.fw, statistics: &statistics)
        print("# λ = \(parameters.lambda), f_w = \(parameters.fw)")
        switch result {
        case .solved(let s):
            print("# branch: \(s.branch.rawValue)")
            print("# f''(0) = \(s.wallCurvature)")
            print("# ln|f''(0)| = \(s.logWallCurvature)")
            print("# beta = \(s.displacement)")
            print("# eta_max = \(s.etaMax) (continuation: \(s.etaMaxHistory.map { String(format: "%.6g", $0) }.joined(separator: " → ")))")
            print("# residual |f'(inf) - 1| = \(s.residual), shots = \(statistics.shots)")
            if let out {
                if out.pathExtension == "npy" {
                    try Npy.write(s.profile.rows, shape: [s.profile.eta.count, 4], to: out)
                } else {
                    try AtomicFile.write(csv(s.profile), to: out)
                }
                print("# profile (\(s.profile.eta.count) nodes) → \(out.relativePath)")
            } else {
                // The CSV ends with a newline; `print` adds one per line.
                print(String(csv(s.profile).dropLast()))
            }
        case .noSolution(let lc, let reason):
            print("# no solution: \(reason.rawValue); λ_c(f_w) = \(lc)" +
                  "\(reason == .blowOff ? " (not attained: solutions exist for λ > 0 only)" : ""); shots = \(statistics.shots)")
            throw ReportedFailure(exitCode: noSolutionExitCode)
        case .notConverged(let reason):
            print("# not converged: \(reason)")
            throw ReportedFailure(exitCode: notConvergedExitCode)
        }
    }

    /// The profile as CSV: a header and one line (η, f, f', f'') per node.
    static func csv(_ p: BlasiusProfile) -> String {
        var text = "eta,f,fp,fpp\n"
        for i in p.eta.indices { text += "\(p.eta[i]),\(p.f[i]),\(p.fPrime[i]),\(p.fDoublePrime[i])\n" }
        return text
    }

    /// λ_c(f_w) and f''(0) at the fold for `count` values of f_w evenly from `from` to `to` (all cores),
    /// as CSV lines after a '#' line on the blow-off suction f_w*.
    public static func boundaryTable(fwFrom from: Double, to: Double, count: Int, tolerance: Double) -> [String] {
        let solver = BlasiusSolver(tolerance: tolerance)
        let fws = (0..<count).map { count == 1 ? from : from + (to - from) * Double($0) / Double(count - 1) }
        var points = [CriticalPoint](repeating: .blowOff, count: count)
        _ = BlasiusSolver.blowOffSuction   // computed once, before the workers start
        points.withUnsafeMutableBufferPointer { buffer in
            guard let slots = buffer.baseAddress else { return }
            ParallelWork.forEachItem(count: count) { i in slots[i] = solver.criticalLambda(fw: fws[i]) }
        }
        var lines = ["# blow-off: f_w* = \(BlasiusSolver.blowOffSuction) (no solution for λ ≤ 0 when f_w ≤ f_w*)",
                     "fw,lambda_c,fpp0_at_fold,note"]
        for (fw, point) in zip(fws, points) {
            switch point {
            case .fold(let lc, let x): lines.append("\(fw),\(lc),\(Foundation.exp(x)),")
            case .blowOff: lines.append("\(fw),0,0,blow-off (solutions only for λ > 0)")
            case .notConverged(let reason): lines.append("\(fw),,,not converged: \(reason)")
            }
        }
        return lines
    }
}
