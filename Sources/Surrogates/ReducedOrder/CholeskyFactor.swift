import Foundation
import NumericalFoundations

/// A GP's Cholesky factor L (n × n, row-major lower), in memory, or in its model-folder file until a
/// predictive variance first needs it. A loaded model that only predicts means (the uncertainty
/// propagation, the report) then never reads the n² values per mode — 2.8 GB for a POD-GP of 60 modes
/// on 2400 samples — while its `alpha` (n) gives every mean.
///
/// The file is checked when the model is loaded (float64, shape (n, n), its full size), and it must
/// still be the same file when it is read: a model folder refitted in between (a new file, renamed
/// into place) is refused by name instead of mixing two fits.
public final class CholeskyFactor: @unchecked Sendable {
    public let order: Int
    private let lock = NSLock()
    /// In memory from the start, or a file until its first read.
    private enum State { case inMemory([Double]), inFile(URL, FileIdentity) }
    private var state: State

    /// A factor in memory.
    public init(_ values: [Double]) {
        order = Int(Double(values.count).squareRoot().rounded())
        state = .inMemory(values)
    }

    /// A factor left in `url` (a float64 `.npy` of shape (order, order)); its header and size are checked now.
    public init(file url: URL, order: Int) throws {
        let header: Npy.Header
        do { header = try Npy.readHeader(from: url) } catch let error as ArrayFileError {
            throw ReducedOrderModelError.fileProblem(path: url.path, message: error.message)
        }
        guard header.dtype == .float64, header.shape == [order, order] else {
            throw ReducedOrderModelError.fileProblem(path: url.path, message: "holds \(header.dtype) of shape \(Npy.shapeString(header.shape)); expected float64 of shape \(Npy.shapeString([order, order])) from rom.json")
        }
        let identity = try FileIdentity(url)
        guard identity.size == UInt64(header.dataOffset + order * order * MemoryLayout<Double>.size) else {
            throw ReducedOrderModelError.fileProblem(path: url.path, message: "is \(identity.size) bytes; a (\(order), \(order)) float64 array needs \(header.dataOffset + order * order * 8) (truncated?)")
        }
        self.order = order
        state = .inFile(url, identity)
    }

    /// Whether the values are in memory (a fitted model, or a loaded one whose variance was asked for).
    public var isLoaded: Bool {
        lock.lock(); defer { lock.unlock() }
        if case .inMemory = state { return true }
        return false
    }

    /// The values, read from the file at the first call.
    public func values() throws -> [Double] {
        lock.lock(); defer { lock.unlock() }
        let url: URL, identity: FileIdentity
        switch state {
        case .inMemory(let values): return values
        case .inFile(let u, let i): url = u; identity = i
        }
        guard (try? FileIdentity(url)) == identity else {
            throw ReducedOrderModelError.fileProblem(path: url.path, message: "changed since the model was loaded (refitted?): load the model again")
        }
        let array: NDArray<Double>
        do { array = try Npy.read(Double.self, from: url, expectedShape: [order, order]) } catch let error as ArrayFileError {
            throw ReducedOrderModelError.fileProblem(path: url.path, message: error.message)
        }
        if let i = array.values.firstIndex(where: { !$0.isFinite }) {
            throw ReducedOrderModelError.fileProblem(path: url.path, message: "entry \(i) is \(array.values[i]); expected finite values")
        }
        state = .inMemory(array.values)
        return array.values
    }
}

/// What tells one file from its replacement: the inode (an atomic rename brings a new one), the size
/// and the modification time.
struct FileIdentity: Equatable {
    var inode: UInt64
    var size: UInt64
    var modified: Date

    init(_ url: URL) throws {
        let attributes: [FileAttributeKey: Any]
        do { attributes = try FileManager.default.attributesOfItem(atPath: url.path) } catch {
            throw ReducedOrderModelError.fileProblem(path: url.path, message: "cannot be read: \(error.localizedDescription)")
        }
        inode = (attributes[.systemFileNumber] as? NSNumber)?.uint64Value ?? 0
        size = (attributes[.size] as? NSNumber)?.uint64Value ?? 0
        modified = attributes[.modificationDate] as? Date ?? .distantPast
    }
}
