import Foundation
import NumericalFoundations

/// Variance-based global sensitivity (Sobol indices) by Saltelli's design.
///
/// Two N × d matrices A and B are drawn from the input model (`SaltelliDesign`): the first and last d
/// coordinates of a scrambled 2d-dimensional Sobol' sequence, or independent pseudo-random rows;
/// A_B^(i) is A with column i taken from B. The model is evaluated on A, B and the d matrices A_B^(i):
/// N (d + 2) rows. With f_A = f(A), f_B = f(B), f_i = f(A_B^(i)) and V the variance of f over A and B
/// pooled, per output (Saltelli et al., Comput. Phys. Commun. 181 (2010) 259–270, Table 2 (b) for the
/// first order; Jansen 1999, Table 2 (f) there, for the total effect):
///     S_i  = (1/N) Σ_j f_B,j (f_i,j − f_A,j) / V,
///     S_Ti = (1/(2N)) Σ_j (f_A,j − f_i,j)² / V.
/// Every f is shifted by the same constant per output (the mean of the first batch of f_A), which
/// leaves both estimators unbiased and removes the variance a large mean adds to the first one.
/// The estimators assume independent inputs: the design is always drawn on the whole box.
public struct SobolSettings: Sendable, Equatable {
    /// N, the base sample (rows of A and of B).
    public var baseSamples: Int
    public var design: SaltelliDesign
    /// Rows per model call (at most; a call holds whole groups of d + 2 rows).
    public var batch: Int
    public var seed: UInt64
    /// Bootstrap resamples for the scalar quantities' intervals (0 = none).
    public var bootstrap: Int
    public var confidence: Double
    /// Base rows whose group holds a row the model could not evaluate (`ModelRowFailures`), as a
    /// fraction of `baseSamples`: such a group is left out whole (the estimators pair its rows); beyond it the analysis stops.
    public var maxFailureFraction: Double

    public init(baseSamples: Int, design: SaltelliDesign = .scrambledSobol, batch: Int = 4096, seed: UInt64, bootstrap: Int = 200,
                confidence: Double = 0.95, maxFailureFraction: Double = 0.01) {
        self.baseSamples = baseSamples; self.design = design; self.batch = batch; self.seed = seed; self.bootstrap = bootstrap
        self.confidence = confidence; self.maxFailureFraction = maxFailureFraction
    }
}

/// Where the rows of A and B come from. Both feed the same estimators.
public enum SaltelliDesign: String, CaseIterable, Sendable {
    /// Row j of A and of B are the first and the last d coordinates of point j of one scrambled
    /// Sobol' sequence of dimension 2d (stream 1 of the seed scrambles it), mapped through each
    /// input's inverse CDF (Saltelli et al. 2010, §3). Unbiased like the pseudo-random design (every
    /// scrambled point is uniform), with an error that falls faster than N^(−1/2) for smooth outputs;
    /// the net property holds for N a power of 2.
    case scrambledSobol = "sobol"
    /// A and B drawn row by row from streams 1 and 2 of the seed (d uniforms per row).
    case pseudoRandom = "random"
}

/// The rows of A and B, batch after batch, of either design.
struct SaltelliRows {
    private let inputs: InputModel
    private var genA: SeededGenerator, genB: SeededGenerator
    private var sequence: SobolSequence?

    init(inputs: InputModel, design: SaltelliDesign, seed: UInt64) throws {
        self.inputs = inputs
        genA = SeededGenerator(seed: seed, stream: 1); genB = SeededGenerator(seed: seed, stream: 2)
        if design == .scrambledSobol { sequence = try SobolSequence(dimension: 2 * inputs.dimension, scrambledBy: &genA) }
    }

    /// The next m rows of A and of B (row-major m × d each).
    mutating func next(_ m: Int) -> (a: [Double], b: [Double]) {
        guard var sequence else { return (inputs.sample(rows: m, generator: &genA), inputs.sample(rows: m, generator: &genB)) }
        let d = inputs.dimension
        var a = [Double](), b = [Double](), point = [Double]()
        a.reserveCapacity(m * d); b.reserveCapacity(m * d); point.reserveCapacity(2 * d)
        for _ in 0..<m {
            point.removeAll(keepingCapacity: true)
            sequence.next(into: &point)
            for j in 0..<d { a.append(inputs.distributions[j].quantile(point[j])); b.append(inputs.distributions[j].quantile(point[d + j])) }
        }
        self.sequence = sequence
        return (a, b)
    }
}

