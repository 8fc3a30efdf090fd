import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Converts SVG files to PNG with `rsvg-convert` (Debian package librsvg2-bin) when it is on PATH.
/// PNGs are a convenience for viewers without SVG support; the SVGs are the figures.
public enum PNGConverter {
    public enum Outcome: Sendable, Equatable {
        case converted
        /// `rsvg-convert` is not on PATH: nothing was done.
        case converterMissing
    }

    /// The path of `rsvg-convert` on PATH, or nil.
    public static func converterPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        for folder in (environment["PATH"] ?? "").split(separator: ":") where !folder.isEmpty {
            let candidate = String(folder) + "/rsvg-convert"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Renders `svg` to `png` at `zoom` × the SVG's size. The PNG is written to a temporary file
    /// beside the target and renamed over it, so it appears whole or not at all. Returns
    /// `.converterMissing` (and does nothing) without `rsvg-convert`; throws when it fails.
    @discardableResult
    public static func convert(svg: URL, to png: URL, zoom: Double = 2,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Outcome {
        guard let tool = converterPath(environment: environment) else { return .converterMissing }
        guard zoom.isFinite, zoom > 0 else { throw ReportingError("PNG zoom \(zoom) must be > 0") }
        let folder = png.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let temporary = folder.appendingPathComponent(".\(png.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["--format", "png", "--zoom", String(zoom), "--background-color", "white",
                             "--output", temporary.path, svg.path]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw ReportingError("cannot run \(tool): \(error.localizedDescription)")
        }
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            unlink(temporary.path)
            throw ReportingError("rsvg-convert failed on \(svg.path) (status \(process.terminationStatus)): \(message.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        guard rename(temporary.path, png.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary.path)
            throw ReportingError("cannot move the PNG into place at \(png.path): \(reason)")
        }
        return .converted
    }
}
