import Foundation
import NumericalFoundations

/// How the trainer runs (formulation.md §4 defaults).
public struct TrainerOptions: Codable, Equatable, Sendable {
    /// Samples per optimizer step; the last batch of an epoch holds the remainder (as Keras).
    public var batchSize: Int
    public var adam: AdamSettings
    /// Seed of the shuffled sample order: epoch e draws its permutation from stream e of this seed,
    /// so the order of an epoch depends only on (seed, e), which makes resuming exact.
    public var shuffleSeed: UInt64
    /// Cores for OpenBLAS and for the element-wise sweeps.
    public var threads: Int
    /// Samples per forward pass when measuring the full-set losses: large, so that each GEMM packs
    /// the weights once for many samples (the activations of 1024 samples of the paper network take 16 MB).
    public var evaluationRows: Int
    /// What the history's training MSE is (the test MSE is always a full pass).
    public var trainLoss: TrainLossMeasure

    public init(batchSize: Int = 32, adam: AdamSettings = AdamSettings(), shuffleSeed: UInt64 = 2, threads: Int = 2,
                evaluationRows: Int = 1024, trainLoss: TrainLossMeasure = .fullPass) {
        self.batchSize = batchSize; self.adam = adam; self.shuffleSeed = shuffleSeed
        self.threads = threads; self.evaluationRows = evaluationRows; self.trainLoss = trainLoss
    }
}

/// How an epoch's training MSE is measured for the history.
public enum TrainLossMeasure: String, Codable, Sendable, CaseIterable {
    /// A forward pass over the whole training set with the parameters at the end of the epoch
    /// (after the hook): exact, and comparable across runs; costs 4/3 of the test pass per test sample.
    case fullPass = "full_pass"
    /// The mean of the epoch's mini-batch losses, each taken before its step (what Keras reports as
    /// "loss", and the paper's curves): free, but a mix of the parameters during the epoch.
    case minibatchMean = "minibatch_mean"
}

/// Samples in the network's units: inputs scaled to [−1, 1], targets standardised; row-major.
public struct ScaledSamples<Scalar: NetworkScalar> {
    public var inputs: [Scalar]
    public var targets: [Scalar]
    public var count: Int

    public init(inputs: [Scalar], targets: [Scalar], count: Int) {
        self.inputs = inputs; self.targets = targets; self.count = count
    }
}

/// Wall-clock seconds spent per phase (filled when `Trainer.profiling` is on; for the benchmark).
public struct TrainerProfile: Sendable {
    public var gather = 0.0, forward = 0.0, backward = 0.0, optimizer = 0.0, hook = 0.0, evaluation = 0.0
    public var total: Double { gather + forward + backward + optimizer + hook + evaluation }
}

/// Mini-batch training of a `Network` with mean squared error and Adam (formulation.md §4).
///
/// All work buffers are allocated here, once: the gradient, Adam's moments, the activations and
/// deltas of a batch, the epoch's sample order. An epoch allocates nothing. Every matrix product is
/// one OpenBLAS call; the element-wise sweeps are split over `options.threads` cores.
///
/// Results depend only on the data, the options and the seeds (and, through OpenBLAS, on the
/// thread count): two runs with the same inputs give bit-identical parameters and history.
public final class Trainer<Scalar: NetworkScalar>: TrainerAccess {
    public let network: Network<Scalar>
    public let optimizer: AdamOptimizer<Scalar>
    public let options: TrainerOptions
    public let trainCount: Int
    public let testCount: Int
    public var hook: TrainingHook? {
        didSet { history.extraColumns = hook?.historyColumns ?? [] }
    }
    public private(set) var history = TrainingHistory()
    public private(set) var completedEpochs = 0
    public private(set) var optimizerSteps = 0
    /// Wall seconds of earlier sessions (restored from a checkpoint).
    var wallSecondsBefore = 0.0
    public var profiling = false
    /// Whether a step runs the backward pass fused with Adam (`Network.backwardAndUpdate`, the
    /// default) or as two passes over a full gradient (`backward`, then `AdamOptimizer.step`).
    /// The same mathematics; kept switchable for the benchmark and the equivalence test.
    public var fusedUpdate = true
    public private(set) var profile = TrainerProfile()

