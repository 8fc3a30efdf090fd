import Foundation

/// A physical parameter that cannot be used, naming it and what was expected.
public struct WindParameterError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The similarity parameters (F3) of one sample: λ = f'(0) and f_w = f(0).
public struct SimilarityParameters: Sendable, Equatable {
    public var lambda: Double
    public var fw: Double

    public init(lambda: Double, fw: Double) { self.lambda = lambda; self.fw = fw }

    /// (F3): λ = u_h/U0, f_w = −2 u_v / sqrt(ν U0). Throws for non-finite values, U0 ≤ 0 or ν ≤ 0.
    public init(U0: Double, uh: Double, uv: Double, nu: Double) throws {
        for (name, value) in [("U0", U0), ("u_h", uh), ("u_v", uv), ("ν", nu)] where !value.isFinite {
            throw WindParameterError("\(name) = \(value) is not a finite number")
        }
        guard U0 > 0 else { throw WindParameterError("U0 = \(U0) must be positive: (F1) and (F3) divide by the free-stream speed") }
        guard nu > 0 else { throw WindParameterError("ν = \(nu) must be positive: it is a kinematic viscosity") }
        lambda = uh / U0
        fw = -2 * uv / (nu * U0).squareRoot()
    }

    /// The wall-normal velocity u_v that gives f_w (the inverse of (F3)): u_v = −f_w sqrt(ν U0)/2.
    public static func transpirationVelocity(fw: Double, U0: Double, nu: Double) -> Double {
        -0.5 * fw * (nu * U0).squareRoot()
    }
}

/// The wind (F1)–(F4) over the ground from a Blasius profile:
///   η = y sqrt(U0 / (ν (x + x0))),  u_x = U0 f'(η),  u_y = ½ sqrt(ν U0 / (x + x0)) (η f'(η) − f(η)),
/// with y the height above the ground and x0 > 0 the distance of the virtual leading edge.
/// At the ground u_x = U0 λ = u_h and u_y = −½ sqrt(νU0/(x + x0)) f_w = u_v / sqrt(x + x0).
public struct WindField: Sendable {
    public let profile: BlasiusProfile
    public let U0: Double
    public let nu: Double
    public let x0: Double

    public init(profile: BlasiusProfile, U0: Double, nu: Double, x0: Double) throws {
        guard U0.isFinite, U0 > 0 else { throw WindParameterError("U0 = \(U0) must be a positive number") }
        guard nu.isFinite, nu > 0 else { throw WindParameterError("ν = \(nu) must be a positive number") }
        guard x0.isFinite, x0 > 0 else { throw WindParameterError("x0 = \(x0) must be positive: it keeps (F1) away from the leading-edge singularity") }
        self.profile = profile; self.U0 = U0; self.nu = nu; self.x0 = x0
    }

    /// (u_x, u_y) at abscissa x and height y above the ground. A height below 0 counts as the ground;
    /// x + x0 is kept at least x0·1e-12 (the field is singular at the virtual leading edge).
    @inlinable
    public func velocity(x: Double, heightAboveGround y: Double) -> (ux: Double, uy: Double) {
        let distance = max(x + x0, x0 * 1e-12)
        let height = y > 0 ? y : 0
        let eta = height * (U0 / (nu * distance)).squareRoot()                       // (F1)
        let value = profile.evaluate(eta: eta)
        return (U0 * value.fPrime,                                                     // (F4)
                0.5 * (nu * U0 / distance).squareRoot() * (eta * value.fPrime - value.f))
    }
}
