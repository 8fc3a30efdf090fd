import Foundation
import NumericalFoundations
import Surrogates

/// A smooth synthetic regression problem for tests and the benchmark, standing in for the FEM data
/// (which takes hours to produce): inputs uniform in [−1, 1]^d, outputs
///     y_j(x) = sin(ω_j · x + φ_j)
/// with frequencies ω_j ∈ [−1.5, 1.5]^d and phases φ_j ∈ [0, 2π) drawn from the seed. Every output
/// is smooth, bounded and of unit order, so a small network learns it quickly.
public struct SyntheticRegression: Sendable {
    public let inputWidth: Int
    public let outputWidth: Int
    let frequencies: [Double]
    let phases: [Double]

    public init(inputWidth: Int, outputWidth: Int, seed: UInt64) {
        self.inputWidth = inputWidth
        self.outputWidth = outputWidth
        var generator = SeededGenerator(seed: seed, stream: 100)
        frequencies = (0..<(inputWidth * outputWidth)).map { _ in 3 * generator.nextUniform() - 1.5 }
        phases = (0..<outputWidth).map { _ in 2 * Double.pi * generator.nextUniform() }
    }

    /// `count` inputs drawn from stream `stream` of `seed` (row-major, count × inputWidth).
    public func inputs(count: Int, seed: UInt64, stream: UInt64) -> [Double] {
        var generator = SeededGenerator(seed: seed, stream: stream)
        return (0..<(count * inputWidth)).map { _ in 2 * generator.nextUniform() - 1 }
    }

    /// The outputs for row-major inputs (count × outputWidth).
    public func outputs(for inputs: [Double]) -> [Double] {
        let count = inputs.count / inputWidth
        var out = [Double](repeating: 0, count: count * outputWidth)
        for r in 0..<count {
            for j in 0..<outputWidth {
                var s = phases[j]
                for k in 0..<inputWidth { s += frequencies[j * inputWidth + k] * inputs[r * inputWidth + k] }
                out[r * outputWidth + j] = sin(s)
            }
        }
        return out
    }

    /// Training and test samples in a network's precision (already in scaled units: the inputs lie in
    /// [−1, 1] and the outputs are of unit order, so no scaling is applied).
    public func samples<T: NetworkScalar>(train: Int, test: Int, seed: UInt64, as type: T.Type = T.self)
        -> (train: ScaledSamples<T>, test: ScaledSamples<T>) {
        let xTrain = inputs(count: train, seed: seed, stream: 1), xTest = inputs(count: test, seed: seed, stream: 2)
        return (ScaledSamples(inputs: xTrain.map { T($0) }, targets: outputs(for: xTrain).map { T($0) }, count: train),
                ScaledSamples(inputs: xTest.map { T($0) }, targets: outputs(for: xTest).map { T($0) }, count: test))
    }
}
