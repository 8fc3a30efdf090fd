import Foundation
import PDE
import NumericalFoundations
import Uncertainty

/// DATA/uq/uq.md: a short report of the study.
enum UQReport {
    static func f(_ x: Double, _ digits: Int = 3) -> String { x.isFinite ? String(format: "%.\(digits)g", x) : "–" }

    static func markdown(config: PipelineConfig, mc: MonteCarloResult, sobol: SobolResult, femComparison: JSONValue,
                         integral: JSONValue, seconds: [String: Double], feasibility: UQStage.Feasibility, modelName: String) -> String {
        let uq = config.uq
        var s = "# Uncertainty propagation and global sensitivity of c₃\n\n"
        s += "Surrogate `data/models/\(modelName)`, region `\(uq.region.rawValue)`, inputs: "
        s += zip(PollutantParameters.names, uq.distributions).map { "\($0.0) \($0.1.rawValue)" }.joined(separator: ", ") + ". Method: docs/uq.md.\n\n"
        s += "## Monte Carlo\n\n"
        s += "- \(mc.samples) surrogate evaluations from \(mc.draws) draws; probability that the wind does not exist: "
        s += "\(f(mc.infeasibleFraction, 4)) ± \(f(mc.infeasibleStandardError, 2))"
        s += uq.region == .feasible ? " (those rows are rejected: the maps are conditional on the wind existing).\n" : " (the surrogate is extrapolated there: region = box).\n"
        if mc.failures.count > 0 {
            s += "- **\(mc.failures.count) feasible rows the surrogate could not evaluate** were skipped (the maps are conditional on the rest; "
            s += "at most 1 % may be). First: \(mc.failures.examples.first ?? "")\n"
        }
        s += "- Quantiles from \(mc.quantileRows) rows (level error ±\(f((0.05 * 0.95 / Double(max(mc.quantileRows, 1))).squareRoot(), 2)) at 5 %).\n"
        if let o = integral.object, let m = o["mean"]?.number, let sd = o["std"]?.number {
            s += "- Integral of c₃ over the observation grid: mean \(f(m, 4)), std \(f(sd, 3)), 5 %–95 % [\(f(o["q05"]?.number ?? .nan, 4)), \(f(o["q95"]?.number ?? .nan, 4))].\n"
        }
        s += "\n![mean](figures/mean_map.svg)\n\n![std](figures/std_map.svg)\n\n"
        s += "## Sobol indices of the integral of c₃\n\n"
        let design = uq.sobolDesign == .scrambledSobol ? "A and B from a scrambled Sobol' sequence" : "A and B pseudo-random"
        s += "N = \(sobol.baseSamples) (\(design)), \(sobol.designRows) design rows, \(sobol.modelEvaluations) surrogate evaluations, \(uq.bootstrap) bootstrap resamples (95 % percentile intervals)."
        if sobol.failures.count > 0 {
            s += " **\(sobol.failures.count) design rows the surrogate could not evaluate**: their \(sobol.droppedBaseSamples) base rows are left out whole (first: \(sobol.failures.examples.first ?? ""))."
        }
        if uq.region == .feasible {
            s += " Inputs independent on the whole box; Y = ∫c₃ where the wind exists and, elsewhere, the Monte Carlo mean of ∫c₃ on the feasible region "
            s += "(so the infeasible quarter adds no variance: V(Y) ≈ P(F) V(∫c₃ | F)); the surrogate is never evaluated where the wind does not exist. "
            s += "The indices of the existence indicator 1_F are listed next to them.\n\n"
        } else { s += "\n\n" }
        s += "| parameter | S_i | 95 % | S_Ti | 95 % |" + (sobol.indicator != nil ? " S_i(1_F) | S_Ti(1_F) |" : "") + "\n"
        s += "|---|---|---|---|---|" + (sobol.indicator != nil ? "---|---|" : "") + "\n"
        if let sc = sobol.scalar {
            for i in 0..<sobol.dimension {
                s += "| \(PollutantParameters.names[i]) | \(f(sc.indices.first[i])) | [\(f(sc.firstInterval[i].lowerBound)), \(f(sc.firstInterval[i].upperBound))] "
                s += "| \(f(sc.indices.total[i])) | [\(f(sc.totalInterval[i].lowerBound)), \(f(sc.totalInterval[i].upperBound))] |"
                if let ind = sobol.indicator { s += " \(f(ind.indices.first[i])) | \(f(ind.indices.total[i])) |" }
                s += "\n"
            }
        }
        s += "\n![sobol](figures/sobol_integral.svg)\n\n## Check against the finite-element samples\n\n"
        s += "Relative L2 differences (trapezoid-weighted) of the surrogate's Monte Carlo maps against the maps of the FEM samples, "
        s += "next to the sampling error of the FEM maps themselves (iid estimate from their count):\n\n"
        s += "| FEM set | samples | mean: rel. L2 | FEM sampling error | std: rel. L2 | FEM sampling error |\n|---|---|---|---|---|---|\n"
        for key in ["fem_test", "fem_all_solved"] {
            guard let o = femComparison[key]?.object, let k = o["samples"]?.number else { continue }
            s += "| \(key == "fem_test" ? "test" : "all solved") | \(Int(k)) | \(f(o["relative_l2_mean"]?.number ?? .nan)) | \(f(o["fem_sampling_error_relative_l2_mean"]?.number ?? .nan)) "
            s += "| \(f(o["relative_l2_std"]?.number ?? .nan)) | \(f(o["fem_sampling_error_relative_l2_std"]?.number ?? .nan)) |\n"
        }
        if let o = femComparison["surrogate_on_fem_test_samples"]?.object {
            s += "\nThe surrogate evaluated on the FEM test samples themselves (no sampling difference): mean maps differ by "
            s += "\(f(o["relative_l2_mean"]?.number ?? .nan)), std maps by \(f(o["relative_l2_std"]?.number ?? .nan)) (relative L2).\n"
        }
        if femComparison["comparable"] == .bool(false) { s += "\nNote: \(femComparison["note"]?.string ?? "")\n" }
        if let c = femComparison["indicator_check"]?.object {
            s += "\nExistence indicator against the wind stage on the dataset's \(Int(c["samples"]?.number ?? 0)) samples: "
            s += "\(Int(c["agree"]?.number ?? 0)) agree (table of \(Int(c["table_nodes"]?.number ?? 0)) nodes, interpolation error \(f(c["table_interpolation_error"]?.number ?? .nan, 2)); "
            s += "\(feasibility.fullSolves) of \(feasibility.calls) rows needed a full Blasius solve).\n"
        }
        s += "\n## Timing (s)\n\n" + seconds.sorted { $0.key < $1.key }.map { "- \($0.key): \(String(format: "%.2f", $0.value))" }.joined(separator: "\n") + "\n"
        return s
    }
}
