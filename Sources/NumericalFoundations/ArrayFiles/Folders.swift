import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Folder creation with one-line errors: the path and what was expected, never a raw Foundation error.
public enum Folder {
    /// Creates `url` and its parents if needed. A path component that is a regular file is reported as
    /// "PATH: expected a folder, found a file"; any other failure names the folder and the system's reason.
    public static func create(_ url: URL) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: url.path, isDirectory: &isDirectory) {
            if isDirectory.boolValue { return }
            throw ArrayFileError(path: url.path, "expected a folder, found a file")
        }
        // The first existing ancestor must be a folder (e.g. `--data-dir` naming a file).
        var ancestor = url.deletingLastPathComponent()
        while ancestor.path != "/" && !ancestor.path.isEmpty {
            if fm.fileExists(atPath: ancestor.path, isDirectory: &isDirectory) {
                if !isDirectory.boolValue { throw ArrayFileError(path: ancestor.path, "expected a folder, found a file") }
                break
            }
            ancestor = ancestor.deletingLastPathComponent()
        }
        do {
            try fm.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw ArrayFileError(path: url.path, "cannot create the folder: \(FileErrorText.reason(error))")
        }
    }
}

/// Turns a Foundation file error into a short reason ("Permission denied", "No space left on device"),
/// taken from the underlying POSIX error when there is one.
public enum FileErrorText {
    public static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        switch CocoaError.Code(rawValue: ns.code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file or folder"
        case .fileReadNoPermission, .fileWriteNoPermission: return "permission denied"
        case .fileWriteOutOfSpace: return "no space left on the device"
        case .fileWriteFileExists: return "a file of that name exists"
        case .fileReadCorruptFile: return "the file is corrupt or unreadable"
        case .fileWriteVolumeReadOnly: return "the file system is read-only"
        default: break
        }
        if ns.domain == NSCocoaErrorDomain {
            return ns.code >= 512 && ns.code < 640 ? "cannot write (error \(ns.code))" : "cannot read (error \(ns.code))"
        }
        return "\(error)"
    }

    /// "PATH: reason" for a Foundation file error that carries a path, nil otherwise.
    public static func describe(_ error: Error) -> String? {
        let ns = error as NSError
        guard ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain else { return nil }
        let path = (ns.userInfo[NSFilePathErrorKey] as? String) ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
        return (path.map { $0 + ": " } ?? "") + reason(error)
    }
}

/// Another process holds the lock of an output folder.
public struct OutputInUse: Error, CustomStringConvertible, Equatable {
    public let folder: String
    public let pid: Int32?
    public let lockFile: String
    public var description: String {
        "\(folder) is in use by another run (pid \(pid.map(String.init) ?? "unknown")); "
            + "wait for it to finish or stop it (the lock, \(lockFile), is released when that process exits)"
    }
}

/// An advisory lock (flock(2)) on `FOLDER/.lock`, held while a stage writes that folder, so that a
/// second run into the same folder stops at once instead of mixing its outputs with the first one's.
/// The lock file holds the holder's pid (for the message); the kernel releases the lock when the holder
/// exits, however it exits, so a killed run never leaves the folder locked. The file itself stays.
public final class OutputLock {
    public static let fileName = ".lock"
    public let folder: URL
    private var fd: Int32

    /// Creates the folder if needed and takes its lock, or throws
    /// "FOLDER is in use by another run (pid N); …" when another process holds it.
    public init(folder: URL) throws {
        self.folder = folder
        try Folder.create(folder)
        let url = folder.appendingPathComponent(Self.fileName)
        fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ArrayFileError(path: url.path, "cannot open the lock file: \(String(cString: strerror(errno)))") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buffer, buffer.count, 0)
            close(fd); fd = -1
            guard code == EWOULDBLOCK else {
                throw ArrayFileError(path: url.path, "cannot lock: \(String(cString: strerror(code)))")
            }
            let pid = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
            throw OutputInUse(folder: folder.path, pid: Int32(pid), lockFile: url.path)
        }
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBufferPointer { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    /// Releases the lock (also done by deinit and, at the latest, by the process's exit).
    public func release() {
        guard fd >= 0 else { return }
        _ = flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit { release() }
}
