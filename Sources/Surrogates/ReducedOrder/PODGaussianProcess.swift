import Foundation
import NumericalFoundations

/// How a POD-GP model is fitted.
public struct PODGaussianProcessOptions: Codable, Equatable, Sendable {
    /// POD energy tolerance (see `ProperOrthogonalDecomposition`).
    public var energyTolerance: Double
    /// Cap on the number of modes r (and so of GPs).
    public var maxRank: Int?
    /// Options of every coefficient's GP; GP k uses stream `gaussianProcess.stream + k` of the seed,
    /// so each coefficient has its own independent starting points.
    public var gaussianProcess: GaussianProcessOptions
    /// GPs fitted side by side (each with OpenBLAS on one thread).
    public var threads: Int
    /// The leading coefficients whose GPs are also conditioned on the projected gradients passed to
    /// `fit` (`GradientEnhancedGaussianProcess`, hyper-parameters from the plain fit); 0 = none.
    public var gradientModes: Int = 0
    /// When set and smaller than the sample count: each GP's hyper-parameters maximise the likelihood
    /// of this many samples (a seeded subset, stream 1000 of `gaussianProcess.seed`), and the GP is then
    /// conditioned on all of them (one Cholesky factorisation). The optimisation costs O(n³) per
    /// likelihood evaluation; this bounds it while the predictions still use every sample.
    public var hyperparameterSampleLimit: Int?
    /// Hyper-parameters to condition with instead of fitting: mode k < count takes entry k as they are
    /// (in the standardised units of its own coefficient), the later modes are fitted. A design study
    /// holds them at the initial design's so that only the samples differ between its rounds.
    public var heldHyperparameters: [GaussianProcessHyperparameters]? = nil

    public init(energyTolerance: Double = 1e-4, maxRank: Int? = 30, gaussianProcess: GaussianProcessOptions = GaussianProcessOptions(),
                threads: Int = 2, hyperparameterSampleLimit: Int? = nil) {
        self.energyTolerance = energyTolerance; self.maxRank = maxRank; self.gaussianProcess = gaussianProcess; self.threads = threads
        self.hyperparameterSampleLimit = hyperparameterSampleLimit
    }
}

/// Timings and diagnostics of a POD-GP fit (the library prints nothing).
public struct PODGaussianProcessFitReport: Sendable {
    public var podSeconds: Double
    /// Wall seconds of each coefficient's GP fit (restarts included), index = coefficient.
    public var gaussianProcessSeconds: [Double]
    /// nil for a mode conditioned with held hyper-parameters (nothing was optimised).
    public var gaussianProcessReports: [GaussianProcessFitReport?]
    public var totalSeconds: Double
}

/// POD-GP (Guo & Hesthaven, "Reduced order modeling for nonlinear structural analysis using
/// Gaussian process regression", CMAME 341 (2018) 807–826): the training fields are reduced by
/// POD to r coefficients, and each coefficient c_k(μ) is regressed on the parameters by its own
/// Gaussian process (GP prediction and training as in R&W eqs. 2.25–2.26, 2.30, 5.9).
///
/// Prediction: the mean field ȳ + Σ_k Φ_{·k} E[c_k(μ)], and, treating the coefficients as
/// independent, the pointwise variance var y_p = Σ_k Φ_pk² var c_k(μ). This variance does not
/// include the POD truncation error (the discarded energy, `pod.capturedEnergyFraction`).
///
/// Units: inputs must already be scaled to [−1, 1] by the caller; outputs are whatever the caller
/// passes (e.g. transformed and standardised c3) and predictions come back in those units — the
/// caller inverts its own transform. Each GP standardises its coefficient internally.
public struct PODGaussianProcess: Sendable {
    public let pod: ProperOrthogonalDecomposition
    /// One GP per retained coefficient, index = coefficient.
    public let processes: [GaussianProcessRegressor]
    public let inputDimension: Int
    public let trainingSamples: Int
    public let options: PODGaussianProcessOptions?
    /// Set by `fit`, nil after `load`.
    public let fitReport: PODGaussianProcessFitReport?
    /// The gradient-enhanced GPs of the leading coefficients (their means replace the plain GPs').
    public let gradientEnhanced: [GradientEnhancedGaussianProcess]
    /// With the scale/shape split (c3 = e^g · s, ‖s‖ = 1): the GP of g(θ) = log‖c3‖, the POD then
    /// being of the (transformed) shapes s; nil when the POD is of the fields themselves.
    public let scaleProcess: GaussianProcessRegressor?