    let trainInputs: UnsafeMutableBufferPointer<Scalar>
    let trainTargets: UnsafeMutableBufferPointer<Scalar>
    let testInputs: UnsafeMutableBufferPointer<Scalar>
    let testTargets: UnsafeMutableBufferPointer<Scalar>
    /// s_j², the per-output weights of the physical-unit MSE.
    let outputVariances: UnsafeMutableBufferPointer<Double>
    let gradient: UnsafeMutableBufferPointer<Scalar>
    let workspace: NetworkWorkspace<Scalar>
    let order: UnsafeMutableBufferPointer<Int>

    private var parameterVersion = 0
    private var cachedTrainLoss: (version: Int, value: LossValue)?
    private var cachedTestLoss: (version: Int, value: LossValue?)?
    private var hookStarted = false

    /// - Parameters:
    ///   - outputVariances: s_j² per output (`OutputScaler.variances`); ones give physical = scaled.
    public init(network: Network<Scalar>, options: TrainerOptions, train: ScaledSamples<Scalar>, test: ScaledSamples<Scalar>,
                outputVariances: [Double]) throws {
        let layout = network.layout
        let d = layout.inputWidth, p = layout.outputWidth
        for (name, set) in [("training", train), ("test", test)] {
            guard set.inputs.count == set.count * d else {
                throw NetworkError("the \(name) inputs hold \(set.inputs.count) values: not \(set.count) samples of the network's \(d) inputs")
            }
            guard set.targets.count == set.count * p else {
                throw NetworkError("the \(name) targets hold \(set.targets.count) values: not \(set.count) samples of the network's \(p) outputs")
            }
        }
        guard train.count > 0 else { throw NetworkError("the training set is empty") }
        guard outputVariances.count == p else {
            throw NetworkError("\(outputVariances.count) output variances for a network with \(p) outputs")
        }
        guard options.batchSize >= 1 else { throw NetworkError("batch size must be at least 1, got \(options.batchSize)") }
        for (name, set) in [("training", train), ("test", test)] {
            if let i = set.inputs.firstIndex(where: { !$0.isFinite }) {
                throw NetworkError("\(name) sample \(i / d): scaled input \(i % d) is \(set.inputs[i]); expected a finite number")
            }
            if let i = set.targets.firstIndex(where: { !$0.isFinite }) {
                throw NetworkError("\(name) sample \(i / p): scaled target \(i % p) is \(set.targets[i]); expected a finite number")
            }
        }
        self.network = network
        self.options = options
        self.optimizer = AdamOptimizer(layout: layout, settings: options.adam)
        self.trainCount = train.count
        self.testCount = test.count
        func buffer<T>(_ values: [T]) -> UnsafeMutableBufferPointer<T> {
            let b = UnsafeMutableBufferPointer<T>.allocate(capacity: max(values.count, 1))
            _ = b.initialize(from: values)
            return b
        }
        trainInputs = buffer(train.inputs); trainTargets = buffer(train.targets)
        testInputs = buffer(test.inputs); testTargets = buffer(test.targets)
        self.outputVariances = buffer(outputVariances)
        gradient = buffer([Scalar](repeating: 0, count: layout.parameterCount))
        order = buffer(Array(0..<train.count))
        let batch = min(options.batchSize, train.count)
        workspace = NetworkWorkspace(layout: layout, rows: max(batch, min(max(options.evaluationRows, 1), max(train.count, test.count))),
                                     deltaRows: batch, threads: options.threads)
    }

    deinit {
        for b in [trainInputs, trainTargets, testInputs, testTargets, gradient] { b.deallocate() }
        outputVariances.deallocate()
        order.deallocate()
    }

    public var layout: NetworkLayout { network.layout }
    public var precision: NetworkPrecision { Scalar.precision }
    /// Wall seconds of training so far, summed over resumed sessions.
    public var wallSeconds: Double { history.rows.last?.wallSeconds ?? wallSecondsBefore }

    // MARK: Training

    /// The sample order of epoch `epoch` (1-based): a Fisher–Yates shuffle from stream `epoch` of the
    /// shuffle seed, done in place (the same permutation as `SeededGenerator.permutation`).
    func shuffle(forEpoch epoch: Int) {
        var generator = SeededGenerator(seed: options.shuffleSeed, stream: UInt64(epoch))
        let n = trainCount
        for i in 0..<n { order[i] = i }
        var i = n - 1
        while i > 0 {
            let j = generator.nextIndex(below: i + 1)
            order.swapAt(i, j)
            i -= 1
        }
    }