/// First-order and total indices of one scalar output.
public struct SobolIndices: Sendable, Equatable {
    public var first: [Double]
    public var total: [Double]
    public var mean: Double
    public var variance: Double
}

/// Indices of a scalar quantity with percentile bootstrap intervals (B resamples of the N base rows,
/// with replacement, each recomputing the indices from the stored evaluations; the interval is the
/// [(1 − c)/2, (1 + c)/2] range of the resampled values).
public struct ScalarSobol: Sendable {
    public var indices: SobolIndices
    public var firstInterval: [ClosedRange<Double>]
    public var totalInterval: [ClosedRange<Double>]
    public var resamples: Int
    public var confidence: Double
}

public struct SobolResult: Sendable {
    public var dimension: Int
    public var outputs: Int
    public var baseSamples: Int
    /// Rows of the design, N (d + 2), and how many of them went to the model (feasible ones only
    /// when an indicator is given).
    public var designRows: Int
    public var modelEvaluations: Int
    /// d × outputs, row-major (parameter-major): first[i * outputs + p].
    public var first: [Double]
    public var total: [Double]
    public var mean: [Double]
    public var variance: [Double]
    /// The scalar quantity of interest of the outputs (nil when none was asked for).
    public var scalar: ScalarSobol?
    /// Indices of the feasibility indicator 1_F itself (nil without an indicator).
    public var indicator: ScalarSobol?
    /// Fraction of the A and B rows outside the feasible region.
    public var infeasibleFraction: Double?
    /// Design rows the model could not evaluate; their groups (`droppedBaseSamples` base rows) are left
    /// out, so `baseSamples` counts the groups used.
    public var failures = EvaluationFailures()
    public var droppedBaseSamples = 0
}

public enum Sobol {
    /// Indices from stored evaluations of one scalar output: fA, fB (N each), fAB[i] (N each).
    /// `rows` picks the base rows used (a bootstrap resample); nil = all.
    public static func indices(fA: [Double], fB: [Double], fAB: [[Double]], rows: [Int]? = nil) -> SobolIndices {
        let idx = rows ?? Array(fA.indices)
        let n = Double(idx.count)
        // Pooled variance of f_A and f_B (two-pass).
        var s = 0.0
        for j in idx { s += fA[j] + fB[j] }
        let mean = s / (2 * n)
        var ss = 0.0
        for j in idx { let a = fA[j] - mean, b = fB[j] - mean; ss += a * a + b * b }
        let variance = ss / (2 * n - 1)
        var first = [Double](), total = [Double]()
        for column in fAB {
            var sf = 0.0, st = 0.0
            for j in idx {
                sf += (fB[j] - mean) * (column[j] - fA[j])
                let e = fA[j] - column[j]
                st += e * e
            }
            first.append(variance > 0 ? sf / n / variance : .nan)
            total.append(variance > 0 ? st / (2 * n) / variance : .nan)
        }
        return SobolIndices(first: first, total: total, mean: mean, variance: variance)
    }

    /// Percentile bootstrap of `indices` (seeded: stream `stream` of `seed`).
    public static func bootstrap(fA: [Double], fB: [Double], fAB: [[Double]], resamples: Int, confidence: Double,
                                 seed: UInt64, stream: UInt64) -> ScalarSobol {
        let estimate = indices(fA: fA, fB: fB, fAB: fAB)
        let d = fAB.count, n = fA.count
        guard resamples > 0 else {
            return ScalarSobol(indices: estimate, firstInterval: estimate.first.map { $0...$0 },
                               totalInterval: estimate.total.map { $0...$0 }, resamples: 0, confidence: confidence)
        }
        var firsts = [[Double]](repeating: [], count: d), totals = [[Double]](repeating: [], count: d)
        Bootstrap.forEachResample(count: n, resamples: resamples, seed: seed, stream: stream) { rows in
            let r = indices(fA: fA, fB: fB, fAB: fAB, rows: rows)
            for i in 0..<d { firsts[i].append(r.first[i]); totals[i].append(r.total[i]) }
        }
        func interval(_ v: [Double]) -> ClosedRange<Double> {
            Bootstrap.percentileInterval(v.filter { $0.isFinite }, confidence: confidence) ?? Double.nan...Double.nan
        }
        return ScalarSobol(indices: estimate, firstInterval: firsts.map(interval), totalInterval: totals.map(interval),
                           resamples: resamples, confidence: confidence)
    }