    public var rank: Int { pod.rank }
    public var pointCount: Int { pod.pointCount }

    public init(pod: ProperOrthogonalDecomposition, processes: [GaussianProcessRegressor], options: PODGaussianProcessOptions? = nil,
                fitReport: PODGaussianProcessFitReport? = nil, gradientEnhanced: [GradientEnhancedGaussianProcess] = [],
                scaleProcess: GaussianProcessRegressor? = nil) throws {
        guard gradientEnhanced.count <= processes.count else {
            throw ReducedOrderModelError.shapeMismatch("\(gradientEnhanced.count) gradient-enhanced GPs for \(processes.count) coefficients")
        }
        self.gradientEnhanced = gradientEnhanced
        guard processes.count == pod.rank, let first = processes.first else {
            throw ReducedOrderModelError.shapeMismatch("\(processes.count) GPs for a POD of rank \(pod.rank)")
        }
        guard processes.allSatisfy({ $0.dimension == first.dimension && $0.count == first.count }) else {
            throw ReducedOrderModelError.shapeMismatch("the coefficient GPs differ in input dimension or training count")
        }
        if let scaleProcess, scaleProcess.dimension != first.dimension || scaleProcess.count != first.count {
            throw ReducedOrderModelError.shapeMismatch("the scale GP has \(scaleProcess.count) samples of \(scaleProcess.dimension) inputs, the coefficient GPs \(first.count) of \(first.dimension)")
        }
        guard scaleProcess == nil || gradientEnhanced.isEmpty else {
            throw ReducedOrderModelError.invalidOption("gradient-enhanced modes and the scale/shape split do not combine (the projected gradients are of the fields, not the shapes)")
        }
        self.pod = pod; self.processes = processes; self.inputDimension = first.dimension
        self.trainingSamples = first.count; self.options = options; self.fitReport = fitReport; self.scaleProcess = scaleProcess
    }

