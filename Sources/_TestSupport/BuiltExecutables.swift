import Foundation

/// The folder that holds the built stage executables, or nil when `name` is not built there. The test
/// bundle lives in its build folder beside the executables (debug, or a release build with testing
/// enabled as `./pipeline.sh test` makes), so that folder comes first; else the package's .build/debug
/// or .build/release. `override` (an environment variable's value) names another build's folder.
public func builtExecutableFolder(holding name: String, packageRoot: URL, override: String? = nil) -> URL? {
    let isBuilt = { (folder: URL) in FileManager.default.isExecutableFile(atPath: folder.appendingPathComponent(name).path) }
    if let override { return isBuilt(URL(fileURLWithPath: override)) ? URL(fileURLWithPath: override) : nil }
    let bundle = Bundle.main.bundleURL
    let candidates = [bundle.deletingLastPathComponent(), bundle]
        + ["debug", "release"].map { packageRoot.appendingPathComponent(".build/\($0)") }
    return candidates.first(where: isBuilt)
}
