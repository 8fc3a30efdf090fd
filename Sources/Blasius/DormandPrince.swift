import Foundation

/// An autonomous first-order system y' = F(y) whose state is a SIMD vector of doubles.
/// The Blasius equation (F2) written as a first-order system is autonomous (η does not appear).
protocol AutonomousSystem {
    associatedtype State: SIMD where State.Scalar == Double
    func derivative(_ y: State) -> State
}

/// The Dormand–Prince 5(4) embedded Runge–Kutta pair (Dormand & Prince 1980, "A family of embedded
/// Runge–Kutta formulae"): 7 stages, first-same-as-last, local extrapolation (the 5th-order result is
/// propagated, the 4th-order one only estimates the error). Error control is per component,
/// |err_i| ≤ atol + rtol·max(|y_i|, |y_new_i|), over the first `controlledComponents` components only:
/// variational components ride on the steps that the solution itself needs.
struct DormandPrince<System: AutonomousSystem> {
    typealias State = System.State

    enum StepOutcome: Equatable {
        case accepted
        /// The step size fell below the resolution of η (a singularity or a runaway solution).
        case stepTooSmall
    }

    // Butcher tableau of DOPRI5. c_i are not needed: the system is autonomous.
    static var a21: Double { 1.0 / 5.0 }
    static var a31: Double { 3.0 / 40.0 }
    static var a32: Double { 9.0 / 40.0 }
    static var a41: Double { 44.0 / 45.0 }
    static var a42: Double { -56.0 / 15.0 }
    static var a43: Double { 32.0 / 9.0 }
    static var a51: Double { 19372.0 / 6561.0 }
    static var a52: Double { -25360.0 / 2187.0 }
    static var a53: Double { 64448.0 / 6561.0 }
    static var a54: Double { -212.0 / 729.0 }
    static var a61: Double { 9017.0 / 3168.0 }
    static var a62: Double { -355.0 / 33.0 }
    static var a63: Double { 46732.0 / 5247.0 }
    static var a64: Double { 49.0 / 176.0 }
    static var a65: Double { -5103.0 / 18656.0 }
    // 5th-order weights (= the 7th stage's row, hence FSAL).
    static var b1: Double { 35.0 / 384.0 }
    static var b3: Double { 500.0 / 1113.0 }
    static var b4: Double { 125.0 / 192.0 }
    static var b5: Double { -2187.0 / 6784.0 }
    static var b6: Double { 11.0 / 84.0 }
    // b − b̂ (5th minus embedded 4th-order weights): the local error estimate.
    static var e1: Double { 71.0 / 57600.0 }
    static var e3: Double { -71.0 / 16695.0 }
    static var e4: Double { 71.0 / 1920.0 }
    static var e5: Double { -17253.0 / 339200.0 }
    static var e6: Double { 22.0 / 525.0 }
    static var e7: Double { -1.0 / 40.0 }

    let system: System
    let relativeTolerance: Double
    let absoluteTolerance: Double
    /// 1 for the components that steer the step size, 0 for the others.
    let controlMask: State

    private(set) var eta: Double
    private(set) var state: State
    /// F(state), carried over between steps (first same as last).
    private(set) var slope: State
    /// The step size the controller proposes next.
    var step: Double
    private(set) var acceptedSteps = 0
    private(set) var rejectedSteps = 0

    init(system: System, eta: Double, state: State, relativeTolerance: Double, absoluteTolerance: Double,
         controlledComponents: Int, initialStep: Double? = nil) {
        self.system = system
        self.relativeTolerance = relativeTolerance
        self.absoluteTolerance = absoluteTolerance
        var mask = State()
        for i in 0..<min(controlledComponents, State.scalarCount) { mask[i] = 1 }
        self.controlMask = mask
        self.eta = eta
        self.state = state
        self.slope = system.derivative(state)
        self.step = 0
        self.step = initialStep ?? startingStep()
    }