    /// Fits POD + one GP per coefficient to `count` samples: `inputs` count × d (scaled to [−1, 1]),
    /// `outputs` count × P (row-major). The GPs run on `options.threads` threads, BLAS single-threaded.
    /// `progress(done, total)` is called (from the worker threads) as each mode's GP is fitted: a fit of
    /// the paper's dataset takes minutes, and the caller decides how to show it. With `scales` (one
    /// g = log‖c3‖ per sample, `outputs` then being the shapes) one more GP is fitted to them, with
    /// the coefficients' options on stream `scaleStream`.
    public static func fit(inputs: [Double], outputs: [Double], count: Int,
                           options: PODGaussianProcessOptions = PODGaussianProcessOptions(), jacobians: FieldJacobians? = nil,
                           scales: [Double]? = nil,
                           progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil) throws -> PODGaussianProcess {
        let start = monotonicSeconds()
        guard count >= 2, inputs.count % count == 0, outputs.count % count == 0, !inputs.isEmpty, !outputs.isEmpty else {
            throw ReducedOrderModelError.shapeMismatch("POD-GP needs ≥ 2 samples with inputs and outputs a whole number of rows each; got \(count) samples, \(inputs.count) input and \(outputs.count) output values")
        }
        guard options.threads >= 1 else { throw ReducedOrderModelError.invalidOption("POD-GP threads must be at least 1, got \(options.threads)") }
        try options.gaussianProcess.validate()
        let d = inputs.count / count, p = outputs.count / count
        try requireMatrix(inputs, rows: count, columns: d, name: "the POD-GP training inputs")
        let pod = try ProperOrthogonalDecomposition(fields: outputs, count: count, pointCount: p,
                                                    energyTolerance: options.energyTolerance, maxRank: options.maxRank)
        let coefficients = try pod.coefficients(of: outputs, count: count)
        let podSeconds = monotonicSeconds() - start
        let r = pod.rank
        if let scales {
            guard scales.count == count, scales.allSatisfy({ $0.isFinite }) else {
                throw ReducedOrderModelError.shapeMismatch("the scale/shape split needs one finite log norm per sample: \(scales.count) for \(count) samples")
            }
            guard jacobians == nil || options.gradientModes == 0 else {
                throw ReducedOrderModelError.invalidOption("gradient-enhanced modes and the scale/shape split do not combine (the projected gradients are of the fields, not the shapes)")
            }
        }
        // The modes' GPs, then (item r) the scale's.
        let items = r + (scales == nil ? 0 : 1)
        let subset = hyperparameterSubset(count: count, options: options)
        let subsetInputs = subset.map { rows in rows.flatMap { inputs[($0 * d)..<(($0 + 1) * d)] } }
        var finished = 0
        var results = [Result<(fitted: GaussianProcessRegressor, conditioned: GaussianProcessRegressor), Error>?](repeating: nil, count: items)
        var seconds = [Double](repeating: 0, count: items)
        let lock = NSLock()
        Lapack.withSingleThreadedBLAS {
            // The modes on a shared queue: their fits differ in cost (restarts, convergence).
            ParallelWork.forEachItem(count: items, threads: options.threads) { k in
                let t0 = monotonicSeconds()
                let targets = k < r ? (0..<count).map { coefficients[$0 * r + k] } : scales!
                var gpOptions = options.gaussianProcess
                gpOptions.stream = k < r ? options.gaussianProcess.stream &+ UInt64(k) : scaleStream
                let result = Result { () throws -> (fitted: GaussianProcessRegressor, conditioned: GaussianProcessRegressor) in
                    if k < r, let held = options.heldHyperparameters, k < held.count {
                        let gp = try GaussianProcessRegressor(inputs: inputs, targets: targets, count: count, dimension: d, kernel: gpOptions.kernel,
                                                              hyperparameters: held[k], standardizeTargets: gpOptions.standardizeTargets,
                                                              priorMean: gpOptions.priorMean)
                        return (gp, gp)
                    }
                    guard let subset, let subsetInputs else {
                        let gp = try GaussianProcessRegressor.fit(inputs: inputs, targets: targets, count: count, dimension: d, options: gpOptions)
                        return (gp, gp)
                    }
                    let fitted = try GaussianProcessRegressor.fit(inputs: subsetInputs, targets: subset.map { targets[$0] }, count: subset.count,
                                                                  dimension: d, options: gpOptions)
                    let all = try GaussianProcessRegressor(inputs: inputs, targets: targets, count: count, dimension: d, kernel: fitted.kernel,
                                                           hyperparameters: fitted.hyperparameters, standardizeTargets: gpOptions.standardizeTargets,
                                                           priorMean: gpOptions.priorMean)
                    return (fitted, all)
                }
                let elapsed = monotonicSeconds() - t0
                lock.lock()
                results[k] = result
                seconds[k] = elapsed
                finished += 1
                let done = finished
                lock.unlock()
                progress?(done, items)
            }
        }
        var processes: [GaussianProcessRegressor] = [], reports: [GaussianProcessFitReport?] = []
        for (k, result) in results.enumerated() {
            switch result! {
            case .success(let gp): processes.append(gp.conditioned); reports.append(gp.fitted.fitReport)
            case .failure(let error):
                throw ReducedOrderModelError.numericalFailure(k < r ? "the GP of POD coefficient \(k) could not be fitted: \(error)"
                                                                    : "the GP of the scale log‖c3‖ could not be fitted: \(error)")
            }
        }
        let scaleProcess = scales == nil ? nil : processes.removeLast()
        var report = PODGaussianProcessFitReport(podSeconds: podSeconds, gaussianProcessSeconds: seconds,
                                                 gaussianProcessReports: reports,
                                                 totalSeconds: monotonicSeconds() - start)
        let enhanced = try fitGradientEnhanced(processes, pod: pod, coefficients: coefficients, jacobians: jacobians, count: count,
                                               inputWidth: d, options: options)
        report.totalSeconds = monotonicSeconds() - start
        return try PODGaussianProcess(pod: pod, processes: processes, options: options, fitReport: report, gradientEnhanced: enhanced,
                                      scaleProcess: scaleProcess)
    }

    /// The random stream of the scale GP's optimiser starts (the modes use `stream + k`, k < rank ≤ 1000).
    static let scaleStream: UInt64 = 2000

    /// The scale GP's predictive mean and variance of g = log‖c3‖ at `count` inputs (nil without the split).
    public func predictScale(inputs: [Double], count: Int, includeNoise: Bool = true, meanOnly: Bool = false) throws -> (mean: [Double], variance: [Double])? {
        guard let scaleProcess else { return nil }
        try requireMatrix(inputs, rows: count, columns: inputDimension, name: "the POD-GP prediction inputs")
        return try scaleProcess.predict(inputs: inputs, count: count, includeNoise: includeNoise, meanOnly: meanOnly)
    }

