import Foundation

/// An autonomous first-order system y' = F(y) of fixed dimension. The Blasius equation (F2) written as
/// a first-order system is autonomous (η does not appear).
protocol AutonomousSystem {
    var dimension: Int { get }
    /// Writes F(y) into `slope` (both of `dimension` elements).
    func derivative(_ y: UnsafePointer<Double>, into slope: UnsafeMutablePointer<Double>)
}

/// The Dormand–Prince 5(4) embedded Runge–Kutta pair (Dormand & Prince 1980, "A family of embedded
/// Runge–Kutta formulae"): 7 stages, first-same-as-last, local extrapolation (the 5th-order result is
/// propagated, the 4th-order one only estimates the error). Error control is per component,
/// |err_i| ≤ atol + rtol·max(|y_i|, |y_new_i|), over the first `controlledComponents` components only:
/// variational components ride on the steps that the solution itself needs.
///
/// All stage vectors live in one buffer allocated once; a step allocates nothing.
struct DormandPrince<System: AutonomousSystem> {
    enum StepOutcome: Equatable {
        case accepted
        /// The step size fell below the resolution of η (a singularity or a runaway solution).
        case stepTooSmall
    }

    // Butcher tableau of DOPRI5 (the c_i are not needed: the system is autonomous).
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
    let dimension: Int
    let relativeTolerance: Double
    let absoluteTolerance: Double
    let controlledComponents: Int

    private(set) var eta: Double
    /// Layout: y, k1 … k7, trial state, new state (each `dimension` long). k1 = F(y) (first same as last).
    private var work: [Double]
    /// The step size the controller proposes next.
    var step: Double
    private(set) var acceptedSteps = 0
    private(set) var rejectedSteps = 0

    init(system: System, eta: Double, state: [Double], relativeTolerance: Double, absoluteTolerance: Double,
         controlledComponents: Int, initialStep: Double? = nil) {
        let n = system.dimension
        precondition(state.count == n, "DormandPrince: state of \(state.count) components for a system of dimension \(n)")
        self.system = system
        self.dimension = n
        self.relativeTolerance = relativeTolerance
        self.absoluteTolerance = absoluteTolerance
        self.controlledComponents = min(controlledComponents, n)
        self.eta = eta
        self.work = [Double](repeating: 0, count: 10 * n)
        self.step = 1
        work.withUnsafeMutableBufferPointer { w in
            let base = w.baseAddress!
            for i in 0..<n { base[i] = state[i] }
            system.derivative(base, into: base + n)
        }
        self.step = initialStep ?? startingStep()
    }

    /// Component i of the current state.
    @inline(__always)
    subscript(_ i: Int) -> Double { work[i] }

    /// The current state.
    var state: [Double] { Array(work[0..<dimension]) }

    /// Weighted max norm of v (controlled components) with the scale of states a and b.
    @inline(__always)
    private static func scaledNorm(_ v: UnsafePointer<Double>, _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>,
                                   count: Int, absoluteTolerance: Double, relativeTolerance: Double) -> Double {
        var norm = 0.0
        for i in 0..<count {
            let scale = absoluteTolerance + relativeTolerance * max(abs(a[i]), abs(b[i]))
            let r = abs(v[i]) / scale
            if !(r <= norm) { norm = r }   // also propagates NaN
        }
        return norm
    }

    /// Hairer, Nørsett & Wanner's starting-step heuristic (Solving ODEs I, §II.4): a step such that an
    /// explicit Euler step would make an error of about the tolerance, refined with a second slope.
    private mutating func startingStep() -> Double {
        let n = dimension
        let system = self.system
        let (count, atol, rtol) = (controlledComponents, absoluteTolerance, relativeTolerance)
        func scaledNorm(_ v: UnsafePointer<Double>, _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>) -> Double {
            Self.scaledNorm(v, a, b, count: count, absoluteTolerance: atol, relativeTolerance: rtol)
        }
        let h = work.withUnsafeMutableBufferPointer { w -> Double in
            let y = w.baseAddress!, k1 = y + n, trial = y + 8 * n, k2 = y + 2 * n
            let d0 = scaledNorm(y, y, y)
            let d1 = scaledNorm(k1, y, y)
            var h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1
            if !h0.isFinite || h0 <= 0 { h0 = 1e-6 }
            for i in 0..<n { trial[i] = y[i] + h0 * k1[i] }
            system.derivative(trial, into: k2)
            for i in 0..<n { k2[i] -= k1[i] }
            let d2 = scaledNorm(k2, y, y) / h0
            let larger = max(d1, d2)
            let h1 = larger <= 1e-15 ? max(1e-6, h0 * 1e-3) : Foundation.pow(0.01 / larger, 1.0 / 5.0)
            return min(100 * h0, h1)
        }
        return h.isFinite && h > 0 ? h : 1e-6
    }

