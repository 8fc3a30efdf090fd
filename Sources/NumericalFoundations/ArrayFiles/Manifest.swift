import Foundation

/// The small JSON record written beside every stage output: what produced it, from what, with which
/// configuration and seed, what shapes came out, and how long it took. It makes a result traceable.
public struct Manifest: Codable, Sendable {
    public struct InputFile: Codable, Sendable, Equatable {
        public var path: String
        public var sha256: String
        public var bytes: Int
        public init(path: String, sha256: String, bytes: Int) { self.path = path; self.sha256 = sha256; self.bytes = bytes }
    }
    public struct OutputFile: Codable, Sendable, Equatable {
        public var path: String
        public var dtype: String?
        public var shape: [Int]?
        public init(path: String, dtype: String? = nil, shape: [Int]? = nil) {
            self.path = path; self.dtype = dtype; self.shape = shape
        }
    }

    public var stage: String
    public var version: String
    public var createdAt: String
    public var configFile: String?
    public var config: JSONValue
    public var seed: UInt64?
    public var inputs: [InputFile]
    public var outputs: [OutputFile]
    public var wallSeconds: Double
    public var host: [String: String]
    /// The OpenBLAS kernel of the process ("core", "configuration"): it changes results in the last bits,
    /// so it belongs to a result's description. Optional: manifests written before it was recorded lack it.
    public var blas: [String: String]?
    /// Stage-specific records (per-sample status, timings, …).
    public var details: JSONValue

    public init(stage: String, version: String, configFile: String?, config: JSONValue, seed: UInt64?) {
        self.stage = stage
        self.version = version
        let formatter = ISO8601DateFormatter()
        self.createdAt = formatter.string(from: Date())
        self.configFile = configFile
        self.config = config
        self.seed = seed
        self.inputs = []
        self.outputs = []
        self.wallSeconds = 0
        self.host = ["cores": String(ProcessInfo.processInfo.activeProcessorCount),
                     "os": ProcessInfo.processInfo.operatingSystemVersionString]
        self.blas = ["core": BLASThreads.coreName, "configuration": BLASThreads.configuration]
        self.details = .object([:])
    }

    /// Records an input file with its SHA-256 and size.
    public mutating func addInput(_ url: URL) throws {
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int ?? 0
        inputs.append(InputFile(path: url.path, sha256: try SHA256Digest.hex(ofFile: url), bytes: size))
    }

    /// Records an input whose hash the caller took (e.g. of the very bytes it read).
    public mutating func addInput(_ file: InputFile) { inputs.append(file) }

    /// Records an `.npy` output with its dtype and shape, read back from the file's header.
    public mutating func addOutput(_ url: URL) {
        if url.pathExtension == "npy", let header = try? Npy.readHeader(from: url) {
            outputs.append(OutputFile(path: url.path, dtype: header.dtype.rawValue, shape: header.shape))
        } else {
            outputs.append(OutputFile(path: url.path))
        }
    }

    public func write(to url: URL) throws {
        try AtomicFile.writeJSON(self, to: url, snakeCaseKeys: true)
    }

    public static func read(from url: URL) throws -> Manifest {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do { return try decoder.decode(Manifest.self, from: Data(contentsOf: url)) } catch {
            throw ArrayFileError(path: url.path, "is not a readable manifest: \(error)")
        }
    }
}
