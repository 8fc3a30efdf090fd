import Foundation
import NumericalFoundations
#if canImport(Glibc)
import Glibc
#endif

/// Checks that a stage's inputs are the files its upstream outputs were made from, before it computes.
///
/// Every stage folder's manifest.json records the SHA-256 of each input it read (samples → wind → fem →
/// models → uq/report). A stage that reads a folder first compares each input recorded in that folder's
/// manifest (and in the manifests of the folders before it) with the file now in the data folder. A
/// difference means the chain is broken — e.g. lhs-sample ran again with another seed but fem/ still
/// holds c3 of the old parameters, or a model was copied in from another dataset — and pairing them
/// would give a wrong answer without a word; the stage refuses with one line naming both files, as a
/// make-like tool would rebuild instead. Recorded paths are matched by their place in the data folder
/// (e.g. `fem/c3.npy`, `models/plain/model.json`), so a data folder may be moved or copied whole.
///
/// Hashes are taken once per process and file version (path, device, inode, size, modification time):
/// the check and the manifest's input list share them.
public enum Provenance {
    /// The upstream folders whose manifests a stage checks, in pipeline order.
    public static func chain(_ layout: DataLayout, models: [String] = [], throughFEM: Bool = true) -> [URL] {
        [layout.wind.folder] + (throughFEM ? [layout.fem.folder] : []) + models.map { layout.models.model($0).folder }
    }

    /// Refuses, with one line, when an input recorded in the manifest of one of `folders` differs from
    /// (or is missing in) the data folder `root`, or when a folder lacks its manifest in a data folder the
    /// stages made (a folder put together by hand, without samples/manifest.json, gets a note instead).
    public static func verify(_ folders: [URL], root: URL) throws {
        for folder in folders {
            let manifestURL = folder.appendingPathComponent(DataLayout.manifestFile)
            let producer = producerName(folder)
            guard FileManager.default.fileExists(atPath: manifestURL.path) else {
                // In a data folder the stages made (samples/ has its manifest), a missing manifest means
                // the stage that writes `folder` did not finish: its files may belong to other inputs.
                // A folder put together by hand has no record to check against: say so and go on.
                if FileManager.default.fileExists(atPath: DataLayout(root).samples.manifest.path) {
                    throw StageError("\(manifestURL.path) is missing: \(folder.path) is not the finished output of \(producer); rerun it")
                }
                note("note: \(manifestURL.path) is missing, so the inputs from \(folder.path) cannot be checked against the files they came from")
                continue
            }
            let manifest: Manifest
            do { manifest = try Manifest.read(from: manifestURL) } catch let e as ArrayFileError { throw StageError(e.description) }
            for recorded in manifest.inputs {
                guard let relative = dataRelativePath(recorded.path) else { continue }
                let current = root.appendingPathComponent(relative)
                guard FileManager.default.fileExists(atPath: current.path) else {
                    throw StageError("\(current.path) is missing, but \(manifestURL.path) records it as an input of \(folder.path); rerun the stages before \(producer)")
                }
                let now = try inputFile(current).sha256
                if now != recorded.sha256 {
                    throw StageError("\(current.path) is not the file \(folder.path) was made from: SHA-256 \(now.prefix(12))… now, "
                                     + "\(recorded.sha256.prefix(12))… in \(manifestURL.path); rerun \(producer) and the stages after it")
                }
            }
        }
    }

    /// The path of a recorded input inside its data folder (`samples/params.npy`, `models/NAME/FILE`), or
    /// nil for a file outside the stage folders.
    static func dataRelativePath(_ path: String) -> String? {
        let parts = path.split(separator: "/").map(String.init)
        if parts.count >= 3, parts[parts.count - 3] == DataLayout.Models.folderName { return parts.suffix(3).joined(separator: "/") }
        let stageFolders = [DataLayout.Samples.folderName, DataLayout.Wind.folderName, DataLayout.FEM.folderName]
        if parts.count >= 2, stageFolders.contains(parts[parts.count - 2]) { return parts.suffix(2).joined(separator: "/") }
        return nil
    }

    /// The executable (and pipeline stage) that writes `folder`.
    static func producerName(_ folder: URL) -> String {
        switch folder.lastPathComponent {
        case DataLayout.Wind.folderName: return "blasius-solve (pipeline stage `wind`)"
        case DataLayout.FEM.folderName: return "pollutant-fem (pipeline stage `fem`)"
        case DataLayout.Samples.folderName: return "lhs-sample (pipeline stage `lhs`)"
        case DataLayout.UQ.folderName: return "uq-propagate (pipeline stage `uq`)"
        default: return "train-dmd (pipeline stage `train` or `fit`)"
        }
    }

    // MARK: Hashes, each taken once

    /// The manifest's record of input `url`: path, SHA-256 and size (hashed unless this version of the
    /// file was hashed before in this process).
    public static func inputFile(_ url: URL) throws -> Manifest.InputFile {
        let before = identity(path: url.path)
        if let before, let known = digests.lookup(before) { return known }
        let sha = try SHA256Digest.hex(ofFile: url)
        let after = identity(path: url.path)
        let size = Int(after?.size ?? 0)
        let file = Manifest.InputFile(path: url.path, sha256: sha, bytes: size)
        // Cached only if the file did not change while it was hashed.
        if let before, before == after { digests.store(before, file) }
        return file
    }

    /// Reads `url` whole: its bytes and the record of exactly those bytes, so that a manifest written
    /// later names the file this run read even if it is replaced meanwhile.
    public static func read(_ url: URL) throws -> (data: Data, file: Manifest.InputFile) {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw ArrayFileError(path: url.path, "cannot be read (missing file?)")
        }
        defer { try? handle.close() }
        var st = stat()
        let opened = fstat(handle.fileDescriptor, &st) == 0 ? FileIdentity(path: url.path, st) : nil
        let data = handle.readDataToEndOfFile()
        // The version just read was hashed already (by the check before the stage computes): same bytes.
        if let opened, opened.size == Int64(data.count), let known = digests.lookup(opened) { return (data, known) }
        let file = Manifest.InputFile(path: url.path, sha256: SHA256Digest.hex(of: data), bytes: data.count)
        if let opened, opened.size == Int64(data.count) { digests.store(opened, file) }
        return (data, file)
    }

    struct FileIdentity: Hashable {
        var path: String, device: UInt64, inode: UInt64, size: Int64, seconds: Int, nanoseconds: Int
        init(path: String, _ st: stat) {
            self.path = path; device = UInt64(st.st_dev); inode = UInt64(st.st_ino); size = Int64(st.st_size)
            seconds = Int(st.st_mtim.tv_sec); nanoseconds = Int(st.st_mtim.tv_nsec)
        }
    }

    static func identity(path: String) -> FileIdentity? {
        var st = stat()
        return stat(path, &st) == 0 ? FileIdentity(path: path, st) : nil
    }

    final class Digests: @unchecked Sendable {
        private var known: [FileIdentity: Manifest.InputFile] = [:]
        private let lock = NSLock()
        func lookup(_ id: FileIdentity) -> Manifest.InputFile? { lock.lock(); defer { lock.unlock() }; return known[id] }
        func store(_ id: FileIdentity, _ file: Manifest.InputFile) { lock.lock(); known[id] = file; lock.unlock() }
    }
    static let digests = Digests()
}