    /// Saltelli's design through `model`, per output and for the scalar `scalar` of each output row.
    ///
    /// With an `indicator` the quantity analysed is Y(x) = f(x) on the feasible region F and Y(x) = `outside`
    /// (one value per output; zeros when nil) elsewhere: the model is called on feasible rows only, and the
    /// inputs stay independent on the whole box, as the estimators need. With `outside` = E[f | F] (e.g.
    /// the mean map of a Monte Carlo run on F) the infeasible part adds no variance of its own:
    /// V(Y) = P(F) V(f | F) up to the error of that mean, so the indices apportion c3's variability on F
    /// (the boundary of F enters as interactions of the parameters that decide it). With zeros, Y = 1_F f
    /// and the jump between F and its complement usually dominates V(Y). The indices of 1_F itself are
    /// returned too (`indicator`).
    public static func analyse(inputs: InputModel, outputs: Int, settings: SobolSettings,
                               indicator: FeasibilityIndicator? = nil,
                               outside: [Double]? = nil,
                               scalar: ((ArraySlice<Double>) -> Double)? = nil,
                               progress: ((Int, Int) -> Void)? = nil,
                               model: BatchModel) throws -> SobolResult {
        let d = inputs.dimension, n = settings.baseSamples, p = outputs
        try validate(outside: outside, outputs: p, settings: settings)
        var rows = try SaltelliRows(inputs: inputs, design: settings.design, seed: settings.seed)
        let group = d + 2
        let basePerCall = max(1, settings.batch / group)

        var sums = DesignSums(dimension: d, outputs: p)
        var done = 0, used = 0
        var failures = EvaluationFailures()
        while done < n {
            let m = min(basePerCall, n - done)
            let (a, b) = rows.next(m)
            let design = saltelliDesign(a: a, b: b, baseRows: m, dimension: d)
            var (y, feasible, failed) = try evaluateDesign(design, rows: group * m, dimension: d, outputs: p, indicator: indicator,
                                                           outside: outside, model: model, sums: &sums)
            var kept = m
            if !failed.isEmpty {
                failures.record(failed)
                // Design row k·m + r belongs to base row r: its whole group goes.
                let dropped = Set(failed.keys.map { $0 % m })
                let keep = (0..<m).filter { !dropped.contains($0) }
                var compactY: [Double] = [], compactFeasible: [Bool] = []
                for k in 0..<group {
                    for r in keep {
                        compactY += y[((k * m + r) * p)..<((k * m + r + 1) * p)]
                        compactFeasible.append(feasible[k * m + r])
                    }
                }
                y = compactY; feasible = compactFeasible; kept = keep.count
                sums.droppedBaseRows += m - kept
                guard Double(sums.droppedBaseRows) <= settings.maxFailureFraction * Double(n) else {
                    throw UQError("the model could not evaluate \(failures.count) rows of the Sobol' design, which leaves out \(sums.droppedBaseRows) "
                                  + "of \(n) base rows, more than the \(settings.maxFailureFraction * 100) % it may skip; the first: \(failures.examples.first ?? "?")")
                }
            }
            if kept > 0 {
                if indicator != nil { sums.infeasibleAB += feasible[0..<(2 * kept)].filter { !$0 }.count }
                sums.add(y, baseRows: kept)
                if let scalar { sums.addScalars(y, baseRows: kept, scalar: scalar) }
                if indicator != nil { sums.addIndicators(feasible, baseRows: kept) }
            }
            done += m; used += kept
            progress?(done * group, n * group)
        }
        guard used >= 2 else { throw UQError("only \(used) base rows of the Sobol' design could be evaluated; the first failure: \(failures.examples.first ?? "?")") }
        var result = sums.result(baseSamples: used, settings: settings, hasScalar: scalar != nil, hasIndicator: indicator != nil)
        result.failures = failures
        result.droppedBaseSamples = sums.droppedBaseRows
        return result
    }

