import NumericalFoundations

/// A fully connected network (formulation.md §4) with all parameters in one allocation: layer ℓ is
/// the contiguous slice `layerParameters(ℓ)` = [W_ℓ row-major (outputs × inputs) | b_ℓ]. A layer's
/// snapshot is therefore one copy and an assignment one copy back (the cost the paper's
/// TensorFlow implementation paid, §4 of the paper: 1.41× instead of 1.07×).
public final class Network<Scalar: NetworkScalar> {
    public let layout: NetworkLayout
    /// Every parameter of every layer, layer 0 first.
    public let parameters: UnsafeMutableBufferPointer<Scalar>
    let offsets: [Int]

    /// A network with all parameters zero.
    public init(layout: NetworkLayout) {
        self.layout = layout
        offsets = (0..<layout.layerCount).map { layout.parameterOffset(ofLayer: $0) }
        parameters = .allocate(capacity: layout.parameterCount)
        parameters.initialize(repeating: 0)
    }

    /// A network with Glorot-uniform weights and zero biases, drawn from `seed`.
    public convenience init(layout: NetworkLayout, seed: UInt64) {
        self.init(layout: layout)
        initializeGlorotUniform(seed: seed)
    }

    deinit { parameters.deallocate() }

    public var layerCount: Int { layout.layerCount }

    /// Layer `layer`'s parameters, weights then bias (zero-copy view; valid while the network lives).
    public func layerParameters(_ layer: Int) -> UnsafeMutableBufferPointer<Scalar> {
        UnsafeMutableBufferPointer(rebasing: parameters[offsets[layer]..<(offsets[layer] + layout.parameterCount(ofLayer: layer))])
    }

    @inline(__always) func weights(_ layer: Int) -> UnsafeMutablePointer<Scalar> { parameters.baseAddress! + offsets[layer] }
    @inline(__always) func bias(_ layer: Int) -> UnsafeMutablePointer<Scalar> {
        parameters.baseAddress! + offsets[layer] + layout.weightCount(ofLayer: layer)
    }

    /// Glorot (Xavier) uniform: W ~ U(−r, r) with r = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio
    /// 2010, as Keras' default initializer), biases zero. Layer ℓ draws from stream ℓ of `seed`, so
    /// the weights of one layer do not depend on the widths of the others. Values are drawn in
    /// double precision and rounded, so a float32 and a float64 network start from the same point.
    public func initializeGlorotUniform(seed: UInt64) {
        for layer in 0..<layout.layerCount {
            var generator = SeededGenerator(seed: seed, stream: UInt64(layer))
            let fanIn = Double(layout.inputs(ofLayer: layer)), fanOut = Double(layout.outputs(ofLayer: layer))
            let limit = (6 / (fanIn + fanOut)).squareRoot()
            let w = weights(layer)
            for i in 0..<layout.weightCount(ofLayer: layer) {
                w[i] = Scalar((2 * generator.nextUniform() - 1) * limit)
            }
            bias(layer).initialize(repeating: 0, count: layout.outputs(ofLayer: layer))
        }
    }

    /// Copies all parameters from a network of the same layout.
    public func copyParameters(from other: Network<Scalar>) {
        precondition(other.layout == layout, "copyParameters: layouts differ")
        _ = parameters.update(fromContentsOf: other.parameters)
    }

    /// Runs the network on `rows` inputs (row-major, rows × n_0) and returns rows × n_L outputs.
    /// Allocates its own work space: for tools and tests; the trainer uses `forward(_:rows:workspace:)`.
    public func predict(_ inputs: [Scalar], rows: Int, threads: Int = 1) -> [Scalar] {
        precondition(inputs.count == rows * layout.inputWidth, "predict: \(inputs.count) inputs for \(rows) rows of width \(layout.inputWidth)")
        let chunk = max(1, min(rows, 512))
        let workspace = NetworkWorkspace<Scalar>(layout: layout, rows: chunk, deltaRows: 0)
        var out = [Scalar](repeating: 0, count: rows * layout.outputWidth)
        withBLASThreads(max(threads, 1)) {
            inputs.withUnsafeBufferPointer { x in
                out.withUnsafeMutableBufferPointer { y in
                    var start = 0
                    while start < rows {
                        let count = min(chunk, rows - start)
                        forward(x.baseAddress! + start * layout.inputWidth, rows: count, workspace: workspace, threads: threads)
                        (y.baseAddress! + start * layout.outputWidth).update(from: workspace.output, count: count * layout.outputWidth)
                        start += count
                    }
                }
            }
        }
        return out
    }

