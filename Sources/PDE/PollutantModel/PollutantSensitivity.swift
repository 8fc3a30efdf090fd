import Foundation
import NumericalFoundations

/// How the sensitivities ∂c3/∂θ of one sample are computed (docs/fem.md "Parametric sensitivities").
public struct SensitivityOptions: Sendable, Equatable {
    /// The wind stage's settings: the perturbed winds of U0, u_h, u_v are solved exactly as the sample's.
    public var wind: InProcessWind.Options
    /// Step of the central differences of the wind (S5): h_k = relativeStep · max(|θ_k|, stepScales[k]).
    public var relativeStep: Double
    public var tangent: TangentOptions

    /// Magnitude below which a parameter's step stops shrinking with it (K12, K3, D, U0, u_h): a fifth
    /// or so of each range in formulation.md §1, so that θ_k = 0 still gets a usable step. u_v acts
    /// through f_w = −2u_v/sqrt(νU0) (F3), so its scale is sqrt(νU0) (see `step`).
    public static let stepScales: [Double] = [1, 1, 0.1, 0.1, 0.1]

    public init(wind: InProcessWind.Options, relativeStep: Double = 1e-4, tangent: TangentOptions = TangentOptions()) {
        self.wind = wind; self.relativeStep = relativeStep; self.tangent = tangent
    }

    /// h_k for parameter k (0 … 5 in the order of `PollutantParameters.names`) at `p`.
    /// For u_v the scale is sqrt(νU0), i.e. a step of 2·relativeStep in f_w at most: next to the
    /// blow-off suction f_w* the profile changes on a scale of 0.1 in f_w, which a fixed step of
    /// 1e-5 in u_v (0.006 in f_w) would not resolve to second order.
    public func step(_ k: Int, at p: PollutantParameters) -> Double {
        let scale = k == 5 ? (wind.nu * p.u0).squareRoot() : Self.stepScales[k]
        return relativeStep * max(abs(p.values[k]), scale)
    }
}

/// ∂c3/∂θ of one sample for θ = (K12, K3, D, U0, u_h, u_v), the tangent of the discrete problem (S4).
public struct PollutantSensitivities: Sendable {
    public static let parameterCount = 6
    /// P × 6, row-major: ∂c3(x_p)/∂θ_k at index 6p + k (the layout of one sample of dc3_dtheta.npy).
    public var observations: [Double]
    /// ∂c3/∂θ_k at the nodes, one array per parameter; nil unless asked for.
    public var nodal: [[Double]]?
    public var report: TangentReport
    /// How each wind derivative was differenced: "central", or "forward"/"backward" where the wind on
    /// one side has no similarity solution (next to the blow-off boundary); empty for the others.
    public var differences: [String]
    /// Wall time of the perturbed winds (Blasius solves and nodal evaluation) and of the whole computation.
    public var windSeconds = 0.0
    public var totalSeconds = 0.0
}

extension PollutantDiscretization {
    /// The nodal Blasius wind (F1)–(F4) of `p`, solved in-process with the wind stage's settings.
    public func wind(for p: PollutantParameters, options: InProcessWind.Options) throws -> NodalWind {
        let profile = try InProcessWind.profile(for: p, options: options).profile
        let field = try WindField(profile: profile, U0: p.u0, nu: options.nu, x0: options.x0)
        return NodalWind(field: field, mesh: mesh)
    }

    /// The central difference [w(θ + h e_k) − w(θ − h e_k)] / 2h of the nodal wind for a wind parameter
    /// (k = 3, 4, 5: U0, u_h, u_v), h = `options.step(k, at: p)` (S5).
    public func windDerivative(_ k: Int, at p: PollutantParameters, options: SensitivityOptions) throws -> NodalWind {
        guard (3..<6).contains(k) else { throw PollutantInputError("parameter \(k) is not a wind parameter (3 = U0, 4 = u_h, 5 = u_v)") }
        let h = options.step(k, at: p)
        let plus = try wind(for: p.shifted(k, by: h), options: options.wind)
        let minus = try wind(for: p.shifted(k, by: -h), options: options.wind)
        return NodalWind(x: zip(plus.x, minus.x).map { ($0 - $1) / (2 * h) }, y: zip(plus.y, minus.y).map { ($0 - $1) / (2 * h) })
    }
}

extension PollutantParameters {
    /// The same parameters with θ_k + delta (k in the order of `names`).
    public func shifted(_ k: Int, by delta: Double) throws -> PollutantParameters {
        var v = values
        guard v.indices.contains(k) else { throw PollutantInputError("parameter index \(k) is not in 0..<6") }
        v[k] += delta
        return try PollutantParameters(row: v)
    }
}