    /// Advances by one accepted step of at most `maxStep` (landing exactly on η + maxStep when the
    /// proposed step would pass it).
    mutating func advance(maxStep: Double = .infinity) -> StepOutcome {
        let landing = eta + maxStep
        let n = dimension
        let system = self.system
        let (count, atol, rtol) = (controlledComponents, absoluteTolerance, relativeTolerance)
        // Steps below a few units in the last place of η cannot advance η meaningfully (far-off layers
        // live at η ~ 1e15): try that size, and give up only if even it fails the error test.
        let minimumStep = max(8 * abs(eta).ulp, 1e-300)
        while true {
            var h = step
            var lands = false
            var atMinimum = false
            if !(h > minimumStep) { h = minimumStep; atMinimum = true }
            if h >= maxStep { h = maxStep; lands = true }
            if !h.isFinite || !(h > 0) { return .stepTooSmall }

            let error = work.withUnsafeMutableBufferPointer { w -> Double in
                let y = w.baseAddress!
                let k1 = y + n, k2 = y + 2 * n, k3 = y + 3 * n, k4 = y + 4 * n, k5 = y + 5 * n, k6 = y + 6 * n, k7 = y + 7 * n
                let trial = y + 8 * n, yNew = y + 9 * n
                for i in 0..<n { trial[i] = y[i] + h * (Self.a21 * k1[i]) }
                system.derivative(trial, into: k2)
                for i in 0..<n { trial[i] = y[i] + h * (Self.a31 * k1[i] + Self.a32 * k2[i]) }
                system.derivative(trial, into: k3)
                for i in 0..<n { trial[i] = y[i] + h * (Self.a41 * k1[i] + Self.a42 * k2[i] + Self.a43 * k3[i]) }
                system.derivative(trial, into: k4)
                for i in 0..<n { trial[i] = y[i] + h * (Self.a51 * k1[i] + Self.a52 * k2[i] + Self.a53 * k3[i] + Self.a54 * k4[i]) }
                system.derivative(trial, into: k5)
                for i in 0..<n {
                    trial[i] = y[i] + h * (Self.a61 * k1[i] + Self.a62 * k2[i] + Self.a63 * k3[i] + Self.a64 * k4[i] + Self.a65 * k5[i])
                }
                system.derivative(trial, into: k6)
                for i in 0..<n {
                    yNew[i] = y[i] + h * (Self.b1 * k1[i] + Self.b3 * k3[i] + Self.b4 * k4[i] + Self.b5 * k5[i] + Self.b6 * k6[i])
                }
                system.derivative(yNew, into: k7)
                // The error estimate goes into `trial` (no longer needed).
                for i in 0..<n {
                    trial[i] = h * (Self.e1 * k1[i] + Self.e3 * k3[i] + Self.e4 * k4[i] + Self.e5 * k5[i] + Self.e6 * k6[i] + Self.e7 * k7[i])
                }
                return Self.scaledNorm(trial, y, yNew, count: count, absoluteTolerance: atol, relativeTolerance: rtol)
            }

            guard error.isFinite else {
                // A trial stage left the range of doubles (e.g. exp overflow in a runaway shot): shrink
                // hard and retry; the caller's monitor sees a genuine runaway as it develops.
                if atMinimum && !lands { return .stepTooSmall }
                step = h * 0.1
                rejectedSteps += 1
                continue
            }
            if error <= 1 {
                eta = lands ? landing : eta + h
                work.withUnsafeMutableBufferPointer { w in
                    let y = w.baseAddress!
                    for i in 0..<n { y[i] = y[9 * n + i]; y[n + i] = y[7 * n + i] }
                }
                acceptedSteps += 1
                // Standard controller with safety factor 0.9, growth limited to ×5.
                let factor = error == 0 ? 5 : min(5, max(0.2, 0.9 * Foundation.pow(error, -0.2)))
                let proposed = h * factor
                // A step shortened only to land on a target must not shrink the next one.
                step = lands ? max(proposed, step) : proposed
                return .accepted
            }
            if atMinimum && !lands { return .stepTooSmall }
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