    /// `predict` for a few rows whose answers must not depend on their batch: every row's outputs are
    /// the same bits alone or beside any other rows (`nk_row_products` instead of gemm, whose result
    /// for a row may change with the number of rows). Slower than `predict` for many rows; for a few
    /// it reads the weights once, where gemm also packs them.
    public func predictIndependentRows(_ inputs: [Scalar], rows: Int) -> [Scalar] {
        precondition(inputs.count == rows * layout.inputWidth, "predict: \(inputs.count) inputs for \(rows) rows of width \(layout.inputWidth)")
        let workspace = NetworkWorkspace<Scalar>(layout: layout, rows: max(rows, 1), deltaRows: 0)
        inputs.withUnsafeBufferPointer { x in
            var previous = x.baseAddress!
            for layer in 0..<layout.layerCount {
                let nIn = layout.inputs(ofLayer: layer), nOut = layout.outputs(ofLayer: layer)
                let out = workspace.activations[layer]
                Scalar.rowProducts(x: previous, rows: rows, nIn: nIn, w: weights(layer), nOut: nOut, out: out)
                let activation = layer == layout.layerCount - 1 ? Activation.linear : layout.activation
                activation.applyWithBias(out, rows: 0..<rows, width: nOut, bias: bias(layer))
                previous = UnsafePointer(out)
            }
        }
        return Array(UnsafeBufferPointer(start: workspace.output, count: rows * layout.outputWidth))
    }

    // MARK: Passes

    /// Forward pass: a_ℓ = σ(a_{ℓ−1}·W_ℓᵀ + b_ℓ) for each layer, linear at the output; one GEMM
    /// (`?gemm`, rows × n_{ℓ+1} × n_ℓ) and a fused bias-and-activation sweep per layer. The
    /// activations stay in `workspace` for the backward pass; the output is `workspace.output`.
    func forward(_ input: UnsafePointer<Scalar>, rows: Int, workspace: NetworkWorkspace<Scalar>, threads: Int) {
        precondition(rows <= workspace.rows, "forward: \(rows) rows exceed the work space (\(workspace.rows))")
        var previous = input
        for layer in 0..<layout.layerCount {
            let nIn = layout.inputs(ofLayer: layer), nOut = layout.outputs(ofLayer: layer)
            let out = workspace.activations[layer]
            Scalar.gemm(.none, .transpose, m: rows, n: nOut, k: nIn, alpha: 1, a: previous, lda: nIn,
                        b: weights(layer), ldb: nIn, beta: 0, c: out, ldc: nOut)
            let activation = layer == layout.layerCount - 1 ? Activation.linear : layout.activation
            let b = UnsafePointer(bias(layer))
            ParallelWork.forEachRange(count: rows, threads: threads, grain: max(1, ParallelWork.elementGrain / nOut)) { range in
                activation.applyWithBias(out, rows: range, width: nOut, bias: b)
            }
            previous = UnsafePointer(out)
        }
    }

    /// δ_{ℓ−1} = (δ_ℓ · W_ℓ) ⊙ σ'(z_{ℓ−1}) into `workspace.deltas[ℓ−1]`, for ℓ = `layer` > 0 (σ' is
    /// evaluated from the stored activations a_{ℓ−1}). Shared by `backward` and `backwardAndUpdate`;
    /// the latter calls it before updating W_ℓ, which it needs.
    @inline(__always)
    private func propagateDelta(through layer: Int, rows: Int, workspace: NetworkWorkspace<Scalar>, threads: Int) {
        let nIn = layout.inputs(ofLayer: layer), nOut = layout.outputs(ofLayer: layer)
        let below = workspace.deltas[layer - 1]
        Scalar.gemm(.none, .none, m: rows, n: nIn, k: nOut, alpha: 1, a: UnsafePointer(workspace.deltas[layer]), lda: nOut,
                    b: weights(layer), ldb: nIn, beta: 0, c: below, ldc: nIn)
        let a = UnsafePointer(workspace.activations[layer - 1])
        let activation = layout.activation
        ParallelWork.forEachRange(count: rows * nIn, threads: threads, grain: ParallelWork.elementGrain) { range in
            activation.multiplyByDerivative(below, output: a, range: range)
        }
    }

