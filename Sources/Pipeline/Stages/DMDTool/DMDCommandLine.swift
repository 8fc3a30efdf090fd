import NumericalFoundations
import Surrogates
import Foundation
import Numerics

/// The logic of `train-dmd dmd`: DMD of any snapshot matrix stored as `.npy`,
/// with its results written as `.npy` files. It reads and writes files, so it lives here, beside
/// the `dmd` subcommand that parses the arguments, and not in the DMD library.
///
/// Input: a 2-D float64 (or float32) `.npy` array. Layout `.columns` (default): shape (n, m), one
/// snapshot per column, as NumPy's `np.stack(snapshots, axis=1)`; layout `.rows`: shape (m, n),
/// one snapshot per row. Either way snapshot 0 is w_1, the oldest.
///
/// Output folder (each file written atomically):
/// - `singular_values.npy`: (min(n, m−1),) float64, σ of X = [w_1 … w_{m−1}], descending, all of them
/// - `eigenvalues.npy`: (r, 2) float64, columns Re λ, Im λ (sorted by decreasing |λ|; unclamped)
/// - `amplitudes.npy`: (r, 2) float64, Re b, Im b (F12)
/// - `reduced_operator.npy`: (r, r) float64, Ã (F11)
/// - `extrapolated.npy`: (n,) float64, w_{m+s} = Re(Φ Λ^s b) (F13) with the chosen safeguards
/// - `modes.npy`: (n, r, 2) float64, Re Φ, Im Φ, only when requested
/// - `summary.json`: sizes, rank, options, largest |λ|, timing
public enum DMDCommandLine {
    public enum SnapshotLayout: String, CaseIterable, Sendable {
        /// shape (n, m): column j is snapshot j.
        case columns
        /// shape (m, n): row j is snapshot j.
        case rows
    }

    public struct Request: Sendable {
        public var snapshotsURL: URL
        public var outputDirectory: URL
        public var steps: Double
        public var options: DMDOptions
        public var layout: SnapshotLayout
        public var writeModes: Bool

        public init(snapshotsURL: URL, outputDirectory: URL, steps: Double, options: DMDOptions = DMDOptions(),
                    layout: SnapshotLayout = .columns, writeModes: Bool = false) {
            self.snapshotsURL = snapshotsURL
            self.outputDirectory = outputDirectory
            self.steps = steps
            self.options = options
            self.layout = layout
            self.writeModes = writeModes
        }
    }

    public struct Summary: Sendable {
        public let dimension: Int
        public let snapshotCount: Int
        public let rank: Int
        public let largestEigenvalueModulus: Double
        public let decompositionSeconds: Double
        public let outputs: [URL]
    }

    /// Reads the snapshot file into a new buffer. A missing file, another dtype, a rank other than 2,
    /// fewer than 2 snapshots or a NaN/∞ entry is an error naming the file (and the entry).
    public static func loadSnapshots(from url: URL, layout: SnapshotLayout) throws -> SnapshotBuffer {
        let header = try Npy.readHeader(from: url)
        guard header.shape.count == 2 else {
            let expected = layout == .columns ? "(n, m): one snapshot per column" : "(m, n): one snapshot per row"
            throw ArrayFileError(path: url.path, "shape is \(Npy.shapeString(header.shape)) but a 2-D array \(expected) was expected")
        }
        let values: [Double]
        switch header.dtype {
        case .float64: values = try Npy.read(Double.self, from: url, expectedShape: [nil, nil]).values
        case .float32: values = try Npy.read(Float.self, from: url, expectedShape: [nil, nil]).values.map(Double.init)
        default:
            throw ArrayFileError(path: url.path, "dtype is \(header.dtype) but float64 (<f8) or float32 (<f4) was expected")
        }
        let (n, m) = layout == .columns ? (header.shape[0], header.shape[1]) : (header.shape[1], header.shape[0])
        guard m >= 2 else {
            throw ArrayFileError(path: url.path, "holds \(m) snapshot(s) (layout \(layout.rawValue), shape \(Npy.shapeString(header.shape))); DMD needs at least 2")
        }
        guard n >= 1 else { throw ArrayFileError(path: url.path, "snapshots have no entries (shape \(Npy.shapeString(header.shape)))") }
        let buffer = try SnapshotBuffer(dimension: n, capacity: m)
        do {
            for j in 0..<m {
                try buffer.appendInPlace { column in
                    switch layout {
                    case .columns: for i in 0..<n { column[i] = values[i * m + j] }
                    case .rows: for i in 0..<n { column[i] = values[j * n + i] }
                    }
                }
            }
        } catch DMDError.nonFiniteSnapshot(let snapshot, let entry, let value) {
            let position = layout == .columns ? "(\(entry), \(snapshot))" : "(\(snapshot), \(entry))"
            throw ArrayFileError(path: url.path, "entry \(position) (snapshot \(snapshot)) is \(value); snapshots must be finite")
        }
        return buffer
    }

