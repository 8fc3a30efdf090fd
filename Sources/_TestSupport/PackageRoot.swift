import Foundation

/// The checkout's root folder: the nearest folder above `file` (pass `#filePath`) that holds
/// Package.swift. Tests find the committed configs and the built executables from it.
public func packageRoot(of file: String) -> URL {
    var folder = URL(fileURLWithPath: file).deletingLastPathComponent()
    while folder.path != "/" {
        if FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) { return folder }
        folder = folder.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
}
