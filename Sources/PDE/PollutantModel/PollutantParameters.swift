import Foundation

/// A parameter set that cannot be solved, naming the sample (if any), the parameter and what was expected.
public struct PollutantInputError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The six uncertain parameters of one sample (formulation.md §1), in the column order of
/// `data/samples/params.npy`: K12, K3, D, U0, u_h, u_v.
public struct PollutantParameters: Sendable, Equatable, CustomStringConvertible {
    /// Rate of c1 + c2 → c3 in (F5)–(F7).
    public var k12: Double
    /// Decay rate of c3 in (F7).
    public var k3: Double
    /// Diffusion coefficient D of all three species.
    public var diffusion: Double
    /// Free-stream wind speed U0 (F1), (F4).
    public var u0: Double
    /// Slip velocity at the ground, u_h = U0 f'(0) (F3).
    public var uh: Double
    /// Transpiration velocity at the ground, u_v (F3).
    public var uv: Double

    /// The parameters' names, in the order of params.npy's columns (formulation.md §1): the one spelling
    /// of the configuration's `[sampling]` keys, the reports and the model files.
    public static let names = ["K12", "K3", "D", "U0", "u_h", "u_v"]

    public init(k12: Double, k3: Double, diffusion: Double, u0: Double, uh: Double, uv: Double) {
        self.k12 = k12; self.k3 = k3; self.diffusion = diffusion; self.u0 = u0; self.uh = uh; self.uv = uv
    }

    /// From one row of params.npy (6 values in the column order above).
    public init<C: Collection>(row: C) throws where C.Element == Double {
        let v = Array(row)
        guard v.count == 6 else {
            throw PollutantInputError("a parameter row holds \(Self.names.joined(separator: ", ")); found \(v.count) values")
        }
        self.init(k12: v[0], k3: v[1], diffusion: v[2], u0: v[3], uh: v[4], uv: v[5])
    }

    /// The values in the column order of params.npy.
    public var values: [Double] { [k12, k3, diffusion, u0, uh, uv] }

    public var description: String {
        zip(Self.names, values).map { "\($0) = \($1)" }.joined(separator: ", ")
    }

    /// Throws unless every value is finite, K12, K3 ≥ 0 (rates: a negative one turns a sink into a
    /// source and the problem may blow up), D > 0 (the inflow/outflow conditions of §3 need diffusion)
    /// and U0 > 0 ((F1) divides by it). `context` names the sample in the message, e.g. "sample 12".
    public func validate(context: String) throws {
        for (name, value) in zip(Self.names, values) where !value.isFinite {
            throw PollutantInputError("\(context): \(name) = \(value) is not a finite number")
        }
        guard k12 >= 0 else { throw PollutantInputError("\(context): K12 = \(k12) must be ≥ 0 (a reaction rate)") }
        guard k3 >= 0 else { throw PollutantInputError("\(context): K3 = \(k3) must be ≥ 0 (a decay rate)") }
        guard diffusion > 0 else { throw PollutantInputError("\(context): D = \(diffusion) must be > 0 (a diffusion coefficient)") }
        guard u0 > 0 else { throw PollutantInputError("\(context): U0 = \(u0) must be > 0 ((F1) divides by the free-stream speed)") }
    }
}
