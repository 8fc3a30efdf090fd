import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file written piece by piece that appears at its path only when complete: the pieces go to
/// `AtomicFile`'s temporary in the same folder, and `commit()` flushes it to disk and renames it over
/// the target. Until then the target is untouched; a writer that is dropped or fails removes its
/// temporary (a killed one leaves it for `AtomicFile.removeStaleTemporaries`). For outputs too large
/// to hold in memory at once.
public final class AtomicFileStream {
    public let url: URL
    private let temporary: URL
    private var descriptor: Int32
    public private(set) var bytesWritten = 0

    public init(url: URL) throws {
        self.url = url
        let directory = url.deletingLastPathComponent()
        try Folder.create(directory)
        AtomicFile.removeStaleTemporaries(of: url)
        temporary = directory.appendingPathComponent("\(AtomicFile.temporaryPrefix(of: url))\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw ArrayFileError(path: url.path, "cannot create temporary file: \(String(cString: strerror(errno)))") }
    }

    deinit { abandon() }

    /// Appends bytes; on failure the temporary is removed and the error names the target.
    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard descriptor >= 0 else { throw ArrayFileError(path: url.path, "write after the file was committed or abandoned") }
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if n <= 0 {
                let reason = String(cString: strerror(errno))
                abandon()
                throw ArrayFileError(path: url.path, "cannot write: \(reason)")
            }
            offset += n
        }
        bytesWritten += bytes.count
    }

    public func append(_ data: Data) throws { try data.withUnsafeBytes { try append($0) } }

    public func append(_ text: String) throws { try append(Data(text.utf8)) }

    /// Flushes the temporary to disk and renames it over the target.
    public func commit() throws {
        guard descriptor >= 0 else { throw ArrayFileError(path: url.path, "commit after the file was committed or abandoned") }
        let synced = fsync(descriptor) == 0
        let reason = synced ? "" : String(cString: strerror(errno))
        close(descriptor)
        descriptor = -1
        guard synced, rename(temporary.path, url.path) == 0 else {
            let message = reason.isEmpty ? String(cString: strerror(errno)) : reason
            unlink(temporary.path)
            throw ArrayFileError(path: url.path, "cannot write: \(message)")
        }
    }

    /// Removes the temporary; the target stays as it was.
    public func abandon() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
        unlink(temporary.path)
    }
}

/// A `.npy` array written row block by row block (C order), with the shape fixed up front; the file
/// appears only when every value has been appended (`finish()`).
public final class NpyStreamWriter<Element: NpyElement> {
    public let shape: [Int]
    private let stream: AtomicFileStream
    private let expectedCount: Int
    public private(set) var count = 0

    public init(url: URL, shape: [Int]) throws {
        self.shape = shape
        var total = 1
        for n in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: n)
            guard n >= 0, !overflow else { throw ArrayFileError(path: url.path, "shape \(Npy.shapeString(shape)) is not a valid array shape") }
            total = product
        }
        expectedCount = total
        stream = try AtomicFileStream(url: url)
        try stream.append(Npy.header(for: Element.self, shape: shape))
    }

    /// Appends the next values in C order.
    public func append(_ values: ArraySlice<Element>) throws {
        guard count + values.count <= expectedCount else {
            stream.abandon()
            throw ArrayFileError(path: stream.url.path, "more values than the shape \(Npy.shapeString(shape)) holds")
        }
        try values.withUnsafeBytes { try stream.append($0) }
        count += values.count
    }

    public func append(_ values: [Element]) throws { try append(values[...]) }

    /// Checks that the shape is full and makes the file appear.
    public func finish() throws {
        guard count == expectedCount else {
            stream.abandon()
            throw ArrayFileError(path: stream.url.path, "holds \(count) of the \(expectedCount) values of shape \(Npy.shapeString(shape))")
        }
        try stream.commit()
    }
}