    /// Weighted max norm of `v` with the scale of the states `reference` and `other` (controlled
    /// components only): max_i |v_i| / (atol + rtol·max(|reference_i|, |other_i|)).
    @inline(__always)
    private func scaledNorm(_ v: State, reference: State, other: State) -> Double {
        let magnitude = pointwiseMax(absolute(reference), absolute(other))
        let scale = State(repeating: absoluteTolerance) + relativeTolerance * magnitude
        return (absolute(v) / scale * controlMask).max()
    }

    @inline(__always)
    private func absolute(_ v: State) -> State { v.replacing(with: -v, where: v .< 0) }

    /// Hairer, Nørsett & Wanner's starting-step heuristic (Solving ODEs I, §II.4): a step such that an
    /// explicit Euler step would make an error of about the tolerance, refined with a second slope.
    private func startingStep() -> Double {
        let d0 = scaledNorm(state, reference: state, other: state)
        let d1 = scaledNorm(slope, reference: state, other: state)
        var h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1
        if !h0.isFinite || h0 <= 0 { h0 = 1e-6 }
        let y1 = state + h0 * slope
        let d2 = scaledNorm(system.derivative(y1) - slope, reference: state, other: state) / h0
        let larger = max(d1, d2)
        let h1 = larger <= 1e-15 ? max(1e-6, h0 * 1e-3) : Foundation.pow(0.01 / larger, 1.0 / 5.0)
        let h = min(100 * h0, h1)
        return h.isFinite && h > 0 ? h : 1e-6
    }

    /// Advances by one accepted step of at most `maxStep` (η ≤ current + maxStep, landing exactly on
    /// current + maxStep when the proposed step would pass it).
    @inline(__always)
    mutating func advance(maxStep: Double = .infinity) -> StepOutcome {
        let landing = eta + maxStep
        while true {
            var h = step
            var lands = false
            if h >= maxStep { h = maxStep; lands = true }
            if !(h > abs(eta) * 4 * Double.ulpOfOne) || !(h > 1e-300) || !h.isFinite { return .stepTooSmall }

            let y = state
            let k1 = slope
            let k2 = system.derivative(y + h * (Self.a21 * k1))
            let k3 = system.derivative(y + h * (Self.a31 * k1 + Self.a32 * k2))
            let k4 = system.derivative(y + h * (Self.a41 * k1 + Self.a42 * k2 + Self.a43 * k3))
            let k5 = system.derivative(y + h * (Self.a51 * k1 + Self.a52 * k2 + Self.a53 * k3 + Self.a54 * k4))
            let k6 = system.derivative(y + h * (Self.a61 * k1 + Self.a62 * k2 + Self.a63 * k3 + Self.a64 * k4 + Self.a65 * k5))
            let yNew = y + h * (Self.b1 * k1 + Self.b3 * k3 + Self.b4 * k4 + Self.b5 * k5 + Self.b6 * k6)
            let k7 = system.derivative(yNew)
            let errorVector = h * (Self.e1 * k1 + Self.e3 * k3 + Self.e4 * k4 + Self.e5 * k5 + Self.e6 * k6 + Self.e7 * k7)
            let error = scaledNorm(errorVector, reference: y, other: yNew)

            guard error.isFinite else {
                // A trial stage left the range of doubles (e.g. exp overflow in a runaway shot):
                // shrink hard and retry; the caller's monitor sees a genuine runaway as it happens.
                step = h * 0.1
                rejectedSteps += 1
                continue
            }
            if error <= 1 {
                eta = lands ? landing : eta + h
                state = yNew
                slope = k7
                acceptedSteps += 1
                // Standard controller with safety factor 0.9, growth limited to ×5.
                let factor = error == 0 ? 5 : min(5, max(0.2, 0.9 * Foundation.pow(error, -0.2)))
                let proposed = h * factor
                // A step shortened only to land on a target must not shrink the next one.
                step = lands ? max(proposed, step) : proposed
                return .accepted
            }
            step = h * max(0.1, 0.9 * Foundation.pow(error, -0.2))
            rejectedSteps += 1
        }
    }

    /// Integrates up to exactly `target` (> eta), or stops at the first step failure.
    mutating func advance(to target: Double) -> StepOutcome {
        while eta < target {
            let outcome = advance(maxStep: target - eta)
            if outcome != .accepted { return outcome }
        }
        return .accepted
    }
}
