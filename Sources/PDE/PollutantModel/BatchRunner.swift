import Foundation
import NumericalFoundations

/// Settings of the batch that do not change the results (threads, chunking) and those that do (Newton, ν, x0).
public struct BatchSettings: Sendable {
    public var threads: Int
    public var chunkSize: Int
    public var newton: NewtonOptions
    /// ν and x0 of (F1)–(F4).
    public var nu: Double
    public var x0: Double
    /// When set, every converged sample also gets ∂c3/∂θ at the observation points (`BatchResult.sensitivities`).
    public var sensitivities: SensitivityOptions?

    public init(threads: Int, chunkSize: Int, newton: NewtonOptions, nu: Double, x0: Double, sensitivities: SensitivityOptions? = nil) {
        self.threads = threads; self.chunkSize = chunkSize; self.newton = newton; self.nu = nu; self.x0 = x0
        self.sensitivities = sensitivities
    }
}

/// The results of a contiguous block of samples.
public struct BatchResult: Sendable {
    public var range: Range<Int>
    public var pointCount: Int
    /// range.count × pointCount, row-major; zero rows for samples that did not converge.
    public var c3: [Double]
    /// range.count × pointCount × 6, row-major: ∂c3/∂θ (zero rows where c3's are); nil unless asked for.
    public var sensitivities: [Double]?
    public var records: [SampleRecord]
    /// Samples solved in this run, and chunks restored from checkpoints of an interrupted one.
    public var solvedNow: Int
    public var restoredChunks: Int

    public var statusCodes: [Int32] { records.map(\.status.rawValue) }
}

/// Asks a running batch to stop after the samples in progress (their chunks may stay incomplete).
public final class StopSignal: @unchecked Sendable {
    private var requested = false
    private let lock = NSLock()
    public init() {}
    public func request() { lock.lock(); requested = true; lock.unlock() }
    public var isRequested: Bool { lock.lock(); defer { lock.unlock() }; return requested }
}

/// The batch stopped on request; the completed chunks are saved and a rerun continues from them.
public struct BatchInterrupted: Error, CustomStringConvertible {
    public let savedChunks: Int
    public let totalChunks: Int
    public var description: String { "interrupted with \(savedChunks) of \(totalChunks) chunks saved; run again to continue" }
}

/// Solves a block of samples on `threads` workers, one sample per worker at a time, each worker with
/// its own `PollutantSolver` (numeric factorization) on the shared discretization (symbolic analysis).
///
/// Checkpoints: the block is cut into chunks of `chunkSize` samples. When the last sample of a chunk
/// is done, the chunk's c3 rows (`chunk-NNNNNN.npy`) and records (`chunk-NNNNNN.json`, with the
/// SHA-256 of the rows; with sensitivities also `chunk-NNNNNN-dtheta.npy` and its hash) are written
/// atomically to the checkpoint folder. A rerun with the same
/// fingerprint (inputs and result-changing settings) reloads every intact chunk and solves only the
/// rest. Each sample's result depends only on its own inputs (one BLAS thread, one factorization per
/// worker, deterministic UMFPACK), so a resumed run ends with the same bytes as an uninterrupted one.
public enum BatchRunner {
    struct CheckpointHeader: Codable, Equatable {
        var fingerprint: String
        var start: Int
        var end: Int
        var chunkSize: Int
        var points: Int
        /// Set (true) only when the run computes sensitivities, so that the header of a run without
        /// them is unchanged.
        var sensitivities: Bool?
        /// `BLASThreads.kernel` of the run that wrote the chunks (nil in checkpoints from before it was recorded).
        var blasKernel: String?

        /// Same inputs, settings and block: only the kernel may still differ.
        func sameRun(as other: CheckpointHeader) -> Bool {
            (fingerprint, start, end, chunkSize, points, sensitivities)
                == (other.fingerprint, other.start, other.end, other.chunkSize, other.points, other.sensitivities)
        }
    }
    struct ChunkFile: Codable {
        var c3Sha256: String
        /// SHA-256 of the chunk's ∂c3/∂θ rows (`chunk-NNNNNN-dtheta.npy`), when the run computes them.
        var sensitivitiesSha256: String?
        var records: [SampleRecord]
        var blasKernel: String?
    }

