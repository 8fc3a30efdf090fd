import Foundation

extension BlasiusSolver {
    /// Places K nodes on [0, η_max] for a converged trajectory and integrates onto them.
    ///
    /// The cubic Hermite interpolants of `BlasiusProfile` err by h⁴/384 · max|g⁗| on an interval of width h
    /// for g = f, f', f'', i.e. through f⁽⁴⁾, f⁽⁵⁾, f⁽⁶⁾. Equidistributing that error gives node spacing
    /// h ∝ D^(−1/4) with D = max(|f⁽⁴⁾|, |f⁽⁵⁾|, |f⁽⁶⁾|) (from (F2) by `higherDerivatives`), so the nodes
    /// are equally spaced in ∫ D^(1/4) dη, measured on the adaptive Runge–Kutta steps of a first pass.
    /// 15 % of the nodes are spread uniformly on top, so that the tail and a layer-free stretch
    /// (where D vanishes) are never left empty.
    func buildProfile(_ shooting: ShootingProblem, start: ShotStart, points k: Int) -> (profile: BlasiusProfile, residual: Double)? {
        let sigma = shooting.sigma
        var etas: [Double] = [], density: [Double] = []
        let (eta0, _) = shooting.initialState(start)
        if eta0 > 0 { etas.append(0); density.append(0) }   // layer-free stretch before an edge start
        let shot = shooting.shoot(start) { eta, f, fp, l in
            let d = higherDerivatives(f: f, fp: fp, fpp: sigma * Foundation.exp(l))
            etas.append(eta)
            density.append(Foundation.pow(max(abs(d.f4), abs(d.f5), abs(d.f6)), 0.25))
        }
        guard shot.end == .complete, let top = etas.last, top > 0 else { return nil }

        // Cumulative ∫ D^(1/4) dη by the trapezoidal rule on the recorded steps.
        var cumulative = [Double](repeating: 0, count: etas.count)
        for j in 1..<etas.count {
            cumulative[j] = cumulative[j - 1] + 0.5 * (density[j] + density[j - 1]) * (etas[j] - etas[j - 1])
        }
        let adaptive = cumulative.last!
        let uniformShare = 0.15
        // Uniform density such that it carries `uniformShare` of all nodes (everything if D ≡ 0).
        let floor = adaptive > 0 && adaptive.isFinite ? uniformShare / (1 - uniformShare) * adaptive / top : 1 / top
        let weight = adaptive > 0 && adaptive.isFinite ? 1.0 : 0.0
        func measure(_ j: Int) -> Double { weight * cumulative[j] + floor * etas[j] }
        let total = measure(etas.count - 1)

        var nodes = [Double](repeating: 0, count: k)
        var j = 0
        for i in 1..<k {
            let target = total * Double(i) / Double(k - 1)
            while j < etas.count - 2 && measure(j + 1) < target { j += 1 }
            let m0 = measure(j), m1 = measure(j + 1)
            let s = m1 > m0 ? min(max((target - m0) / (m1 - m0), 0), 1) : 1
            nodes[i] = etas[j] + s * (etas[j + 1] - etas[j])
        }
        nodes[k - 1] = top
        // Rounding can make neighbours coincide: keep them strictly increasing.
        for i in 1..<k where !(nodes[i] > nodes[i - 1]) { nodes[i] = nodes[i - 1].nextUp }
        if nodes[k - 1] > top {
            return nil
        }

        guard let states = shooting.states(at: nodes, start: start) else { return nil }
        var f = [Double](), fp = [Double](), fpp = [Double]()
        f.reserveCapacity(k); fp.reserveCapacity(k); fpp.reserveCapacity(k)
        for s in states {
            f.append(s[0]); fp.append(s[1]); fpp.append(sigma * Foundation.exp(s[2]))
        }
        // β = lim (η − f): at η_max plus the tail ∫(1 − f') ≈ σ·4e^L/f² of the same asymptotics as the
        // tail bound (f'' ≈ f''(η_max) e^(−f(η_max)(η − η_max)/2)).
        let last = states[k - 1]
        let tailF = last[0] > 0 ? sigma * 4 * Foundation.exp(last[2]) / (last[0] * last[0]) : 0
        let beta = top - last[0] + tailF
        let residual = shooting.residual(f: last[0], fp: last[1], logCurvature: last[2])
        guard beta.isFinite, residual.isFinite else { return nil }
        let profile = BlasiusProfile(uncheckedEta: nodes, f: f, fPrime: fp, fDoublePrime: fpp,
                                     beta: beta, lambda: shooting.lambda, fw: shooting.fw)
        return (profile, residual)
    }
}