    /// The gradient-enhanced GPs of the leading `options.gradientModes` coefficients, from the plain
    /// GPs' hyper-parameters, in parallel over the modes (each factorisation single-threaded).
    static func fitGradientEnhanced(_ processes: [GaussianProcessRegressor], pod: ProperOrthogonalDecomposition, coefficients: [Double],
                                    jacobians: FieldJacobians?, count: Int, inputWidth d: Int,
                                    options: PODGaussianProcessOptions) throws -> [GradientEnhancedGaussianProcess] {
        let m = min(options.gradientModes, pod.rank), r = pod.rank
        guard m > 0 else { return [] }
        guard let jacobians else {
            throw ReducedOrderModelError.invalidOption("POD-GP: \(options.gradientModes) gradient-enhanced modes need the training fields' Jacobians")
        }
        let projected = try pod.projectedJacobians(jacobians, count: count, inputWidth: d)
        var results = [Result<GradientEnhancedGaussianProcess, Error>?](repeating: nil, count: m)
        let lock = NSLock()
        Lapack.withSingleThreadedBLAS {
            ParallelWork.forEachItem(count: m, threads: options.threads) { k in
                let targets = (0..<count).map { coefficients[$0 * r + k] }
                let gradients = (0..<(count * d)).map { projected[(($0 / d) * r + k) * d + $0 % d] }
                let result = Result { try GradientEnhancedGaussianProcess.fit(base: processes[k], targets: targets, gradients: gradients,
                                                                              available: jacobians.available) }
                lock.lock(); results[k] = result; lock.unlock()
            }
        }
        return try results.enumerated().map { k, result in
            do { return try result!.get() } catch {
                throw ReducedOrderModelError.numericalFailure("the gradient-enhanced GP of POD coefficient \(k) could not be fitted: \(error)")
            }
        }
    }

    /// The rows whose likelihood the hyper-parameters maximise (`hyperparameterSampleLimit`), sorted; nil: all.
    static func hyperparameterSubset(count: Int, options: PODGaussianProcessOptions) -> [Int]? {
        guard let limit = options.hyperparameterSampleLimit, limit < count else { return nil }
        var generator = SeededGenerator(seed: options.gaussianProcess.seed, stream: 1000)
        return Array(generator.permutation(count).prefix(max(limit, 2))).sorted()
    }

    /// Predictive means and variances of the r coefficients at `count` inputs (count × r each), the
    /// modes on `threads` threads (each mode single-threaded in BLAS: the same bits for any count).
    public func predictCoefficients(inputs: [Double], count: Int, includeNoise: Bool = true, meanOnly: Bool = false,
                                    threads: Int = 1) throws -> (mean: [Double], variance: [Double]) {
        try requireMatrix(inputs, rows: count, columns: inputDimension, name: "the POD-GP prediction inputs")
        let r = rank
        var columns = [Result<(mean: [Double], variance: [Double]), Error>?](repeating: nil, count: r)
        let lock = NSLock()
        let processes = self.processes, gradientEnhanced = self.gradientEnhanced
        Lapack.withSingleThreadedBLAS {
            ParallelWork.forEachItem(count: r, threads: max(1, threads)) { k in
                let column = Result { () throws -> (mean: [Double], variance: [Double]) in
                    let prediction = try processes[k].predict(inputs: inputs, count: count, includeNoise: includeNoise, meanOnly: meanOnly)
                    let mean = k < gradientEnhanced.count ? try gradientEnhanced[k].predictMean(inputs: inputs, count: count) : prediction.mean
                    return (mean, prediction.variance)
                }
                lock.lock(); columns[k] = column; lock.unlock()
            }
        }
        var mean = [Double](repeating: 0, count: count * r), variance = [Double](repeating: 0, count: count * r)
        for (k, column) in columns.enumerated() {
            let c = try column!.get()
            for i in 0..<count { mean[i * r + k] = c.mean[i]; variance[i * r + k] = c.variance[i] }
        }
        return (mean, variance)
    }

