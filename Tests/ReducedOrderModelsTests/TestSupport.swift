import Foundation
import ArrayFiles

typealias Npy = ArrayFiles.Npy

extension ArrayFiles.Npy {
    static func writeDoubles(_ values: [Double], shape: [Int], to url: URL) throws {
        try write(values, shape: shape, to: url)
    }
}
