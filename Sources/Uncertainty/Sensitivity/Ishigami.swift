import Foundation

/// The Ishigami function f = sin x₁ + a sin² x₂ + b x₃⁴ sin x₁, x ~ U(−π, π)³, a benchmark of Sobol'
/// estimators with closed-form partial variances (Ishigami & Homma 1990; Saltelli et al. 2010):
///   V₁ = ½ (1 + bπ⁴/5)², V₂ = a²/8, V₁₃ = 8 b² π⁸ / 225, V = ½ + a²/8 + bπ⁴/5 + b²π⁸/18,
/// all other partial variances zero.
public struct Ishigami: Sendable {
    public var a: Double, b: Double

    public init(a: Double = 7, b: Double = 0.1) { self.a = a; self.b = b }

    public func callAsFunction(_ x: ArraySlice<Double>) -> Double {
        let s = x.startIndex
        return sin(x[s]) + a * pow(sin(x[s + 1]), 2) + b * pow(x[s + 2], 4) * sin(x[s])
    }

    public var v1: Double { 0.5 * pow(1 + b * pow(.pi, 4) / 5, 2) }
    public var v2: Double { a * a / 8 }
    public var v13: Double { 8 * b * b * pow(.pi, 8) / 225 }
    public var variance: Double { 0.5 + a * a / 8 + b * pow(.pi, 4) / 5 + b * b * pow(.pi, 8) / 18 }
    public var mean: Double { a / 2 }
    public var first: [Double] { [v1 / variance, v2 / variance, 0] }
    public var total: [Double] { [(v1 + v13) / variance, v2 / variance, v13 / variance] }
    /// Independent U(−π, π) inputs.
    public func inputModel() throws -> InputModel { try InputModel(box: [ClosedRange<Double>](repeating: -Double.pi...Double.pi, count: 3)) }

    /// The function as a batch model (rows × 3 inputs → rows values).
    public var model: BatchModel {
        let f = self
        return { x, rows in (0..<rows).map { r in f(x[(3 * r)..<(3 * r + 3)]) } }
    }
}