    /// Mean fields and pointwise predictive standard deviations at `count` inputs (count × d, scaled
    /// to [−1, 1]); both count × P row-major, in the units of the training outputs.
    /// `includeNoise` (default true) counts each GP's noise variance σ_n² in var c_k: the part of the
    /// coefficient the GP treats as unexplained.
    public func predict(inputs: [Double], count: Int, includeNoise: Bool = true, threads: Int = 1) throws -> (mean: [Double], standardDeviation: [Double]) {
        let c = try predictCoefficients(inputs: inputs, count: count, includeNoise: includeNoise, threads: threads)
        let mean = try pod.reconstruct(coefficients: c.mean, count: count)
        let p = pointCount, r = rank
        let squaredModes = pod.modes.map { $0 * $0 }
        var variance = [Double](repeating: 0, count: count * p)
        Double.gemm(.none, .transpose, m: count, n: p, k: r, alpha: 1, a: c.variance, lda: r,
                    b: squaredModes, ldb: r, beta: 0, c: &variance, ldc: p)
        return (mean, variance.map { max($0, 0).squareRoot() })
    }

    /// Mean fields only (count × P): the predictions without the n² per point of the variances.
    public func predictMean(inputs: [Double], count: Int, threads: Int = 1) throws -> [Double] {
        let c = try predictCoefficients(inputs: inputs, count: count, meanOnly: true, threads: threads)
        return try pod.reconstruct(coefficients: c.mean, count: count)
    }

    // MARK: Persistence

    public static let kind = "pod-gp"
    static let inputsFile = "gp_inputs.npy"
    static let hyperparametersFile = "gp_hyperparameters.npy"
    static func alphaFile(_ k: Int) -> String { "gp_\(k)_alpha.npy" }
    static func choleskyFile(_ k: Int) -> String { "gp_\(k)_cholesky.npy" }
    static let gradientRowsFile = "gp_gradient_rows.npy"
    static let scaleAlphaFile = "gp_scale_alpha.npy", scaleCholeskyFile = "gp_scale_cholesky.npy"
    static func gradientAlphaFile(_ k: Int) -> String { "gp_\(k)_gradient_alpha.npy" }

    /// Writes the model into `folder` (created if needed), every file atomically: rom.json, the POD
    /// (pod_mean, pod_modes, pod_singular_values), gp_inputs (n × d), gp_hyperparameters (r × (d + 6):
    /// log ℓ_1…log ℓ_d, log σ_f, log σ_n, target mean, target scale, jitter, NLML), and per
    /// coefficient k gp_k_alpha (n) and gp_k_cholesky (n × n, lower); with the scale/shape split the
    /// scale GP as row r of the table and gp_scale_alpha, gp_scale_cholesky. Loading recomputes nothing.
    /// Saved from a loaded model, the factors are read from the files they were loaded from.
    public func save(to folder: URL) throws {
        let d = inputDimension, n = trainingSamples, r = rank
        try ModelFolder.writePOD(pod, in: folder)
        try ModelFolder.write(processes[0].inputs, shape: [n, d], name: Self.inputsFile, in: folder)
        var table = [Double]()
        for gp in processes + (scaleProcess.map { [$0] } ?? []) {
            table += gp.hyperparameters.vector + [gp.targetMean, gp.targetScale, gp.jitter, gp.negativeLogMarginalLikelihood]
        }
        try ModelFolder.write(table, shape: [table.count / (d + 6), d + 6], name: Self.hyperparametersFile, in: folder)
        for (k, gp) in processes.enumerated() {
            try ModelFolder.write(gp.alpha, shape: [n], name: Self.alphaFile(k), in: folder)
            try ModelFolder.write(try gp.factor, shape: [n, n], name: Self.choleskyFile(k), in: folder)
        }
        if let scaleProcess {
            try ModelFolder.write(scaleProcess.alpha, shape: [n], name: Self.scaleAlphaFile, in: folder)
            try ModelFolder.write(try scaleProcess.factor, shape: [n, n], name: Self.scaleCholeskyFile, in: folder)
        }
        if let first = gradientEnhanced.first {
            try ModelFolder.write(first.gradientRows.map(Double.init), shape: [first.gradientRows.count], name: Self.gradientRowsFile, in: folder)
            for (k, g) in gradientEnhanced.enumerated() {
                try ModelFolder.write(g.alpha, shape: [g.alpha.count], name: Self.gradientAlphaFile(k), in: folder)
            }
        }
        func summary(_ gp: GaussianProcessRegressor, seconds: Double?) -> GaussianProcessSummary {
            GaussianProcessSummary(lengthScales: gp.hyperparameters.lengthScales,
                                   signalStandardDeviation: Foundation.exp(gp.hyperparameters.logSignalStandardDeviation),
                                   noiseStandardDeviation: Foundation.exp(gp.hyperparameters.logNoiseStandardDeviation),
                                   targetMean: gp.targetMean, targetScale: gp.targetScale, jitter: gp.jitter,
                                   negativeLogMarginalLikelihood: gp.negativeLogMarginalLikelihood, fitSeconds: seconds)
        }
        let summaries = processes.enumerated().map { k, gp in summary(gp, seconds: fitReport?.gaussianProcessSeconds[k]) }
        let description = ReducedOrderModelDescription(
            kind: Self.kind, version: ReducedOrderModelDescription.currentVersion, inputDimension: d, pointCount: pointCount,
            trainingSamples: n, rank: r, energyTolerance: pod.energyTolerance, maxRank: options?.maxRank,
            singularValueCount: pod.singularValues.count, kernel: processes[0].kernel, gaussianProcesses: summaries,
            network: nil, coefficientScaling: nil, training: nil,
            gradientEnhancedModes: gradientEnhanced.isEmpty ? nil : gradientEnhanced.count, gradientSamples: gradientEnhanced.first?.gradientRows.count,
            scaleProcess: scaleProcess.map { summary($0, seconds: fitReport?.gaussianProcessSeconds.last) })
        try ModelFolder.writeDescription(description, to: folder)
    }