    static func chunkName(_ c: Int) -> String { String(format: "chunk-%06d", c) }
    static let sensitivitySuffix = "-dtheta"
    static let parameterCount = PollutantSensitivities.parameterCount

    public static func run(inputs: BatchInputs, discretization: PollutantDiscretization, settings: BatchSettings,
                           range: Range<Int>, checkpoints: URL, fingerprint: String, blasKernel: String = BLASThreads.kernel,
                           stop: StopSignal? = nil,
                           progress: ((SampleRecord) -> Void)? = nil, log: (String) -> Void = { _ in }) throws -> BatchResult {
        guard range.lowerBound >= 0, range.upperBound <= inputs.count else {
            throw PollutantInputError("sample range \(range) lies outside the \(inputs.count) samples")
        }
        // One BLAS thread per solver: no oversubscription, and results independent of the thread count.
        // The setting is process-wide: put the caller's back afterwards (other libraries depend on it).
        let callerBLASThreads = BLASThreads.current
        BLASThreads.set(1)
        defer { BLASThreads.set(callerBLASThreads) }
        let points = discretization.observation.count
        let chunkSize = max(1, settings.chunkSize)
        let chunkCount = (range.count + chunkSize - 1) / chunkSize
        func chunkRange(_ c: Int) -> Range<Int> {
            (range.lowerBound + c * chunkSize)..<min(range.lowerBound + (c + 1) * chunkSize, range.upperBound)
        }
        let header = CheckpointHeader(fingerprint: fingerprint, start: range.lowerBound, end: range.upperBound, chunkSize: chunkSize, points: points,
                                       sensitivities: settings.sensitivities == nil ? nil : true, blasKernel: blasKernel)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let state = try restoreOrStart(header: header, chunkCount: chunkCount, chunkRange: chunkRange, folder: checkpoints,
                                       encoder: encoder, log: log)
        let (c3, sensitivities, records, done) = (state.c3, state.sensitivities, state.records, state.done)
        let restored = done.filter { $0 }.count
        if restored > 0 { log("resuming: \(restored) of \(chunkCount) chunks restored from \(checkpoints.path)") }

        let pending = (0..<chunkCount).filter { !done[$0] }.flatMap { Array(chunkRange($0)) }
        let collector = ChunkCollector(range: range, chunkSize: chunkSize, points: points, c3: c3, sensitivities: sensitivities,
                                       records: records)
        ParallelWork.forEachItem(count: pending.count, threads: settings.threads, makeWorker: { _ in
            PollutantSolver(discretization: discretization, newton: settings.newton)
        }) { solver, item in
            if stop?.isRequested == true || collector.failed { return }
            let i = pending[item]
            let outcome = solver.solveSample(index: i, parameters: inputs.parameters[i], windStatus: inputs.windStatus[i],
                                             profile: inputs.profiles[i], nu: settings.nu, x0: settings.x0,
                                             sensitivities: settings.sensitivities)
            if let finished = collector.add(outcome) {
                do {
                    try writeChunk(finished.chunk, rows: finished.c3, sensitivities: finished.sensitivities, records: finished.records,
                                   blasKernel: blasKernel,
                                   folder: checkpoints, encoder: encoder)
                    collector.chunkSaved()
                } catch {
                    collector.fail(error)
                }
            }
            progress?(outcome.record)
        }
        if let error = collector.error { throw error }
        let final = collector.snapshot()
        guard final.records.allSatisfy({ $0 != nil }) else {
            throw BatchInterrupted(savedChunks: restored + collector.savedChunks, totalChunks: chunkCount)
        }
        return BatchResult(range: range, pointCount: points, c3: final.c3, sensitivities: final.sensitivities, records: final.records.map { $0! },
                           solvedNow: pending.count, restoredChunks: restored)
    }

    /// What a run starts from: the chunks of an interrupted run with the same header, or nothing (the
    /// folder then gets this header and loses the other run's chunks).
    struct StartingState {
        var c3: [Double]
        var sensitivities: [Double]?
        var records: [SampleRecord?]
        var done: [Bool]
    }