    /// Runs the DMD of the request and writes its outputs.
    public static func run(_ request: Request) throws -> Summary {
        try request.options.validate()
        guard request.steps.isFinite, request.steps >= 0 else { throw DMDError.invalidSteps(request.steps) }
        let buffer = try loadSnapshots(from: request.snapshotsURL, layout: request.layout)
        let n = buffer.dimension, m = buffer.count
        let start = monotonicSeconds()
        let model = try DMD.decompose(consuming: buffer, options: request.options)
        let extrapolated = try model.extrapolated(steps: request.steps)
        let seconds = (monotonicSeconds() - start)
        let r = model.rank
        let folder = request.outputDirectory
        var outputs: [URL] = []
        func write(_ values: [Double], _ shape: [Int], _ name: String) throws {
            let url = folder.appendingPathComponent(name)
            try Npy.write(values, shape: shape, to: url)
            outputs.append(url)
        }
        try write(model.singularValues, [model.singularValues.count], "singular_values.npy")
        try write(model.eigenvalues.flatMap { [$0.real, $0.imaginary] }, [r, 2], "eigenvalues.npy")
        try write(model.amplitudes.flatMap { [$0.real, $0.imaginary] }, [r, 2], "amplitudes.npy")
        try write(model.reducedOperator.rowMajorValues, [r, r], "reduced_operator.npy")
        try write(extrapolated, [n], "extrapolated.npy")
        if request.writeModes {
            let phi = try model.modes(request.options.modes)
            var values = [Double](repeating: 0, count: n * r * 2)
            for i in 0..<n {
                for j in 0..<r {
                    values[(i * r + j) * 2] = phi[i, j].real
                    values[(i * r + j) * 2 + 1] = phi[i, j].imaginary
                }
            }
            try write(values, [n, r, 2], "modes.npy")
        }
        let options = request.options
        let summary: JSONValue = .object([
            "snapshots": .string(request.snapshotsURL.path),
            "layout": .string(request.layout.rawValue),
            "n": JSONValue(n),
            "m": JSONValue(m),
            "rank": JSONValue(r),
            "steps": .number(request.steps),
            "tolerance": .number(options.tolerance),
            "maximum_rank": options.maximumRank.map { JSONValue($0) } ?? .null,
            "svd": .string(options.svdMethod.rawValue),
            "modes": .string(options.modes.rawValue),
            "clamp_eigenvalues": .bool(options.clampEigenvaluesToUnitCircle),
            "clamped_eigenvalues": JSONValue(model.clampedEigenvalueCount),
            "relaxation": .number(options.relaxation),
            "largest_eigenvalue_modulus": .number(model.largestEigenvalueModulus),
            "amplitude_fit_rank": JSONValue(model.amplitudeFitRank),
            "seconds": .number(seconds),
            "outputs": .array(outputs.map { .string($0.lastPathComponent) }),
        ])
        let summaryURL = folder.appendingPathComponent("summary.json")
        try AtomicFile.write(summary.jsonText(), to: summaryURL)
        outputs.append(summaryURL)
        return Summary(dimension: n, snapshotCount: m, rank: r, largestEigenvalueModulus: model.largestEigenvalueModulus,
                       decompositionSeconds: seconds, outputs: outputs)
    }
}