    /// Backward pass for a loss whose gradient with respect to the output, ∂L/∂a_L, is already in
    /// `workspace.deltas[L−1]` (rows × n_L). Writes ∂L/∂W_ℓ and ∂L/∂b_ℓ into `gradient` (same layout
    /// as `parameters`):
    ///   ∂L/∂W_ℓ = δ_ℓᵀ · a_{ℓ−1},   ∂L/∂b_ℓ = δ_ℓᵀ · 1,   δ_{ℓ−1} = (δ_ℓ · W_ℓ) ⊙ σ'(z_{ℓ−1}).
    /// `input` and the activations must be those of the preceding `forward` call.
    func backward(_ input: UnsafePointer<Scalar>, rows: Int, workspace: NetworkWorkspace<Scalar>,
                  gradient: UnsafeMutablePointer<Scalar>, threads: Int) {
        precondition(rows <= workspace.deltaRows, "backward: \(rows) rows exceed the work space (\(workspace.deltaRows))")
        for layer in stride(from: layout.layerCount - 1, through: 0, by: -1) {
            let nIn = layout.inputs(ofLayer: layer), nOut = layout.outputs(ofLayer: layer)
            let delta = UnsafePointer(workspace.deltas[layer])
            let previous = layer == 0 ? input : UnsafePointer(workspace.activations[layer - 1])
            let gradientWeights = gradient + offsets[layer]
            let gradientBias = gradientWeights + nIn * nOut
            Scalar.gemm(.transpose, .none, m: nOut, n: nIn, k: rows, alpha: 1, a: delta, lda: nOut,
                        b: previous, ldb: nIn, beta: 0, c: gradientWeights, ldc: nIn)
            Scalar.gemv(.transpose, m: rows, n: nOut, alpha: 1, a: delta, lda: nOut,
                        x: workspace.ones, incx: 1, beta: 0, y: gradientBias, incy: 1)
            if layer > 0 { propagateDelta(through: layer, rows: rows, workspace: workspace, threads: threads) }
        }
    }

    /// The backward pass fused with the Adam step: the same mathematics as `backward` followed by
    /// `optimizer.step`, arranged so that the weight gradient never travels to memory. At small
    /// batches an optimizer step is bound by memory traffic (the float32 parameter set of the paper
    /// network is 11.5 MB, larger than the caches, and every step streams it several times); here
    /// ∂L/∂W_ℓ is computed one block of rows at a time into a buffer that stays in the core's
    /// cache, and the Adam update of that block runs right after, which saves writing the 11.5 MB
    /// gradient and reading it back. The blocks are split over `threads` cores (OpenBLAS runs
    /// single-threaded inside each block); the block boundaries do not depend on the thread count,
    /// so neither do the results of this phase.
    ///
    /// Per layer, from the top: δ_{ℓ−1} = (δ_ℓ·W_ℓ) ⊙ σ' first (it needs W_ℓ before its update),
    /// then ∂L/∂b_ℓ = δ_ℓᵀ·1 and its update, then the blocks of W_ℓ.
    func backwardAndUpdate(_ input: UnsafePointer<Scalar>, rows: Int, workspace: NetworkWorkspace<Scalar>,
                           optimizer: AdamOptimizer<Scalar>, threads: Int) {
        precondition(rows <= workspace.deltaRows, "backward: \(rows) rows exceed the work space (\(workspace.deltaRows))")
        precondition(workspace.gradientBlocks.count >= max(threads, 1), "backward: work space has too few gradient blocks")
        for layer in stride(from: layout.layerCount - 1, through: 0, by: -1) {
            let nIn = layout.inputs(ofLayer: layer), nOut = layout.outputs(ofLayer: layer)
            let delta = UnsafePointer(workspace.deltas[layer])
            let previous = layer == 0 ? input : UnsafePointer(workspace.activations[layer - 1])
            if layer > 0 { propagateDelta(through: layer, rows: rows, workspace: workspace, threads: threads) }
            let coefficients = optimizer.coefficients(ofLayer: layer)
            let layerStart = weights(layer)
            let weightCount = nIn * nOut
            Scalar.gemv(.transpose, m: rows, n: nOut, alpha: 1, a: delta, lda: nOut,
                        x: workspace.ones, incx: 1, beta: 0, y: workspace.biasGradient, incy: 1)
            optimizer.update(coefficients, layer: layer, range: weightCount..<(weightCount + nOut), parameters: layerStart,
                             gradient: workspace.biasGradient)
            let blockRows = max(1, NetworkWorkspace<Scalar>.gradientBlockElements / nIn)
            let blockCount = (nOut + blockRows - 1) / blockRows
            let blocks = workspace.gradientBlocks
            let parallel = threads > 1 && blockCount >= 2 * threads
            let previousThreads = BLASThreads.current
            if parallel { BLASThreads.set(1) }
            ParallelWork.forEachChunk(count: blockCount, threads: parallel ? threads : 1, grain: 1) { chunk, range in
                let scratch = blocks[chunk]
                for block in range {
                    let first = block * blockRows, count = min(blockRows, nOut - first)
                    Scalar.gemm(.transpose, .none, m: count, n: nIn, k: rows, alpha: 1, a: delta + first, lda: nOut,
                                b: previous, ldb: nIn, beta: 0, c: scratch, ldc: nIn)
                    optimizer.update(coefficients, layer: layer, range: (first * nIn)..<((first + count) * nIn),
                                     parameters: layerStart, gradient: scratch)
                }
            }
            if parallel { BLASThreads.set(previousThreads) }
            optimizer.finishStep(ofLayer: layer)
        }
    }