    static func restoreOrStart(header: CheckpointHeader, chunkCount: Int, chunkRange: (Int) -> Range<Int>, folder checkpoints: URL,
                               encoder: JSONEncoder, log: (String) -> Void) throws -> StartingState {
        let fm = FileManager.default
        try fm.createDirectory(at: checkpoints, withIntermediateDirectories: true)
        let headerURL = checkpoints.appendingPathComponent("run.json")
        let sampleCount = header.end - header.start, points = header.points
        let withSensitivities = header.sensitivities == true
        var state = StartingState(c3: [Double](repeating: 0, count: sampleCount * points),
                                  sensitivities: withSensitivities ? [Double](repeating: 0, count: sampleCount * points * parameterCount) : nil,
                                  records: [SampleRecord?](repeating: nil, count: sampleCount),
                                  done: [Bool](repeating: false, count: chunkCount))
        let previous = (try? Data(contentsOf: headerURL)).flatMap { try? JSONDecoder().decode(CheckpointHeader.self, from: $0) }
        // Chunks of another kernel would be merged silently into rows that differ in the last bits from
        // an uninterrupted run: refuse, and let the user pick the kernel or start afresh.
        if let previous, previous.sameRun(as: header), let theirs = previous.blasKernel, let ours = header.blasKernel, theirs != ours {
            throw PollutantInputError("the checkpoints in \(checkpoints.path) were solved with the OpenBLAS kernel \(theirs), "
                                      + "this run has \(ours): rerun with OPENBLAS_CORETYPE=\(theirs.split(separator: " ").first ?? "") "
                                      + "or delete \(checkpoints.path) to start afresh")
        }
        guard previous == header else {
            if previous != nil { log("checkpoints in \(checkpoints.path) belong to other inputs or settings: starting afresh") }
            for name in (try? fm.contentsOfDirectory(atPath: checkpoints.path)) ?? [] where name.hasPrefix("chunk-") {
                try? fm.removeItem(at: checkpoints.appendingPathComponent(name))
            }
            try AtomicFile.write(try encoder.encode(header), to: headerURL)
            return state
        }
        for c in 0..<chunkCount {
            let r = chunkRange(c)
            guard let rows = loadChunk(c, range: r, points: points, sensitivities: withSensitivities, blasKernel: header.blasKernel,
                                       folder: checkpoints) else { continue }
            let offset = r.lowerBound - header.start
            state.c3.replaceSubrange((offset * points)..<((offset + r.count) * points), with: rows.c3)
            if let chunkSensitivities = rows.sensitivities {
                let width = points * parameterCount
                state.sensitivities?.replaceSubrange((offset * width)..<((offset + r.count) * width), with: chunkSensitivities)
            }
            for (j, record) in rows.records.enumerated() { state.records[offset + j] = record }
            state.done[c] = true
        }
        return state
    }

    static func writeChunk(_ c: Int, rows: [Double], sensitivities: [Double]?, records: [SampleRecord], blasKernel: String,
                           folder: URL, encoder: JSONEncoder) throws {
        let npyURL = folder.appendingPathComponent(chunkName(c) + ".npy")
        let points = rows.count / max(records.count, 1)
        let data = Npy.encode(rows, shape: [records.count, points])
        try AtomicFile.write(data, to: npyURL)
        var sensitivitiesSha256: String? = nil
        if let sensitivities {
            let encoded = Npy.encode(sensitivities, shape: [records.count, points, parameterCount])
            try AtomicFile.write(encoded, to: folder.appendingPathComponent(chunkName(c) + sensitivitySuffix + ".npy"))
            sensitivitiesSha256 = SHA256Digest.hex(of: encoded)
        }
        let file = ChunkFile(c3Sha256: SHA256Digest.hex(of: data), sensitivitiesSha256: sensitivitiesSha256, records: records,
                             blasKernel: blasKernel)
        try AtomicFile.write(try encoder.encode(file), to: folder.appendingPathComponent(chunkName(c) + ".json"))
    }