    /// Trains epochs until `completedEpochs == epochs` (or `stop` returns true after an epoch).
    /// `afterEpoch` runs after each epoch's history row is recorded (progress, checkpoints).
    ///
    /// With `stopOnDivergence`, an epoch that diverges (a `DivergenceError` from the trainer or from
    /// its hook, e.g. a DMD jump that overflows) ends the training instead of failing it: the
    /// parameters go back to those at the end of the last completed epoch (a copy refreshed after
    /// every epoch: 11.5 MB for the paper network, ≈ 1 ms, 0.3 % of an epoch), the history
    /// and `completedEpochs` end there, and the divergence is returned. Adam's moments and the hook's
    /// state stay those of the failed epoch, so the trainer must not be checkpointed afterwards.
    /// Without it the error is thrown, as any other.
    @discardableResult
    public func train(untilEpoch epochs: Int, stopOnDivergence: Bool = false,
                      afterEpoch: (HistoryRow) throws -> Bool = { _ in false }) throws -> Divergence? {
        var lastGood: UnsafeMutableBufferPointer<Scalar>? = nil
        if stopOnDivergence {
            lastGood = .allocate(capacity: network.parameters.count)
            _ = lastGood!.initialize(fromContentsOf: network.parameters)
        }
        defer { lastGood?.deallocate() }
        while completedEpochs < epochs {
            let row: HistoryRow
            do {
                row = try trainEpoch()
            } catch let error as any DivergenceError where stopOnDivergence {
                let lastEpoch = history.rows.last?.epoch ?? 0
                _ = network.parameters.update(fromContentsOf: lastGood!)
                completedEpochs = lastEpoch
                parameterVersion += 1
                return Divergence(epoch: lastEpoch + 1, message: error.description)
            }
            if let lastGood { _ = lastGood.update(fromContentsOf: network.parameters) }
            if try afterEpoch(row) { break }
        }
        return nil
    }

    /// One epoch: shuffled mini-batches, an Adam step each, then the hook, then the full-set losses.
    @discardableResult
    public func trainEpoch() throws -> HistoryRow {
        try withBLASThreads(options.threads) { try trainEpochWithBLASThreadsSet() }
    }

    private func trainEpochWithBLASThreadsSet() throws -> HistoryRow {
        if completedEpochs == 0 && history.rows.isEmpty { try recordInitialState() }
        let epochStart = monotonicSeconds()
        if let hook, !hookStarted {
            try hook.trainingWillStart(self)
            hookStarted = true
        }
        let epoch = completedEpochs + 1
        let d = layout.inputWidth, p = layout.outputWidth
        let threads = options.threads
        shuffle(forEpoch: epoch)
        if optimizer.beginEpoch(parameters: network.parameters) { parameterVersion += 1 }
        var sumOfSquares = 0.0, weightedSumOfSquares = 0.0
        var stepHookSeconds = 0.0
        var begin = 0
        let x = UnsafePointer(trainInputs.baseAddress!), y = UnsafePointer(trainTargets.baseAddress!)
        let sampleOrder = UnsafePointer(order.baseAddress!)
        while begin < trainCount {
            let rows = min(options.batchSize, trainCount - begin)
            var t = profiling ? monotonicSeconds() : 0
            for r in 0..<rows {
                (workspace.input + r * d).update(from: x + sampleOrder[begin + r] * d, count: d)
            }
            if profiling { t = lap(t, &profile.gather) }
            network.forward(workspace.input, rows: rows, workspace: workspace, threads: threads)
            if profiling { t = lap(t, &profile.forward) }
            let base = begin
            let sums = network.setMeanSquaredErrorDelta(rows: rows, workspace: workspace, threads: threads,
                                                        weights: outputVariances.baseAddress!) { r in
                y + sampleOrder[base + r] * p
            }
            sumOfSquares += sums.plain
            weightedSumOfSquares += sums.weighted
            if fusedUpdate {
                network.backwardAndUpdate(workspace.input, rows: rows, workspace: workspace, optimizer: optimizer, threads: threads)
                if profiling { t = lap(t, &profile.backward) }
            } else {
                network.backward(workspace.input, rows: rows, workspace: workspace, gradient: gradient.baseAddress!, threads: threads)
                if profiling { t = lap(t, &profile.backward) }
                optimizer.step(parameters: network.parameters.baseAddress!, gradient: gradient.baseAddress!, threads: threads)
                if profiling { t = lap(t, &profile.optimizer) }
            }
            optimizerSteps += 1
            parameterVersion += 1
            if let hook, hook.wantsStepCallbacks {
                let hookStart = monotonicSeconds()
                try hook.afterStep(self)
                stepHookSeconds += monotonicSeconds() - hookStart
                if profiling { t = lap(t, &profile.hook) }
            }
            begin += rows
        }
        if optimizer.endEpoch(parameters: network.parameters) { parameterVersion += 1 }
        let backpropSeconds = monotonicSeconds() - epochStart - stepHookSeconds
        completedEpochs = epoch
        var t = profiling ? monotonicSeconds() : 0
        let extra = try hook?.afterEpoch(self) ?? [:]
        if profiling { t = lap(t, &profile.hook) }
        let evaluationStart = monotonicSeconds()
        let elements = Double(trainCount) * Double(p)
        let minibatchLoss = LossValue(scaled: sumOfSquares / elements, physical: weightedSumOfSquares / elements)
        let trainLoss = options.trainLoss == .fullPass ? trainingLoss() : minibatchLoss
        let testLoss = testLoss()
        let evaluationSeconds = monotonicSeconds() - evaluationStart
        if profiling { _ = lap(t, &profile.evaluation) }
        guard trainLoss.scaled.isFinite else {
            throw TrainingDivergedError("training diverged in epoch \(epoch): the training MSE is \(trainLoss.scaled) "
                               + "(try a smaller training.learning_rate)")
        }
        let previousWall = history.rows.last?.wallSeconds ?? wallSecondsBefore
        let row = HistoryRow(epoch: epoch, trainMSE: trainLoss.scaled, testMSE: testLoss?.scaled,
                             trainMSEPhysical: trainLoss.physical, testMSEPhysical: testLoss?.physical,
                             wallSeconds: previousWall + (monotonicSeconds() - epochStart),
                             minibatchMSE: minibatchLoss.scaled,
                             backpropSeconds: backpropSeconds, evaluationSeconds: evaluationSeconds, extra: extra)
        history.rows.append(row)
        return row
    }