extension PollutantSolver {
    /// Solves one sample and its tangent equation J(c*) ∂c/∂θ_k = −∂R/∂θ_k (S4) for the six parameters:
    /// K12, K3, D analytically (S1)–(S3); U0, u_h, u_v by differences of the residual at c* between the
    /// winds of θ ± h_k e_k (S5), with the Dirichlet (inflow) set of the sample. The wind derivative is
    /// one-sided where one perturbed wind has no profile; if neither has, this throws.
    /// ∂c3 at the observation points is the observation interpolation (linear) applied to the nodal ∂c3.
    public func solveWithSensitivities(_ p: PollutantParameters, profile: BlasiusProfile, options: SensitivityOptions,
                                       nodal: Bool = false) throws -> (solution: PollutantSolution, sensitivities: PollutantSensitivities) {
        let solution = try solve(p, profile: profile, nu: options.wind.nu, x0: options.wind.x0)
        return (solution, try sensitivities(of: solution, parameters: p, options: options, nodal: nodal))
    }

    /// The sensitivities of `solution`, which must be this solver's latest solve (its Newton factors
    /// precondition the tangent solves). The solver stays usable as before.
    public func sensitivities(of solution: PollutantSolution, parameters p: PollutantParameters, options: SensitivityOptions,
                              nodal: Bool = false) throws -> PollutantSensitivities {
        let started = monotonicSeconds()
        var base = try problem(p, wind: solution.wind)
        base.dirichletNodes = solution.inflowNodes
        let zeroLinear = [Double](repeating: 0, count: 9), zeroDiffusion = [0.0, 0, 0]
        var sources: [TangentSource] = [
            // (F5)–(F7): rates (K12, K12, −K12) of c1c2; K3 = L_33; D in all three species.
            .coefficients(CoefficientDerivative(diffusion: zeroDiffusion, linear: zeroLinear, productRates: [[1, 1, -1]])),
            .coefficients(CoefficientDerivative(diffusion: zeroDiffusion, linear: [0, 0, 0, 0, 0, 0, 0, 0, 1], productRates: [])),
            .coefficients(CoefficientDerivative(diffusion: [1, 1, 1], linear: zeroLinear, productRates: [])),
        ]
        var differences = ["", "", ""]
        let windStarted = monotonicSeconds()
        for k in 3..<6 {
            let h = options.step(k, at: p)
            func perturbed(_ delta: Double) -> TransportProblem? {
                guard let q = try? p.shifted(k, by: delta), let wind = try? discretization.wind(for: q, options: options.wind),
                      var problem = try? self.problem(q, wind: wind) else { return nil }
                problem.dirichletNodes = base.dirichletNodes
                return problem
            }
            switch (perturbed(h), perturbed(-h)) {
            case let (plus?, minus?):
                sources.append(.difference(plus: plus, minus: minus, spacing: 2 * h)); differences.append("central")
            case let (plus?, nil):
                sources.append(.difference(plus: plus, minus: base, spacing: h)); differences.append("forward")
            case let (nil, minus?):
                sources.append(.difference(plus: base, minus: minus, spacing: h)); differences.append("backward")
            case (nil, nil):
                throw PollutantInputError("\(p): no wind profile at \(PollutantParameters.names[k]) ± \(h), so ∂c3/∂\(PollutantParameters.names[k]) cannot be differenced")
            }
        }
        let windSeconds = monotonicSeconds() - windStarted
        let tangent: TangentSolution
        do { tangent = try transport.tangent(at: solution.values, sources: sources, options: options.tangent) } catch let error as TransportProblemError {
            throw PollutantInputError("\(p): sensitivities: \(error)")
        }
        let points = discretization.observation.count, count = PollutantSensitivities.parameterCount
        var observations = [Double](repeating: 0, count: points * count)
        for (k, derivative) in tangent.derivatives.enumerated() {
            let atPoints = try discretization.observationInterpolation.apply(interleaved: derivative, species: 2, speciesCount: 3)
            for q in 0..<points { observations[q * count + k] = atPoints[q] }
        }
        if let bad = observations.firstIndex(where: { !$0.isFinite }) {
            throw NonFiniteSolution(message: "∂c3/∂\(PollutantParameters.names[bad % count]) at observation point \(bad / count) is \(observations[bad])")
        }
        let nodalFields = nodal ? tangent.derivatives.map { d in stride(from: 2, to: d.count, by: 3).map { d[$0] } } : nil
        return PollutantSensitivities(observations: observations, nodal: nodalFields, report: tangent.report, differences: differences,
                                      windSeconds: windSeconds, totalSeconds: monotonicSeconds() - started)
    }
}
