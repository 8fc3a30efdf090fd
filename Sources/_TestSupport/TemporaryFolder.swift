import Foundation

/// A new, empty folder under the system's temporary directory, its name starting with `label` (so a
/// leftover folder says which test made it). The caller removes it, typically in a teardown block.
public func makeTemporaryFolder(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