    /// History row 0: the losses of the initial parameters (its wall time is that measurement's).
    private func recordInitialState() throws {
        let start = monotonicSeconds()
        let trainLoss = trainingLoss(), testLoss = testLoss()
        guard trainLoss.scaled.isFinite else {
            throw NetworkError("the initial training MSE is \(trainLoss.scaled): the data or the initial parameters are not finite")
        }
        let seconds = monotonicSeconds() - start
        history.rows.append(HistoryRow(epoch: 0, trainMSE: trainLoss.scaled, testMSE: testLoss?.scaled,
                                       trainMSEPhysical: trainLoss.physical, testMSEPhysical: testLoss?.physical,
                                       wallSeconds: seconds, minibatchMSE: nil, backpropSeconds: 0, evaluationSeconds: seconds))
    }

    @inline(__always) private func lap(_ start: Double, _ into: inout Double) -> Double {
        let now = monotonicSeconds()
        into += now - start
        return now
    }

    public func resetProfile() { profile = TrainerProfile() }

    // MARK: Losses

    public func trainingLoss() -> LossValue {
        if let cached = cachedTrainLoss, cached.version == parameterVersion { return cached.value }
        let value = specialized({ $0.fullSetLoss(test: false) }, { $0.fullSetLoss(test: false) }) ?? fullSetLoss(test: false)
        cachedTrainLoss = (parameterVersion, value)
        return value
    }

    public func testLoss() -> LossValue? {
        if let cached = cachedTestLoss, cached.version == parameterVersion { return cached.value }
        let value = testCount > 0 ? (specialized({ $0.fullSetLoss(test: true) }, { $0.fullSetLoss(test: true) }) ?? fullSetLoss(test: true)) : nil
        cachedTestLoss = (parameterVersion, value)
        return value
    }

    func fullSetLoss(test: Bool) -> LossValue {
        test ? meanSquaredError(inputs: testInputs.baseAddress!, targets: testTargets.baseAddress!, count: testCount)
             : meanSquaredError(inputs: trainInputs.baseAddress!, targets: trainTargets.baseAddress!, count: trainCount)
    }