    /// Sets δ_L = ∂L/∂a_L for the mean squared error L = (1/(rows·n_L)) Σ (a_L − y)² over a batch,
    /// i.e. δ_L = 2 (a_L − y) / (rows·n_L), and returns Σ (a_L − y)² and Σ w_j (a_L − y)_j² (summed in
    /// double precision, per row then in row order, so the values do not depend on the thread count).
    /// `target(r)` is the row of targets for batch row r; `weights` the per-output w_j.
    func setMeanSquaredErrorDelta(rows: Int, workspace: NetworkWorkspace<Scalar>, threads: Int, weights: UnsafePointer<Double>,
                                  target: (Int) -> UnsafePointer<Scalar>) -> (plain: Double, weighted: Double) {
        let width = layout.outputWidth
        let output = UnsafePointer(workspace.activations[layout.layerCount - 1])
        let delta = workspace.deltas[layout.layerCount - 1]
        let scale = Scalar(2 / (Double(rows) * Double(width)))
        let rowSums = workspace.rowSums, weightedRowSums = workspace.weightedRowSums
        ParallelWork.forEachRange(count: rows, threads: threads, grain: max(1, ParallelWork.elementGrain / width)) { range in
            for r in range {
                (rowSums[r], weightedRowSums[r]) = Kernels.squaredErrorDelta(a: output + r * width, y: target(r), d: delta + r * width,
                                                                             weights: weights, count: width, scale: scale)
            }
        }
        var total = 0.0, weightedTotal = 0.0
        for r in 0..<rows { total += rowSums[r]; weightedTotal += weightedRowSums[r] }
        return (total, weightedTotal)
    }
}

/// Preallocated buffers for passes over up to `rows` samples: the activations of every layer, the
/// back-propagated deltas (for up to `deltaRows` samples), a gathered input batch, and a vector of
/// ones (∂L/∂b = δᵀ·1 as one GEMV). Allocated once per trainer; nothing is allocated per step.
final class NetworkWorkspace<Scalar: NetworkScalar> {
    let rows: Int
    let deltaRows: Int
    let activations: [UnsafeMutablePointer<Scalar>]
    let deltas: [UnsafeMutablePointer<Scalar>]
    let input: UnsafeMutablePointer<Scalar>
    let ones: UnsafeMutablePointer<Scalar>
    let rowSums: UnsafeMutablePointer<Double>
    /// Σ_j w_j e_j² per row for a weighted loss (physical units), like `rowSums`.
    let weightedRowSums: UnsafeMutablePointer<Double>
    /// One cache-sized weight-gradient block per thread, and a bias gradient (`backwardAndUpdate`).
    let gradientBlocks: [UnsafeMutablePointer<Scalar>]
    let biasGradient: UnsafeMutablePointer<Scalar>
    static var gradientBlockElements: Int { GradientBlocks.elements }
    private let allocations: [(UnsafeMutableRawPointer)]

    init(layout: NetworkLayout, rows: Int, deltaRows: Int, threads: Int = 1) {
        self.rows = rows
        self.deltaRows = deltaRows
        var allocations: [UnsafeMutableRawPointer] = []
        func buffer<T: Numeric>(_ count: Int, _ type: T.Type) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: max(count, 1))
            p.initialize(repeating: 0, count: max(count, 1))
            allocations.append(UnsafeMutableRawPointer(p))
            return p
        }
        activations = (0..<layout.layerCount).map { buffer(rows * layout.outputs(ofLayer: $0), Scalar.self) }
        deltas = (0..<layout.layerCount).map { buffer(deltaRows * layout.outputs(ofLayer: $0), Scalar.self) }
        input = buffer(max(rows, deltaRows) * layout.inputWidth, Scalar.self)
        ones = buffer(max(rows, deltaRows), Scalar.self)
        ones.update(repeating: 1, count: max(rows, deltaRows, 1))
        rowSums = buffer(max(rows, deltaRows), Double.self)
        weightedRowSums = buffer(max(rows, deltaRows), Double.self)
        let widest = layout.widths.max() ?? 1
        gradientBlocks = (0..<max(threads, 1)).map { _ in buffer(max(Self.gradientBlockElements, widest), Scalar.self) }
        biasGradient = buffer(widest, Scalar.self)
        self.allocations = allocations
    }

    deinit { for p in allocations { p.deallocate() } }

    var output: UnsafeMutablePointer<Scalar> { activations[activations.count - 1] }
}

/// Size of the weight-gradient blocks of `Network.backwardAndUpdate`.
enum GradientBlocks {
    /// 32 k values (128 kB in float32): they fit in a core's L2 cache together with the parameter and
    /// moment lines streaming through it. Settable for tests, which use small blocks to exercise the
    /// block split on small networks.
    nonisolated(unsafe) static var elements = 32_768
}
