import Foundation

/// What a child process left: its exit status (or signal), and its standard error — or standard
/// output and error together, when `mergeOutput` was asked.
public struct ChildOutcome: Sendable {
    public var status: Int32
    public var signalled: Bool
    public var output: String
}

/// Runs `executable` to its end, as the tests run the pipeline's programs: `arguments`, the current
/// folder `folder` (else the test's), `environment` (else the test's). Captures standard error, and
/// standard output too with `mergeOutput` (else it is discarded).
public func runChild(_ executable: URL, _ arguments: [String], in folder: URL? = nil, environment: [String: String]? = nil,
                     mergeOutput: Bool = false) throws -> ChildOutcome {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let folder { process.currentDirectoryURL = folder }
    if let environment { process.environment = environment }
    let pipe = Pipe()
    process.standardError = pipe
    process.standardOutput = mergeOutput ? pipe : FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ChildOutcome(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
                        output: String(decoding: data, as: UTF8.self))
}