    /// Runs `body` on this trainer as the concrete `Trainer<Float>` or `Trainer<Double>`. A hook
    /// reaches the trainer through `TrainerAccess`, whose witnesses are this class's unspecialised
    /// generic code: its element-wise loops then go through witness tables (measured: the paper
    /// network's train + test MSE took 0.6 s that way instead of 0.09 s). A call on the concrete
    /// type is compiled for that type. Inside the specialised trainer the test folds to one branch.
    @inline(__always)
    private func specialized<R>(_ float: (Trainer<Float>) -> R, _ double: (Trainer<Double>) -> R) -> R? {
        if Scalar.self == Float.self { return float(unsafeDowncast(self, to: Trainer<Float>.self)) }
        if Scalar.self == Double.self { return double(unsafeDowncast(self, to: Trainer<Double>.self)) }
        return nil
    }

    /// Forward passes over `count` samples in chunks; per-row sums in double precision, added in row
    /// order (independent of the chunking and of the thread count).
    func meanSquaredError(inputs: UnsafePointer<Scalar>, targets: UnsafePointer<Scalar>, count: Int) -> LossValue {
        withBLASThreads(options.threads) { meanSquaredErrorWithBLASThreadsSet(inputs: inputs, targets: targets, count: count) }
    }

    private func meanSquaredErrorWithBLASThreadsSet(inputs: UnsafePointer<Scalar>, targets: UnsafePointer<Scalar>, count: Int) -> LossValue {
        let d = layout.inputWidth, p = layout.outputWidth
        let threads = options.threads
        let weights = UnsafePointer(outputVariances.baseAddress!)
        var sum = 0.0, weightedSum = 0.0
        var start = 0
        while start < count {
            let rows = min(workspace.rows, count - start)
            network.forward(inputs + start * d, rows: rows, workspace: workspace, threads: threads)
            let out = UnsafePointer(workspace.output), rowSums = workspace.rowSums, weighted = workspace.weightedRowSums
            let y = targets + start * p
            ParallelWork.forEachRange(count: rows, threads: threads, grain: max(1, ParallelWork.elementGrain / p)) { range in
                for r in range {
                    (rowSums[r], weighted[r]) = Kernels.squaredErrors(a: out + r * p, y: y + r * p, weights: weights, count: p)
                }
            }
            for r in 0..<rows { sum += rowSums[r]; weightedSum += weighted[r] }
            start += rows
        }
        let n = Double(count) * Double(p)
        return LossValue(scaled: sum / n, physical: weightedSum / n)
    }

    /// Network outputs (scaled units) for `count` scaled inputs.
    public func predictScaled(_ inputs: [Scalar], count: Int) -> [Scalar] {
        network.predict(inputs, rows: count, threads: options.threads)
    }

    // MARK: Full-batch access (second-order phases of the acceleration study)

    /// The training MSE L (scaled units, the trainer's loss) of the current parameters and its
    /// gradient ∂L/∂θ over the whole training set, in float64 (layout of `network.parameters`).
    ///
    /// The set is processed in chunks of the batch size (the backward work space holds one batch):
    /// each chunk's gradient is that of its own mean, so the full gradient is Σ_c (rows_c / N) ∇L_c.
    /// One call costs one forward and one backward pass over the training set, as an epoch without
    /// its optimizer steps. Does not change the parameters, the optimizer or the history.
    public func fullBatchLossAndGradient(into total: UnsafeMutableBufferPointer<Double>) -> Double {
        precondition(total.count == layout.parameterCount, "fullBatchLossAndGradient: \(total.count) values for \(layout.parameterCount) parameters")
        // Through the concrete type, as the losses (see `specialized`): the accumulation is 2.9 M
        // element-wise operations per chunk for the paper network.
        return specialized({ $0.fullBatchLossAndGradientUnspecialized(into: total) }, { $0.fullBatchLossAndGradientUnspecialized(into: total) })
            ?? fullBatchLossAndGradientUnspecialized(into: total)
    }

