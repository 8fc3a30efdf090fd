import Foundation

/// One evaluation of the shooting residual in the search variable t, oriented so that the wanted root
/// (the upper branch, connected to λ = 1) is where g crosses zero upwards.
struct Probe {
    var t: Double
    /// The oriented residual; +∞ for a runaway shot (t too large), −∞ when no layer formed (t too small).
    var g: Double
    /// dg/dt from the variational equations; NaN where unknown.
    var dg: Double
    var shot: Shot?
}

enum SearchResult {
    /// |g| ≤ tolerance with dg > 0.
    case root(Probe)
    /// g stays positive: `minimum` is the smallest g found (at a located minimum, or at `lowerLimit`
    /// for a residual that only levels off towards −∞).
    case noRoot(minimum: Probe, atLimit: Bool)
    case failed(String)
}

/// Safeguarded Newton for the upper root of a residual that is either increasing (λ > 0) or U-shaped
/// (reverse wall motion, λ ≤ 0: two solutions between λ_c and 0, none below λ_c).
///
/// Invariant: the upper root, if it exists, lies in (below.t, above.t), where `below` is a probe with
/// g < 0, or with dg ≤ 0 (left of the minimum), and `above` a probe with g > 0 and dg > 0, or a runaway.
/// With a sign change in hand this is Newton kept inside the bracket, with bisection when Newton leaves
/// it or stalls. With g > 0 at both ends the minimum lies in between: it is located by the secant method
/// on dg; a negative g found on the way gives a bracket, and a minimum with g > tolerance proves that
/// there is no solution.
struct UpperRootSearch {
    var tolerance: Double
    var maxEvaluations: Int
    var lowerLimit: Double
    var upperLimit: Double
    /// First cap on a Newton step taken without a bracket; doubled each time the cap applies.
    var initialStep: Double = 2
    /// |dg| below which a probe counts as the minimum (the minimum's g is then exact to ~dg²).
    var slopeTolerance: Double = 1e-9
    private(set) var evaluations = 0

    init(tolerance: Double, maxEvaluations: Int, lowerLimit: Double, upperLimit: Double) {
        self.tolerance = tolerance
        self.maxEvaluations = maxEvaluations
        self.lowerLimit = lowerLimit
        self.upperLimit = upperLimit
    }

    mutating func run(start: Double, knownBelow: Probe? = nil, knownAbove: Probe? = nil,
                      probe: (Double) -> Probe) -> SearchResult {
        var below = knownBelow
        var above = knownAbove
        var step = initialStep
        var widths: [Double] = []
        var lastStep = Double.infinity, stepBeforeLast = Double.infinity
        var t = min(max(start, lowerLimit), upperLimit)
        while evaluations < maxEvaluations {
            let p = probe(t)
            evaluations += 1
            if p.g.isFinite, abs(p.g) <= tolerance, p.dg > 0 { return .root(p) }

            // Classify the probe (see the invariant).
            let isAbove = p.g == .infinity || (p.g > 0 && p.dg > 0)
            if isAbove {
                if above == nil || p.t < above!.t { above = p }
            } else {
                if below == nil || p.t > below!.t { below = p }
            }
            if let b = below, let a = above, b.t >= a.t {
                return .failed("the shooting residual is not unimodal (g = \(b.g) at t = \(b.t) left of a point above the root at t = \(a.t))")
            }

            let move: NextProbe
            if let b = below, let a = above {
                let width = a.t - b.t
                widths.append(width)
                let resolution = 8 * max(abs(a.t), abs(b.t), 1e-300).ulp
                move = b.g < 0 ? newtonInBracket(p, below: b, above: a, width: width, resolution: resolution, stepBeforeLast: stepBeforeLast)
                               : towardsMinimum(p, below: b, above: a, width: width, resolution: resolution, widths: widths)
            } else if let a = above {
                move = downhillFromAbove(p, above: a, step: &step)
            } else if let b = below {
                move = uphillFromBelow(p, below: b, step: &step)
            } else {
                return .failed("internal: probe neither above nor below")
            }
            switch move {
            case .finished(let result):
                return result
            case .at(let next):
                stepBeforeLast = lastStep
                lastStep = abs(next - t)
                t = next
            }
        }
        return .failed("no convergence within \(maxEvaluations) shots")
    }

    /// Where the search goes after a probe: the next t, or the answer.
    private enum NextProbe {
        case at(Double)
        case finished(SearchResult)
    }

    /// Sign change: Newton inside the bracket, bisection if it leaves or the bracket stalls.
    private func newtonInBracket(_ p: Probe, below b: Probe, above a: Probe, width: Double, resolution: Double,
                                 stepBeforeLast: Double) -> NextProbe {
        if width <= resolution {
            let best = [a, b].filter { $0.g.isFinite }.min { abs($0.g) < abs($1.g) }
            return .finished(.failed("the residual f'(∞) − 1 = \(best.map { String($0.g) } ?? "?") cannot be reduced below \(tolerance) at the resolution of double precision in the shooting unknown"))
        }
        // Newton from the latest probe, unless it leaves the bracket or does not at least
        // halve the step before last (the rule of Numerical Recipes' rtsafe): then bisect.
        var next = Double.nan
        if p.g.isFinite, p.dg > 0 { next = p.t - p.g / p.dg }
        let slow = abs(next - p.t) > 0.5 * stepBeforeLast
        if !(next > b.t && next < a.t) || slow { next = 0.5 * (a.t + b.t) }
        return .at(next)
    }

