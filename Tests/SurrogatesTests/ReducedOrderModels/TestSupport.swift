import Foundation
import NumericalFoundations

extension Npy {
    static func writeDoubles(_ values: [Double], shape: [Int], to url: URL) throws {
        try write(values, shape: shape, to: url)
    }
}

/// ‖predicted − truth‖₂ / ‖truth‖₂ over all values.
func relativeError(_ predicted: [Double], _ truth: [Double]) -> Double {
    let e = zip(predicted, truth).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
    return (e / truth.map { $0 * $0 }.reduce(0, +)).squareRoot()
}