    func fullBatchLossAndGradientUnspecialized(into total: UnsafeMutableBufferPointer<Double>) -> Double {
        withBLASThreads(options.threads) {
            let d = layout.inputWidth, p = layout.outputWidth, threads = options.threads
            total.update(repeating: 0)
            var sum = 0.0
            var begin = 0
            let chunk = workspace.deltaRows
            while begin < trainCount {
                let rows = min(chunk, trainCount - begin)
                (workspace.input).update(from: trainInputs.baseAddress! + begin * d, count: rows * d)
                network.forward(workspace.input, rows: rows, workspace: workspace, threads: threads)
                let base = begin, y = UnsafePointer(trainTargets.baseAddress!)
                let sums = network.setMeanSquaredErrorDelta(rows: rows, workspace: workspace, threads: threads,
                                                            weights: outputVariances.baseAddress!) { r in y + (base + r) * p }
                sum += sums.plain
                network.backward(workspace.input, rows: rows, workspace: workspace, gradient: gradient.baseAddress!, threads: threads)
                let weight = Double(rows) / Double(trainCount)
                for i in 0..<total.count { total[i] += weight * Double(gradient[i]) }
                begin += rows
            }
            return sum / (Double(trainCount) * Double(p))
        }
    }

    /// All parameters as one float64 vector (layer 0 first, as `network.parameters`).
    public func parameterVector() -> [Double] {
        specialized({ $0.network.parameters.map { Double($0) } }, { Array($0.network.parameters) }) ?? network.parameters.map { Double($0) }
    }

    /// Replaces all parameters (rounded to the network's precision); marks the cached losses stale.
    public func assignParameterVector(_ values: [Double]) {
        precondition(values.count == network.parameters.count, "assignParameterVector: \(values.count) values for \(network.parameters.count) parameters")
        if specialized({ t in for i in 0..<values.count { t.network.parameters[i] = Float(values[i]) } },
                       { t in _ = t.network.parameters.update(fromContentsOf: values) }) == nil {
            for i in 0..<values.count { network.parameters[i] = Scalar(values[i]) }
        }
        parameterVersion += 1
    }

    // MARK: TrainerAccess

    public func readParameters<R>(ofLayer layer: Int, _ body: (ParameterBuffer) throws -> R) rethrows -> R {
        try body(Scalar.parameterBuffer(network.layerParameters(layer)))
    }

    public func modifyParameters<R>(ofLayer layer: Int, _ body: (ParameterBuffer) throws -> R) rethrows -> R {
        parameterVersion += 1
        return try body(Scalar.parameterBuffer(network.layerParameters(layer)))
    }

    public func copyParameters(ofLayer layer: Int, into destination: UnsafeMutableBufferPointer<Double>) {
        let source = network.layerParameters(layer)
        precondition(destination.count == source.count, "copyParameters: layer \(layer) has \(source.count) parameters, destination \(destination.count)")
        for i in 0..<source.count { destination[i] = Double(source[i]) }
    }

    public func assignParameters(ofLayer layer: Int, from source: UnsafeBufferPointer<Double>) {
        let destination = network.layerParameters(layer)
        precondition(destination.count == source.count, "assignParameters: layer \(layer) has \(destination.count) parameters, source \(source.count)")
        for i in 0..<source.count { destination[i] = Scalar(source[i]) }
        parameterVersion += 1
    }

    public func resetOptimizerMoments(ofLayer layer: Int) {
        if specialized({ $0.optimizer.resetMoments(ofLayer: layer) }, { $0.optimizer.resetMoments(ofLayer: layer) }) == nil {
            optimizer.resetMoments(ofLayer: layer)
        }
    }

    // MARK: Checkpoint state

    /// Puts the trainer back into a saved state (see `TrainingCheckpoint`).
    func restore(completedEpochs: Int, optimizerSteps: Int, stepCounts: [Int], parameters: [Scalar],
                 firstMoments: [Scalar], secondMoments: [Scalar], history: TrainingHistory) throws {
        let n = layout.parameterCount
        guard parameters.count == n, firstMoments.count == n, secondMoments.count == n, stepCounts.count == layout.layerCount else {
            throw NetworkError("checkpoint arrays do not match the network \(layout) (\(n) parameters)")
        }
        _ = network.parameters.update(fromContentsOf: parameters)
        _ = optimizer.firstMoments.update(fromContentsOf: firstMoments)
        _ = optimizer.secondMoments.update(fromContentsOf: secondMoments)
        optimizer.stepCounts = stepCounts
        self.completedEpochs = completedEpochs
        self.optimizerSteps = optimizerSteps
        let columns = self.history.extraColumns
        guard history.extraColumns == columns else {
            throw NetworkError("checkpoint history has columns \(history.extraColumns), this run records \(columns)")
        }
        self.history = history
        wallSecondsBefore = history.rows.last?.wallSeconds ?? 0
        parameterVersion += 1
    }
}