    /// g > 0 at both ends: hunt the minimum of g between them (secant on dg, bisection when it stalls).
    private func towardsMinimum(_ p: Probe, below b: Probe, above a: Probe, width: Double, resolution: Double,
                                widths: [Double]) -> NextProbe {
        if p.g.isFinite, p.g > 0, abs(p.dg) <= slopeTolerance || width <= resolution {
            return .finished(.noRoot(minimum: p, atLimit: false))
        }
        if width <= resolution {
            let lowest = [a, b].min { $0.g < $1.g }!
            return .finished(.noRoot(minimum: lowest, atLimit: false))
        }
        var next = 0.5 * (a.t + b.t)
        if a.dg.isFinite, b.dg.isFinite, a.dg > b.dg {
            let secant = b.t - b.dg * width / (a.dg - b.dg)
            // Keep away from the ends so that the bracket always shrinks.
            next = min(max(secant, b.t + 0.02 * width), a.t - 0.02 * width)
            let stalled = widths.count >= 3 && width > 0.5 * widths[widths.count - 3]
            if stalled { next = 0.5 * (a.t + b.t) }
        }
        return .at(next)
    }

    /// Only known: a point right of the root. Newton (downhill) with a capped step.
    private func downhillFromAbove(_ p: Probe, above a: Probe, step: inout Double) -> NextProbe {
        var move = step
        if p.t == a.t, p.g.isFinite, p.dg > 0, p.g / p.dg < step { move = p.g / p.dg } else { step *= 2 }
        var next = a.t - move
        if next < lowerLimit {
            if a.t <= lowerLimit { return .finished(.noRoot(minimum: a, atLimit: true)) }
            next = lowerLimit
        }
        return .at(next)
    }

    /// Only known: a point left of the root. Newton (uphill) with a capped step.
    private func uphillFromBelow(_ p: Probe, below b: Probe, step: inout Double) -> NextProbe {
        var move = step
        if p.t == b.t, p.g.isFinite, p.g < 0, p.dg > 0, -p.g / p.dg < step { move = -p.g / p.dg } else { step *= 2 }
        var next = b.t + move
        if next > upperLimit {
            if b.t >= upperLimit { return .finished(.failed("no sign change of the residual up to the search limit t = \(upperLimit)")) }
            next = upperLimit
        }
        return .at(next)
    }
}

/// Locates the minimum of a smooth U-shaped residual g(t) (reverse wall motion) from its slope dg:
/// first a bracket with dg < 0 on the left and dg > 0 on the right, then the secant (Illinois) method on
/// dg. A residual that only levels off towards the left (λ = 0 exactly) stops at `lowerLimit`.
struct MinimumSearch {
    var maxEvaluations: Int
    var lowerLimit: Double
    var upperLimit: Double
    var slopeTolerance: Double = 1e-10
    private(set) var evaluations = 0

    enum Result {
        case minimum(Probe, atLimit: Bool)
        case failed(String)
    }

    mutating func run(start: Double, probe: (Double) -> Probe) -> Result {
        func evaluate(_ t: Double) -> Probe { evaluations += 1; return probe(t) }
        var p = evaluate(start)
        var left: Probe? = nil, right: Probe? = nil
        var step = 1.0
        // Bracket the minimum. A runaway counts as right of it (g grows without bound there).
        while left == nil || right == nil {
            guard evaluations < maxEvaluations else { return .failed("no bracket of the minimum within \(maxEvaluations) shots") }
            if p.g == .infinity || p.dg > 0 {
                right = p
                if left != nil { break }
                if p.t <= lowerLimit { return .minimum(p, atLimit: true) }
                p = evaluate(max(lowerLimit, p.t - step))
            } else if p.g == -.infinity || !(p.dg > 0) {
                left = p
                if right != nil { break }
                if p.t >= upperLimit { return .failed("the residual decreases up to the search limit t = \(upperLimit)") }
                p = evaluate(min(upperLimit, p.t + step))
            }
            step *= 2
        }
        guard var a = left, var b = right else { return .failed("internal: no bracket") }
        // Illinois-modified regula falsi on dg in [a, b].
        var side = 0
        var fa = a.dg, fb = b.dg
        while evaluations < maxEvaluations {
            let width = b.t - a.t
            if width <= 8 * max(abs(a.t), abs(b.t)).ulp {
                return .minimum([a, b].filter { $0.g.isFinite }.min { $0.g < $1.g } ?? a, atLimit: false)
            }
            var t = 0.5 * (a.t + b.t)
            if fa.isFinite, fb.isFinite, fb > fa {
                t = a.t - fa * width / (fb - fa)
                t = min(max(t, a.t + 1e-3 * width), b.t - 1e-3 * width)
            }
            let q = evaluate(t)
            if q.g.isFinite, abs(q.dg) <= slopeTolerance { return .minimum(q, atLimit: false) }
            if q.g == .infinity || q.dg > 0 {
                b = q; fb = q.dg.isFinite ? q.dg : .nan
                if side == 1, fa.isFinite { fa *= 0.5 }
                side = 1
            } else {
                a = q; fa = q.dg.isFinite ? q.dg : .nan
                if side == -1, fb.isFinite { fb *= 0.5 }
                side = -1
            }
        }
        return .failed("the minimum of the residual was not located within \(maxEvaluations) shots")
    }
}
