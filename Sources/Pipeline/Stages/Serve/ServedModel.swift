import Foundation
import PDE

/// An error answered to a UM-Bridge client: the protocol's error object `{"error": {"type", "message"}}`
/// and its HTTP status (400 for the caller's mistakes, 500 for the model's failures).
public struct ServeError: Error, CustomStringConvertible, Equatable, Sendable {
    public var type: String
    public var message: String
    public var status: Int
    public init(_ type: String, _ message: String, status: Int = 400) { self.type = type; self.message = message; self.status = status }
    public static func invalidInput(_ message: String) -> ServeError { ServeError("InvalidInput", message) }
    public var description: String { "\(type): \(message)" }
}

/// A request's `config` object: what a caller chooses of a model, by key (UM-Bridge passes it with
/// every request). A model names the keys it takes; any other key is the caller's error, never
/// silently ignored.
public struct ServedModelConfig: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case number(Double), text(String), flag(Bool), other
    }
    public var values: [String: Value]
    public init(_ values: [String: Value] = [:]) { self.values = values }
    public static let none = ServedModelConfig()

    /// The value of `key` as an integer in `range`; nil when the key is absent.
    public func integer(_ key: String, in range: ClosedRange<Int>, model: String) throws -> Int? {
        guard let value = values[key] else { return nil }
        guard case .number(let x) = value, x.isFinite, x == x.rounded(), let n = Int(exactly: x), range.contains(n) else {
            throw ServeError.invalidInput("config \"\(key)\" of model \(model) must be an integer in \(range.lowerBound)...\(range.upperBound); got \(value)")
        }
        return n
    }
}

/// One model as UM-Bridge sees it: one input vector (the 6 parameters), one output vector (c3 at the
/// observation points), and the Jacobian J = ∂c3/∂θ (P × 6) where the model has one. The server
/// checks sizes and indices before calling; the model checks values (finite, in its box, a wind) and
/// its config.
public protocol ServedModel: AnyObject, Sendable {
    var name: String { get }
    var inputSizes: [Int] { get }
    var outputSizes: [Int] { get }
    /// Whether `valueAndJacobian` works: Gradient and ApplyJacobian are served from it.
    var hasJacobian: Bool { get }
    /// One line for the server's start-up listing: what the model is and how its Jacobian is made.
    var summary: String { get }
    /// The config keys the model takes, each with what it means (for the start-up listing and errors).
    var configKeys: [(key: String, meaning: String)] { get }
    func evaluate(_ parameters: [Double], config: ServedModelConfig) async throws -> [Double]
    /// c3 (P) and J (P × 6, row-major).
    func valueAndJacobian(_ parameters: [Double], config: ServedModelConfig) async throws -> (value: [Double], jacobian: [Double])
}

extension ServedModel {
    public var configKeys: [(key: String, meaning: String)] { [] }

    /// Refuses a key the model does not take.
    public func checkConfigKeys(_ config: ServedModelConfig) throws {
        let known = Set(configKeys.map(\.key))
        if let key = config.values.keys.sorted().first(where: { !known.contains($0) }) {
            let takes = known.isEmpty ? "it takes no config keys" : "it takes " + configKeys.map(\.key).joined(separator: ", ")
            throw ServeError.invalidInput("model \(name) has no config key \"\(key)\": \(takes)")
        }
    }

    public func evaluate(_ parameters: [Double]) async throws -> [Double] { try await evaluate(parameters, config: .none) }
    public func valueAndJacobian(_ parameters: [Double]) async throws -> (value: [Double], jacobian: [Double]) {
        try await valueAndJacobian(parameters, config: .none)
    }

    /// UM-Bridge's ApplyJacobian: J v (P values).
    public func applyJacobian(_ parameters: [Double], vector v: [Double], config: ServedModelConfig = .none) async throws -> [Double] {
        let (value, j) = try await valueAndJacobian(parameters, config: config)
        let d = v.count
        return (0..<value.count).map { p in (0..<d).reduce(0.0) { $0 + j[p * d + $1] * v[$1] } }
    }

    /// UM-Bridge's Gradient: Jᵀ sens (6 values).
    public func gradient(_ parameters: [Double], sensitivity s: [Double], config: ServedModelConfig = .none) async throws -> [Double] {
        let (_, j) = try await valueAndJacobian(parameters, config: config)
        let d = parameters.count
        var out = [Double](repeating: 0, count: d)
        for p in 0..<s.count { for k in 0..<d { out[k] += j[p * d + k] * s[p] } }
        return out
    }
}

/// The checks every model makes of a parameter set before computing: finite values, inside the box
/// (the sampling ranges the data and the surrogates were made on; outside it a surrogate extrapolates
/// and the FEM runs where no sample was drawn), and not in the blow-off region where the wind model
/// has no solution (formulation.md §2a: f_w = −2 u_v / sqrt(ν U0) ≤ −1.23849 with u_h ≤ 0).
public struct ParameterChecks: Sendable {
    public var names: [String]
    public var lower: [Double]
    public var upper: [Double]
    /// The wind's kinematic viscosity; nil: the blow-off region is not checked here.
    public var viscosity: Double?

    public init(names: [String], lower: [Double], upper: [Double], viscosity: Double?) {
        self.names = names; self.lower = lower; self.upper = upper; self.viscosity = viscosity
    }

    public func check(_ x: [Double]) throws {
        for (k, v) in x.enumerated() where !v.isFinite {
            throw ServeError.invalidInput("\(names[k]) = \(v) is not a finite number")
        }
        for (k, v) in x.enumerated() {
            let slack = 1e-9 * max(upper[k] - lower[k], abs(upper[k]), abs(lower[k]), 1e-300)
            if v < lower[k] - slack || v > upper[k] + slack {
                throw ServeError.invalidInput("\(names[k]) = \(v) is outside the box [\(lower[k]), \(upper[k])] the model was made on")
            }
        }
        if let nu = viscosity, let i0 = names.firstIndex(of: "U0"), let ih = names.firstIndex(of: "u_h"), let iv = names.firstIndex(of: "u_v"),
           BlowOff.hasNoWind(u0: x[i0], uh: x[ih], uv: x[iv], nu: nu) {
            throw ServeError.invalidInput("no wind for these parameters (blow-off: u_v = \(x[iv]) > 0.619·sqrt(ν U0) with u_h = \(x[ih]) ≤ 0, "
                                          + "formulation.md §2a); the model is not defined there")
        }
    }
}
