import Foundation

// (F2) 2f''' + f f'' = 0 as the first-order system that the shooting integrates.
//
// f'' = f''(0) exp(−½ ∫₀^η f) never changes sign (formulation.md §2a), so with σ = sign f'' = sign(1 − λ)
// and L = ln|f''| the equation becomes
//     f' = p,   p' = σ e^L,   L' = −f/2.
// The wall curvature enters only through L(0) = ln|f''(0)|, which stays a moderate number even when
// f''(0) itself is far below the range of a double (strong blowing), and e^L underflows harmlessly
// to 0 where the layer has not formed yet.
//
// A variation a = ∂(f, p, L)/∂θ with respect to any parameter θ (the shooting unknown, λ or f_w)
// obeys the linearised system
//     a_f' = a_p,   a_p' = σ e^L a_L,   a_L' = −a_f/2.

/// The state (f, p = f', L = ln|f''|) followed by `directions` variations (3 components each).
struct BlasiusShootingSystem: AutonomousSystem {
    /// sign f'' = sign(1 − λ).
    let sigma: Double
    let directions: Int
    var dimension: Int { 3 + 3 * directions }

    init(sigma: Double, directions: Int = 1) {
        self.sigma = sigma
        self.directions = directions
    }

    @inline(__always)
    func derivative(_ y: UnsafePointer<Double>, into slope: UnsafeMutablePointer<Double>) {
        let curvature = sigma * Foundation.exp(y[2])
        slope[0] = y[1]
        slope[1] = curvature
        slope[2] = -0.5 * y[0]
        var j = 3
        let n = 3 + 3 * directions
        while j < n {
            slope[j] = y[j + 1]
            slope[j + 1] = curvature * y[j + 2]
            slope[j + 2] = -0.5 * y[j]
            j += 3
        }
    }
}

/// Successive derivatives f'' … f⁽⁶⁾ of a solution of (F2) from (f, f', f''), by differentiating
/// f''' = −½ f f'' with Leibniz's rule. Used to place the profile's nodes (interpolation error).
@inline(__always)
func higherDerivatives(f: Double, fp: Double, fpp: Double) -> (f3: Double, f4: Double, f5: Double, f6: Double) {
    let f3 = -0.5 * f * fpp
    let f4 = -0.5 * (fp * fpp + f * f3)
    let f5 = -0.5 * (fpp * fpp + 2 * fp * f3 + f * f4)
    let f6 = -0.5 * (4 * fpp * f3 + 3 * fp * f4 + f * f5)
    return (f3, f4, f5, f6)
}