    /// Reads a folder written by `save(to:)`, checking every array's shape against rom.json. The
    /// Cholesky factors stay in their files until a variance needs them (`CholeskyFactor`).
    public static func load(from folder: URL) throws -> PODGaussianProcess {
        let description = try ModelFolder.readDescription(from: folder, kind: kind)
        let jsonPath = folder.appendingPathComponent(ModelFolder.descriptionFile).path
        guard let kernel = description.kernel else {
            throw ReducedOrderModelError.fileProblem(path: jsonPath, message: "a pod-gp description needs a kernel")
        }
        let d = description.inputDimension, n = description.trainingSamples, r = description.rank
        let pod = try ModelFolder.readPOD(description, in: folder)
        let inputs = try ModelFolder.read(inputsFile, shape: [n, d], in: folder)
        let scaled = description.scaleProcess != nil
        let table = try ModelFolder.read(hyperparametersFile, shape: [r + (scaled ? 1 : 0), d + 6], in: folder)
        var processes: [GaussianProcessRegressor] = []
        for k in 0..<(r + (scaled ? 1 : 0)) {
            let row = Array(table[(k * (d + 6))..<((k + 1) * (d + 6))])
            do {
                processes.append(try GaussianProcessRegressor(
                    kernel: kernel, inputs: inputs, count: n, dimension: d,
                    hyperparameters: GaussianProcessHyperparameters(vector: Array(row.prefix(d + 2))),
                    targetMean: row[d + 2], targetScale: row[d + 3],
                    alpha: ModelFolder.read(k < r ? alphaFile(k) : scaleAlphaFile, shape: [n], in: folder),
                    factor: CholeskyFactor(file: folder.appendingPathComponent(k < r ? choleskyFile(k) : scaleCholeskyFile), order: n),
                    jitter: row[d + 4], negativeLogMarginalLikelihood: row[d + 5]))
            } catch let error as ReducedOrderModelError {
                if case .fileProblem = error { throw error }
                throw ReducedOrderModelError.fileProblem(path: folder.appendingPathComponent(hyperparametersFile).path,
                                                         message: "row \(k) does not describe a valid GP: \(error)")
            }
        }
        var enhanced: [GradientEnhancedGaussianProcess] = []
        if let m = description.gradientEnhancedModes, m > 0, let g = description.gradientSamples {
            let rows = try ModelFolder.read(gradientRowsFile, shape: [g], in: folder).map { Int($0) }
            for k in 0..<min(m, r) {
                do {
                    enhanced.append(try GradientEnhancedGaussianProcess(base: processes[k], gradientRows: rows,
                                                                        alpha: ModelFolder.read(gradientAlphaFile(k), shape: [n + g * d], in: folder)))
                } catch let error as ReducedOrderModelError {
                    if case .fileProblem = error { throw error }
                    throw ReducedOrderModelError.fileProblem(path: folder.appendingPathComponent(gradientRowsFile).path, message: "\(error)")
                }
            }
        }
        let scaleProcess = scaled ? processes.removeLast() : nil
        return try PODGaussianProcess(pod: pod, processes: processes, gradientEnhanced: enhanced, scaleProcess: scaleProcess)
    }
}