    private static func validate(outside: [Double]?, outputs p: Int, settings: SobolSettings) throws {
        let n = settings.baseSamples
        if let outside {
            guard outside.count == p, outside.allSatisfy({ $0.isFinite }) else {
                throw UQError("the values for infeasible rows must be \(p) finite numbers, got \(outside.count)")
            }
        }
        guard n >= 2 else { throw UQError("Sobol indices need a base sample of at least 2, got \(n)") }
        guard p >= 1 else { throw UQError("the model must have at least one output") }
        guard settings.batch >= 1 else { throw UQError("the batch size must be at least 1") }
        guard settings.confidence > 0, settings.confidence < 1 else { throw UQError("the confidence level must lie in (0, 1)") }
    }

    /// The rows of one call grouped by kind: A (m rows), B (m rows), then A_B^(i) for i = 0..<d.
    private static func saltelliDesign(a: [Double], b: [Double], baseRows m: Int, dimension d: Int) -> [Double] {
        var design = [Double](repeating: 0, count: (d + 2) * m * d)
        for r in 0..<m {
            for j in 0..<d {
                design[r * d + j] = a[r * d + j]
                design[(m + r) * d + j] = b[r * d + j]
            }
        }
        for i in 0..<d {
            for r in 0..<m {
                let row = (2 + i) * m + r
                for j in 0..<d { design[row * d + j] = j == i ? b[r * d + j] : a[r * d + j] }
            }
        }
        return design
    }

    /// The outputs of every design row, row-major: the model's on feasible rows, `outside` (or zeros)
    /// elsewhere; with which rows were feasible.
    private static func evaluateDesign(_ design: [Double], rows total: Int, dimension d: Int, outputs p: Int,
                                       indicator: FeasibilityIndicator?, outside: [Double]?, model: BatchModel,
                                       sums: inout DesignSums) throws -> (y: [Double], feasible: [Bool], failed: [Int: String]) {
        var feasible = [Bool](repeating: true, count: total)
        if let indicator {
            for r in 0..<total { feasible[r] = indicator(design[(r * d)..<((r + 1) * d)]) }
        }
        let live = (0..<total).filter { feasible[$0] }
        var y = [Double](repeating: 0, count: total * p)
        if let outside {
            for r in 0..<total where !feasible[r] { y.replaceSubrange((r * p)..<((r + 1) * p), with: outside) }
        }
        var failed: [Int: String] = [:]
        if !live.isEmpty {
            var rows = [Double](); rows.reserveCapacity(live.count * d)
            for r in live { rows += design[(r * d)..<((r + 1) * d)] }
            let (out, failedLive) = try EvaluationFailures.evaluate(model, rows: rows, count: live.count, outputs: p)
            for (k, r) in live.enumerated() {
                if let reason = failedLive[k] { failed[r] = reason; continue }
                y.replaceSubrange((r * p)..<((r + 1) * p), with: out[(k * p)..<((k + 1) * p)])
            }
            sums.evaluations += live.count - failedLive.count
        }
        return (y, feasible, failed)
    }

    /// The running sums of the estimators over the design's calls, per output (shifted by `shift`),
    /// and the scalar quantities of every base row for the bootstrap.
    private struct DesignSums {
        let d: Int, p: Int
        var shift: [Double]? = nil
        var momentsAB: StreamingMoments
        var firstSum: [Double], totalSum: [Double]
        var sA: [Double] = [], sB: [Double] = [], sAB: [[Double]]
        var iA: [Double] = [], iB: [Double] = [], iAB: [[Double]]
        var evaluations = 0, infeasibleAB = 0, droppedBaseRows = 0

