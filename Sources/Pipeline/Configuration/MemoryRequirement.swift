import Foundation

/// What the sizes in a configuration will allocate, checked against the machine's memory before any
/// stage allocates: a size within its key's range can still multiply out beyond the machine (two
/// hidden layers of a million units, a 100000 × 100000 mesh), and the allocation would then fail
/// with a backtrace instead of a message. The estimates are lower bounds of what is certainly
/// allocated, so a refused configuration could never run; a configuration that passes may still need
/// more (UMFPACK's fill, the operating system's share).
public enum MemoryRequirement {
    /// Bytes of the network with hidden widths `hidden` between `inputs` and `outputs`, trained with
    /// Adam in `scalarBytes`-byte floats: parameters, gradient and the two moments (4 copies), plus the
    /// `snapshots` Double copies a DMD jump keeps (0 without DMD). Nil when the count overflows.
    public static func networkBytes(inputs: Int, hidden: [Int], outputs: Int, scalarBytes: Int, snapshots: Int) -> Int? {
        let widths = [inputs] + hidden + [outputs]
        var parameters = 0
        for (fanIn, fanOut) in zip(widths, widths.dropFirst()) {
            guard let layer = multiply(fanIn + 1, fanOut), let sum = add(parameters, layer) else { return nil }
            parameters = sum
        }
        guard let perParameter = add(4 * scalarBytes, 8 * snapshots) else { return nil }
        return multiply(parameters, perParameter)
    }

    /// Bytes of one FEM solve on an `nx` × `ny` structured mesh with 3 species, per solver thread: the
    /// nonzeros of the coupled P1 matrix (each node couples with itself and 6 neighbours, 3 × 3 species
    /// blocks) as values and row indices in the linear operator and the Jacobian, and the solver's
    /// work vectors. UMFPACK's factors come on top. Nil when the count overflows.
    public static func femBytes(nx: Int, ny: Int, threads: Int) -> Int? {
        guard let nodes = multiply(nx + 1, ny + 1), let unknowns = multiply(3, nodes),
              let nonzeros = multiply(nodes, 7 * 9),
              let matrices = multiply(nonzeros, 2 * (8 + 8)),
              let vectors = multiply(unknowns, 8 * 8),
              let perSolver = add(matrices, vectors) else { return nil }
        return multiply(perSolver, max(1, threads))
    }

    /// Throws a `ConfigError` naming the key, the estimate and the machine's memory when the
    /// configuration's networks or mesh cannot fit in `available` bytes.
    static func check(_ config: PipelineConfig, source: ConfigSource, available: Int) throws {
        let outputs = config.fem.observationCount
        let scalar = config.network.precision == .float64 ? 8 : 4
        let networks: [(key: String, hidden: [Int], scalar: Int, snapshots: Int)] = [
            ("network.hidden", config.network.hidden, scalar, config.dmd.m),
            ("surrogate.tuned_hidden", config.surrogate.tunedHidden, scalar, config.dmd.m),
            ("surrogate.podnn_hidden", config.surrogate.podnnHidden, 8, 0),
        ]
        for n in networks {
            let bytes = networkBytes(inputs: 6, hidden: n.hidden, outputs: outputs, scalarBytes: n.scalar, snapshots: n.snapshots)
            if bytes.map({ $0 > available }) ?? true {
                throw ConfigError(file: source.origin(of: n.key), key: n.key,
                                  "\(n.hidden) with \(outputs) outputs needs at least \(describe(bytes)) to train (parameters, gradient, "
                                  + "Adam's moments, DMD snapshots), more than this machine's \(describe(available)) of memory")
            }
        }
        let threads = config.fem.threads
        let fem = femBytes(nx: config.fem.problem.mesh.nx, ny: config.fem.problem.mesh.ny, threads: threads)
        if fem.map({ $0 > available }) ?? true {
            throw ConfigError(file: source.origin(of: "fem.nx"), key: "fem.nx",
                              "a mesh of \(config.fem.problem.mesh.nx) × \(config.fem.problem.mesh.ny) cells (fem.nx × fem.ny) on \(threads) solver thread(s) "
                              + "needs at least \(describe(fem)) before UMFPACK's factors, more than this machine's \(describe(available)) of memory")
        }
    }

    /// The machine's physical memory in bytes.
    static var physicalMemory: Int { Int(clamping: ProcessInfo.processInfo.physicalMemory) }

    static func describe(_ bytes: Int?) -> String {
        guard let bytes else { return "more than 8 EiB" }
        let gib = Double(bytes) / Double(1 << 30)
        return gib >= 0.1 ? String(format: "%.1f GiB", gib) : String(format: "%.1f MiB", Double(bytes) / Double(1 << 20))
    }

    private static func multiply(_ a: Int, _ b: Int) -> Int? {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? nil : product
    }

    private static func add(_ a: Int, _ b: Int) -> Int? {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? nil : sum
    }
}
