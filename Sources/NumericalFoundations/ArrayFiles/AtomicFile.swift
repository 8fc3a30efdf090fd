import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes files so that a reader never sees a half-written one: the bytes go to a temporary file in
/// the same folder (same file system), are flushed to disk, and the temporary file is renamed over
/// the target, which POSIX makes atomic. An interrupted run leaves the old file (or none), never a torn one.
///
/// The temporary file is `.NAME.tmp-PID-RANDOM`. A killed writer leaves its temporary behind; the next
/// write of the same output removes the temporaries of that output whose writer (PID) no longer runs,
/// and never one of a live process, so two concurrent writers cannot delete each other's file.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        try Folder.create(directory)
        removeStaleTemporaries(of: url)
        let temporary = directory.appendingPathComponent("\(temporaryPrefix(of: url))\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw ArrayFileError(path: url.path, "cannot create temporary file: \(String(cString: strerror(errno)))") }
        var ok = true
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { ok = false; return }
                offset += n
            }
        }
        let message = ok ? "" : String(cString: strerror(errno))
        if ok { ok = fsync(fd) == 0 }
        close(fd)
        guard ok, rename(temporary.path, url.path) == 0 else {
            unlink(temporary.path)
            throw ArrayFileError(path: url.path, "cannot write: \(message.isEmpty ? String(cString: strerror(errno)) : message)")
        }
    }

    /// `value` as indented JSON with sorted keys (so that equal values give equal bytes), written
    /// atomically; `snakeCaseKeys` spells the keys as snake_case (the model and manifest files).
    public static func writeJSON<T: Encodable>(_ value: T, to url: URL, snakeCaseKeys: Bool = false) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        if snakeCaseKeys { encoder.keyEncodingStrategy = .convertToSnakeCase }
        try write(try encoder.encode(value), to: url)
    }

    /// The name every temporary of `url` starts with, before the writer's pid.
    static func temporaryPrefix(of url: URL) -> String { ".\(url.lastPathComponent).tmp-" }

    /// Removes the temporaries of `url` left by writers that no longer run (pid dead). Returns their names.
    /// A temporary may also be a folder named `.NAME.tmp-PID` (a folder built beside `url` and then
    /// renamed over it, like the FEM fields); it is removed with its contents.
    @discardableResult
    public static func removeStaleTemporaries(of url: URL) -> [String] {
        let directory = url.deletingLastPathComponent()
        let prefix = temporaryPrefix(of: url)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        var removed: [String] = []
        for name in names where name.hasPrefix(prefix) {
            let rest = name.dropFirst(prefix.count)
            let end = rest.firstIndex(of: "-") ?? rest.endIndex
            guard let pid = Int32(rest[..<end]), pid > 0, pid != getpid() else { continue }
            guard kill(pid, 0) != 0 && errno == ESRCH else { continue }
            let path = directory.appendingPathComponent(name).path
            if unlink(path) == 0 || (try? FileManager.default.removeItem(atPath: path)) != nil {
                removed.append(name)
            }
        }
        return removed
    }

    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }
}