    /// A chunk whose files are present, consistent with each other and with the expected samples,
    /// and solved with this kernel (a chunk of another one is solved again).
    static func loadChunk(_ c: Int, range: Range<Int>, points: Int, sensitivities: Bool = false, blasKernel: String?,
                          folder: URL) -> (c3: [Double], sensitivities: [Double]?, records: [SampleRecord])? {
        let npyURL = folder.appendingPathComponent(chunkName(c) + ".npy")
        guard let json = try? Data(contentsOf: folder.appendingPathComponent(chunkName(c) + ".json")),
              let file = try? JSONDecoder().decode(ChunkFile.self, from: json),
              file.blasKernel == nil || blasKernel == nil || file.blasKernel == blasKernel,
              let data = try? Data(contentsOf: npyURL),
              SHA256Digest.hex(of: data) == file.c3Sha256,
              let rows = try? Npy.decode(data, as: Double.self, path: npyURL.path),
              rows.shape == [range.count, points],
              file.records.map(\.sample) == Array(range) else { return nil }
        guard sensitivities else { return (rows.values, nil, file.records) }
        let url = folder.appendingPathComponent(chunkName(c) + sensitivitySuffix + ".npy")
        guard let data = try? Data(contentsOf: url), SHA256Digest.hex(of: data) == file.sensitivitiesSha256,
              let derivatives = try? Npy.decode(data, as: Double.self, path: url.path),
              derivatives.shape == [range.count, points, parameterCount] else { return nil }
        return (rows.values, derivatives.values, file.records)
    }
}

/// Collects the outcomes of the workers and hands out each chunk once it is complete.
final class ChunkCollector: @unchecked Sendable {
    private let lock = NSLock()
    private let range: Range<Int>
    private let chunkSize: Int
    private let points: Int
    private var c3: [Double]
    private var sensitivities: [Double]?
    private var records: [SampleRecord?]
    private var missing: [Int]
    private var storedError: Error?
    private var saved = 0

    init(range: Range<Int>, chunkSize: Int, points: Int, c3: [Double], sensitivities: [Double]?, records: [SampleRecord?]) {
        self.range = range; self.chunkSize = chunkSize; self.points = points; self.c3 = c3; self.records = records
        self.sensitivities = sensitivities
        let chunks = (range.count + chunkSize - 1) / chunkSize
        missing = (0..<chunks).map { c in
            let lower = c * chunkSize, upper = min((c + 1) * chunkSize, range.count)
            return records[lower..<upper].filter { $0 == nil }.count
        }
    }

    /// Stores an outcome; returns the chunk's rows and records if it was the chunk's last sample.
    func add(_ outcome: SampleOutcome) -> (chunk: Int, c3: [Double], sensitivities: [Double]?, records: [SampleRecord])? {
        lock.lock(); defer { lock.unlock() }
        let offset = outcome.record.sample - range.lowerBound
        c3.replaceSubrange((offset * points)..<((offset + 1) * points), with: outcome.c3)
        let width = points * BatchRunner.parameterCount
        if sensitivities != nil, let rows = outcome.sensitivities {
            sensitivities!.replaceSubrange((offset * width)..<((offset + 1) * width), with: rows)
        }
        records[offset] = outcome.record
        let c = offset / chunkSize
        missing[c] -= 1
        guard missing[c] == 0 else { return nil }
        let lower = c * chunkSize, upper = min((c + 1) * chunkSize, range.count)
        return (c, Array(c3[(lower * points)..<(upper * points)]), sensitivities.map { Array($0[(lower * width)..<(upper * width)]) },
                records[lower..<upper].map { $0! })
    }

    func chunkSaved() { lock.lock(); saved += 1; lock.unlock() }
    var savedChunks: Int { lock.lock(); defer { lock.unlock() }; return saved }
    func fail(_ e: Error) { lock.lock(); if storedError == nil { storedError = e }; lock.unlock() }
    var error: Error? { lock.lock(); defer { lock.unlock() }; return storedError }
    var failed: Bool { error != nil }
    func snapshot() -> (c3: [Double], sensitivities: [Double]?, records: [SampleRecord?]) {
        lock.lock(); defer { lock.unlock() }
        return (c3, sensitivities, records)
    }
}
