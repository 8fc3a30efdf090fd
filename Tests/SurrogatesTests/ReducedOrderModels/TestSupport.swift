import Foundation
import NumericalFoundations

extension Npy {
    static func writeDoubles(_ values: [Double], shape: [Int], to url: URL) throws {
        try write(values, shape: shape, to: url)
    }
}