        init(dimension d: Int, outputs p: Int) {
            self.d = d; self.p = p
            momentsAB = StreamingMoments(outputs: p)
            firstSum = [Double](repeating: 0, count: d * p); totalSum = [Double](repeating: 0, count: d * p)
            sAB = [[Double]](repeating: [], count: d); iAB = [[Double]](repeating: [], count: d)
        }

        /// Adds one call's outputs (m base rows, so (d + 2) m design rows) to the pooled moments and
        /// the sums of S_i and S_Ti; the first call fixes the shift.
        mutating func add(_ y: [Double], baseRows m: Int) {
            let d = self.d, p = self.p
            let total = (d + 2) * m
            if shift == nil {
                var c = [Double](repeating: 0, count: p)
                for r in 0..<m { for q in 0..<p { c[q] += y[r * p + q] } }
                shift = c.map { $0 / Double(m) }
            }
            let c = shift!
            var yc = y
            for r in 0..<total { for q in 0..<p { yc[r * p + q] -= c[q] } }
            momentsAB.add(yc[0..<(2 * m * p)], rows: 2 * m)
            yc.withUnsafeBufferPointer { v in
                for i in 0..<d {
                    for r in 0..<m {
                        let ra = r * p, rb = (m + r) * p, ri = ((2 + i) * m + r) * p
                        for q in 0..<p {
                            let fa = v[ra + q], fb = v[rb + q], fi = v[ri + q]
                            firstSum[i * p + q] += fb * (fi - fa)
                            totalSum[i * p + q] += (fa - fi) * (fa - fi)
                        }
                    }
                }
            }
        }

        mutating func addScalars(_ y: [Double], baseRows m: Int, scalar: (ArraySlice<Double>) -> Double) {
            let p = self.p
            func s(_ r: Int) -> Double { scalar(y[(r * p)..<((r + 1) * p)]) }
            for r in 0..<m {
                sA.append(s(r)); sB.append(s(m + r))
                for i in 0..<d { sAB[i].append(s((2 + i) * m + r)) }
            }
        }

        mutating func addIndicators(_ feasible: [Bool], baseRows m: Int) {
            for r in 0..<m {
                iA.append(feasible[r] ? 1 : 0); iB.append(feasible[m + r] ? 1 : 0)
                for i in 0..<d { iAB[i].append(feasible[(2 + i) * m + r] ? 1 : 0) }
            }
        }

        func result(baseSamples n: Int, settings: SobolSettings, hasScalar: Bool, hasIndicator: Bool) -> SobolResult {
            // The pooled moments are of the shifted values; the mean of the shifted f_B is not zero in
            // general, but Σ f_B (f_i − f_A) with the shifted f_B is as unbiased as with the centred one.
            let variance = momentsAB.variance
            var first = [Double](repeating: .nan, count: d * p), totalIndex = [Double](repeating: .nan, count: d * p)
            for i in 0..<d {
                for q in 0..<p where variance[q] > 0 {
                    first[i * p + q] = firstSum[i * p + q] / Double(n) / variance[q]
                    totalIndex[i * p + q] = totalSum[i * p + q] / (2 * Double(n)) / variance[q]
                }
            }
            let mean = zip(momentsAB.mean, shift ?? []).map { $0 + $1 }
            let scalarResult = !hasScalar ? nil : bootstrap(fA: sA, fB: sB, fAB: sAB, resamples: settings.bootstrap,
                                                             confidence: settings.confidence, seed: settings.seed, stream: 3)
            let indicatorResult = !hasIndicator ? nil : bootstrap(fA: iA, fB: iB, fAB: iAB, resamples: settings.bootstrap,
                                                                   confidence: settings.confidence, seed: settings.seed, stream: 4)
            return SobolResult(dimension: d, outputs: p, baseSamples: n, designRows: n * (d + 2), modelEvaluations: evaluations,
                               first: first, total: totalIndex, mean: mean, variance: variance, scalar: scalarResult,
                               indicator: indicatorResult,
                               infeasibleFraction: !hasIndicator ? nil : Double(infeasibleAB) / Double(2 * n))
        }
    }
}
