import Foundation
import NumericalFoundations
import PDE
import Surrogates

/// One round of the refine loop: solve its points, refit, score, choose the next batch.
extension RefineLoop {
    static func runRound(_ r: Int, context: Context, acquired: inout Acquired, reporter: ProgressReporter) throws -> RefineRound {
        let started = monotonicSeconds()
        let run = context.run, settings = context.settings
        var record = StageRecord(stage: "train-dmd refine", config: context.config, seed: settings.seed)
        for url in context.base.files { try record.input(url) }
        record.input(try Provenance.inputFile(run.settings))
        var timings = RefineTimings()
        try FileManager.default.createDirectory(at: run.round(r), withIntermediateDirectories: true)
        if r == 0 {
            let url = run.file(DataLayout.RefineRun.baseRowsFile, round: 0)
            try Npy.write(context.initialRows.map { Int64($0) }, shape: [context.initialRows.count], to: url)
            record.output(url)
        } else {
            try loadAcquired(round: r, context: context, into: &acquired, withResults: false)
            let t0 = monotonicSeconds()
            let results = try solvedRound(r, context: context, parameters: Array(acquired.parameters.suffix(batchSize(round: r, settings) * 6)),
                                          reporter: reporter, record: &record)
            acquired.c3 += results.c3; acquired.status += results.status
            timings.fem = monotonicSeconds() - t0
        }
        let (dataset, trainingRows) = try combinedDataset(context, acquired)
        let prepared = try SurrogateFitStage.prepare(config: context.config, dataset: dataset, inputScaler: context.inputScaler, trainingRows: trainingRows)
        let heldURL = run.file(RefineHyperparameters.file, round: 0)
        var held: [GaussianProcessHyperparameters]?
        if r > 0, settings.hyperparameterPolicy == .initialDesign {
            held = try RefineHyperparameters.read(from: heldURL)
            record.input(try Provenance.inputFile(heldURL))
        }
        let (scores, testErrors, model) = try fitAndScore(prepared, context: context, heldHyperparameters: held, timings: &timings)
        for (name, errors) in testErrors.sorted(by: { $0.key < $1.key }) {
            let url = run.file(DataLayout.RefineRun.testErrorsFile(name), round: r)
            try Npy.write(errors, shape: [errors.count], to: url)
            record.output(url)
        }
        if r == 0, settings.hyperparameterPolicy == .initialDesign {
            try RefineHyperparameters.write(model.gp.processes.map(\.hyperparameters), to: heldURL)
            record.output(heldURL)
        }
        var evaluation = RefineEvaluation(round: r, trainingSolves: settings.initialSize + acquired.solves, trainingSamples: trainingRows.count,
                                          scores: scores, acquisitionFirst: nil, acquisitionLast: nil,
                                          podGP: FittedHyperparameters(model.surrogate))
        if r + 1 < roundCount(settings) {
            let t0 = monotonicSeconds()
            let values = try selectNext(round: r + 1, conditioned: model, prepared: prepared, context: context, acquired: acquired, record: &record)
            evaluation.acquisitionFirst = values.first; evaluation.acquisitionLast = values.last
            timings.acquisition = monotonicSeconds() - t0
        }
        timings.total = monotonicSeconds() - started
        let evaluationURL = run.file(DataLayout.RefineRun.evaluationFile, round: r), timingsURL = run.file(DataLayout.RefineRun.timingsFile, round: r)
        try AtomicFile.writeJSON(evaluation, to: evaluationURL)
        try AtomicFile.writeJSON(timings, to: timingsURL)
        record.output(evaluationURL)
        record.output(timingsURL)
        record.detail("round", JSONValue(r))
        record.detail("threads", JSONValue(context.threads))
        try record.finish(manifestAt: run.manifest(round: r))
        return RefineRound(evaluation: evaluation, timings: timings)
    }

    /// A finished round whose FEM results were left out of a ledger (`RefineStudy.exportLedger`): its
    /// points solved again, checked against the SHA-256 the ledger recorded.
    static func restoreRound(_ r: Int, context: Context) throws {
        let run = context.run, k = batchSize(round: r, context.settings)
        guard FileManager.default.fileExists(atPath: run.file(RefineStudy.roundDigestsFile, round: r).path) else {
            throw StageError("refine: \(run.round(r).path) is finished (its manifest exists) but \(DataLayout.FEM.c3File) is missing, and no "
                             + "\(RefineStudy.roundDigestsFile) records what solving its points again must give; delete the round to redo it")
        }
        let params = try Npy.read(Double.self, from: run.file(DataLayout.RefineRun.paramsFile, round: r), expectedShape: [k, 6])
        context.notice("refine: round \(r): solving its \(k) points again (imported without FEM results)")
        var scratch = StageRecord(stage: "train-dmd refine", config: context.config, seed: context.settings.seed)
        _ = try solvedRound(r, context: context, parameters: params.values, reporter: ProgressReporter("refine restore round \(r)", total: k),
                            record: &scratch)
    }

    /// When the round came from a ledger, its FEM results must be the recorded ones, bit for bit: else
    /// this machine's FEM differs from the ledger's, and continuing would mix two studies.
    static func checkRecordedResults(round r: Int, run: DataLayout.RefineRun) throws {
        let url = run.file(RefineStudy.roundDigestsFile, round: r)
        guard let data = try? Data(contentsOf: url) else { return }
        guard let recorded = try? JSONDecoder().decode([String: String].self, from: data) else {
            throw StageError("refine: \(url.path) is damaged: expected {file name: SHA-256}")
        }
        for (name, sha) in recorded.sorted(by: { $0.key < $1.key }) {
            let file = run.file(name, round: r)
            let now = FileManager.default.fileExists(atPath: file.path) ? try SHA256Digest.hex(ofFile: file) : "missing"
            if now != sha {
                for left in RefineStudy.leftOutFiles { try? FileManager.default.removeItem(at: run.file(left, round: r)) }
                throw StageError("refine: \(file.path) solved again has SHA-256 \(now.prefix(12))…, the ledger recorded \(sha.prefix(12))… "
                                 + "(\(url.path)): this machine's FEM does not reproduce the imported round; continue the study where it was made")
            }
        }
    }

    /// Round r's FEM results: read when an earlier run wrote them, else solved (`BatchRunner`, resuming
    /// from its chunks) and written. Each point's wind profile is solved in-process.
    static func solvedRound(_ r: Int, context: Context, parameters: [Double], reporter: ProgressReporter,
                            record: inout StageRecord) throws -> (c3: [Double], status: [Int32]) {
        let run = context.run, config = context.config, k = parameters.count / 6
        let c3URL = run.file(DataLayout.FEM.c3File, round: r), statusURL = run.file(DataLayout.FEM.statusFile, round: r)
        let paramsURL = run.file(DataLayout.RefineRun.paramsFile, round: r)
        record.input(try Provenance.inputFile(paramsURL))
        if FileManager.default.fileExists(atPath: c3URL.path), FileManager.default.fileExists(atPath: statusURL.path) {
            let c3 = try Npy.read(Double.self, from: c3URL, expectedShape: [k, context.base.observationWidth])
            let status = try Npy.read(Int32.self, from: statusURL, expectedShape: [k])
            record.output(c3URL); record.output(statusURL)
            return (c3.values, status.values)
        }
        let points = try (0..<k).map { try PollutantParameters(row: parameters[($0 * 6)..<(($0 + 1) * 6)]) }
        var windStatus = [WindStatus](repeating: .notConverged, count: k)
        var profiles = [BlasiusProfile?](repeating: nil, count: k)
        let options = InProcessWind.Options(config.wind)
        let lock = NSLock()
        ParallelWork.forEachItem(count: k, threads: max(1, config.fem.threads)) { i in
            let outcome = try? InProcessWind.profile(for: points[i], options: options)
            lock.lock()
            if let outcome { windStatus[i] = outcome.status; profiles[i] = outcome.profile }
            lock.unlock()
        }
        let inputs = BatchInputs(parameters: points, windStatus: windStatus, profiles: profiles)
        let fingerprint = PollutantStage.fingerprint(config: config, inputs: [try Provenance.inputFile(paramsURL)])
        let discretization = try PollutantDiscretization(settings: config.fem)
        let checkpoints = run.checkpoints(round: r)
        let result = try BatchRunner.run(inputs: inputs, discretization: discretization, settings: BatchSettings(fem: config.fem, wind: config.wind),
                                         range: 0..<k, checkpoints: checkpoints, fingerprint: fingerprint, stop: context.stop,
                                         progress: { _ in reporter.advance() }, log: context.notice)
        if let sensitivities = result.sensitivities {
            let url = run.file(DataLayout.FEM.sensitivitiesFile, round: r)
            try Npy.write(sensitivities, shape: [k, result.pointCount, SensitivityFile.parameterCount], to: url)
            record.output(url)
        }
        try Npy.write(result.c3, shape: [k, result.pointCount], to: c3URL)
        try Npy.write(result.statusCodes, shape: [k], to: statusURL)
        try checkRecordedResults(round: r, run: run)
        record.output(c3URL); record.output(statusURL)
        try? FileManager.default.removeItem(at: checkpoints)
        let failed = result.statusCodes.filter { $0 != 0 }.count
        if failed > 0 { context.notice("refine: round \(r): \(failed) of \(k) acquired points have no FEM solution (counted as spent solves)") }
        return (result.c3, result.statusCodes)
    }

    /// The LHS data set with the acquired points appended (split 0); the training rows are the initial
    /// subset and the solved acquired points, the test rows the LHS test split's.
    static func combinedDataset(_ c: Context, _ a: Acquired) throws -> (dataset: SurrogateDataset, trainingRows: [Int]) {
        let b = c.base
        let dataset = try SurrogateDataset(parameters: b.parameters + a.parameters, parameterWidth: b.parameterWidth,
                                           split: b.split + [UInt8](repeating: 0, count: a.solves), observations: b.observations + a.c3,
                                           observationWidth: b.observationWidth, status: b.status + a.status, inputScaler: c.inputScaler,
                                           parameterNames: PollutantParameters.names)
        let acquiredRows = (0..<a.solves).filter { a.status[$0] == 0 }.map { b.sampleCount + $0 }
        return (dataset, c.initialRows + acquiredRows)
    }

    /// Fits every model of the run (and POD-GP for the acquisition when it is not among them) and scores it;
    /// POD-GP with `heldHyperparameters` when given (`RefineHyperparameters.initialDesign`), its test
    /// scores those of the model conditioned on every solve under `RefineConditioning.everySolve` (its
    /// validation scores always the fitting rows' model's). Returns the POD-GP conditioned on every
    /// training solve, which the acquisition uses, and each scored model's error on every test sample.
    static func fitAndScore(_ prepared: SurrogateFitStage.Prepared, context: Context, heldHyperparameters: [GaussianProcessHyperparameters]? = nil,
                            timings: inout RefineTimings) throws -> (scores: [RefineScore], testErrors: [String: [Double]], acquisition: ConditionedModel) {
        var names = context.settings.models
        if !names.contains(SurrogateSettings.Model.podGP.rawValue) { names.append(SurrogateSettings.Model.podGP.rawValue) }
        var scores: [RefineScore] = []
        var testErrors: [String: [Double]] = [:]
        var acquisition: ConditionedModel?
        for name in names {
            guard let kind = SurrogateSettings.Model(rawValue: name) else { throw StageError("refine: unknown model \"\(name)\"") }
            let fitted = try SurrogateFitStage.fit(kind, prepared: prepared, config: context.config, threads: context.threads,
                                                   heldHyperparameters: heldHyperparameters)
            timings.fit[name] = fitted.seconds
            var scored = fitted.surrogate
            if kind == .podGP, let rom = fitted.surrogate as? ReducedOrderSurrogate, case .gaussianProcess = rom.model {
                let conditioned = try conditionedOnEverySolve(rom, prepared: prepared, config: context.config, threads: context.threads,
                                                              scoring: context.settings.conditioningPolicy == .everySolve)
                acquisition = conditioned
                if context.settings.conditioningPolicy == .everySolve { scored = conditioned.surrogate }
            }
            guard context.settings.models.contains(name) else { continue }
            let data = prepared.dataset
            let test = try SurrogateFitStage.relativeErrors(scored, rows: data.testIndices, dataset: data, threads: context.threads).errors
            let validation = try SurrogateFitStage.relativeErrors(fitted.surrogate, rows: prepared.validationRows, dataset: data, threads: context.threads).errors
            scores.append(RefineScore(model: name, testMedian: test.median ?? .nan, testP95: test.percentile95 ?? .nan,
                                      validationMedian: validation.median ?? .nan, validationP95: validation.percentile95 ?? .nan))
            testErrors[name] = test.perSample.map { $0 ?? .nan }
        }
        guard let acquisition else { throw StageError("refine: the POD-GP fit gave no Gaussian processes") }
        return (scores, testErrors, acquisition)
    }

    /// A POD-GP conditioned on every training solve, as a model and as a surrogate that predicts with it.
    typealias ConditionedModel = (gp: PODGaussianProcess, surrogate: ReducedOrderSurrogate)

    /// `surrogate`'s POD basis and GP hyper-parameters (from the fitting rows), its GPs conditioned on
    /// every training solve — the validation rows too (`PODGaussianProcess.conditioned`): one Cholesky
    /// factorisation per mode. With `scoring`, a model with gradient-enhanced modes is refused (the
    /// conditioned model would predict without them).
    static func conditionedOnEverySolve(_ surrogate: ReducedOrderSurrogate, prepared: SurrogateFitStage.Prepared, config: PipelineConfig,
                                        threads: Int, scoring: Bool = false) throws -> ConditionedModel {
        guard case .gaussianProcess(let model) = surrogate.model else { throw StageError("refine: the acquisition needs the POD-GP model") }
        if scoring, !model.gradientEnhanced.isEmpty {
            throw StageError("refine: --conditioning every_solve scores POD-GP conditioned without its gradient observations; "
                             + "it does not combine with [surrogate] gp_derivative_modes = \(model.gradientEnhanced.count)")
        }
        let transform = surrogate.description.outputTransform
        let rows = prepared.fitRows + prepared.validationRows
        let inputs = try SurrogateFitStage.scaledInputs(prepared, rows: rows, for: .podGP, config: config)
        let gp: PODGaussianProcess
        if model.scaleProcess != nil {
            let split = try SurrogateFitStage.shapesAndScales(prepared, rows: rows)
            gp = try model.conditioned(inputs: inputs, outputs: split.shapes.map { transform.apply($0) }, count: rows.count, scales: split.scales,
                                       threads: threads)
        } else {
            var outputs = SurrogateFitStage.transformedOutputs(prepared, rows: rows)
            // A multi-fidelity model's GPs learn the discrepancy from the low-fidelity fields.
            let data = prepared.dataset, d = data.parameterWidth
            if let offset = try surrogate.lowFidelityOffset(rows.flatMap { data.parameters[($0 * d)..<(($0 + 1) * d)] }, rows: rows.count,
                                                            threads: threads) {
                for i in outputs.indices { outputs[i] -= offset[i] }
            }
            gp = try model.conditioned(inputs: inputs, outputs: outputs, count: rows.count, threads: threads)
        }
        var description = surrogate.description
        description.trainSamples = rows.count
        let conditioned = try ReducedOrderSurrogate(description: description, model: .gaussianProcess(gp))
        if let source = surrogate.descriptorSource { try conditioned.attachDescriptorSource(source) }
        if let source = surrogate.lowFidelitySource { try conditioned.attachLowFidelitySource(source) }
        return (gp, conditioned)
    }

    /// The pool's unacquired candidates, their POD-GP inputs (scaled parameters and, when
    /// `gp_input_features` includes the wind, its descriptors) and, with `gp_low_fidelity_mesh`, their
    /// low-fidelity fields in the output transform's units (rows × P; the POD-GP's mean is relative to
    /// them). A candidate whose wind has no profile (which the feasibility table let through) or whose
    /// coarse solve fails is left out: the model could not predict there.
    static func candidateInputs(pool: CandidatePool, excluding taken: Set<Int>, prepared: SurrogateFitStage.Prepared,
                                config: PipelineConfig, threads: Int = 1) throws -> (available: [Int], inputs: [Double], lowFidelityLatent: [Double]?) {
        var available = (0..<pool.count).filter { !taken.contains($0) }
        let descriptors = try SurrogateFitStage.descriptors(prepared, for: .podGP, config: config)
        var descriptorRows: [[Double]] = []
        if let descriptors {
            let solved = try descriptors.source.solve(parameters: available.flatMap { Array(pool.row($0)) }, rows: available.count)
            available = zip(available, solved).compactMap { i, result in
                guard case .success(let v) = result else { return nil }
                descriptorRows.append(v)
                return i
            }
        }
        var latent: [Double]? = nil
        if let source = try SurrogateFitStage.lowFidelitySource(config, for: .podGP) {
            let solved = try source.solve(parameters: available.flatMap { Array(pool.row($0)) }, rows: available.count, threads: threads)
            var fields = [Double](), kept = [Int](), keptDescriptors = [[Double]]()
            for (k, result) in solved.enumerated() {
                guard case .success(let field) = result else { continue }
                fields += field
                kept.append(available[k])
                if descriptors != nil { keptDescriptors.append(descriptorRows[k]) }
            }
            (available, descriptorRows) = (kept, keptDescriptors)
            latent = ReducedOrderSurrogate.lowFidelityLatent(fields, transform: prepared.transform)
        }
        let scaled = available.flatMap { i in prepared.features.scale(rows: Array(pool.row(i))) }
        guard let descriptors else { return (available, scaled, latent) }
        return (available, try descriptors.inputs.appended(to: scaled, descriptors: descriptorRows.flatMap { $0 }, rows: available.count), latent)
    }

    /// Round `next`'s FEM results are read back whenever its c3.npy exists (`solvedRound`), so its points
    /// must not change under them: a redone round that chooses other points than those its successor
    /// was solved for (a folder copied or edited by hand, or a fit that no longer gives the same bits)
    /// is refused instead of pairing one design's fields with another's parameters.
    static func checkNoResultsForOtherPoints(round next: Int, chosen: [Int], run: DataLayout.RefineRun) throws {
        let c3 = run.file(DataLayout.FEM.c3File, round: next), chosenURL = run.file(DataLayout.RefineRun.chosenFile, round: next)
        guard FileManager.default.fileExists(atPath: c3.path) || FileManager.default.fileExists(atPath: run.file(DataLayout.FEM.statusFile, round: next).path) else {
            return
        }
        let solvedFor = try? Npy.read(Int64.self, from: chosenURL, expectedShape: [chosen.count]).values.map { Int($0) }
        guard solvedFor == chosen else {
            throw StageError("refine: \(run.round(next).path) holds FEM results (c3.npy, status.npy) for other points than round \(next - 1)'s fit now chooses "
                             + "(its chosen.npy \(solvedFor == nil ? "is missing or of another size" : "differs")): delete that round's folder and the "
                             + "later ones to continue from here")
        }
    }

    /// Chooses round `next`'s points among the pool's unacquired candidates and writes them (params,
    /// chosen pool indices, the score of each when chosen: the expected squared relative ℓ2 error of
    /// c3, `VarianceAcquisition.relativeErrorWeights`); returns those values.
    static func selectNext(round next: Int, conditioned: ConditionedModel, prepared: SurrogateFitStage.Prepared,
                           context: Context, acquired: Acquired, record: inout StageRecord) throws -> [Double] {
        let settings = context.settings, pool = context.pool, run = context.run
        let gp = conditioned.gp
        let transform = conditioned.surrogate.description.outputTransform
        let taken = Set(acquired.chosen)
        let k = batchSize(round: next, settings)
        let (available, candidates, latent) = try candidateInputs(pool: pool, excluding: taken, prepared: prepared, config: context.config,
                                                                  threads: context.threads)
        guard available.count >= k else {
            throw StageError("refine: the candidate pool is exhausted (\(available.count) left for a batch of \(k)): raise --pool")
        }
        var processes = gp.processes
        var weights = try VarianceAcquisition.relativeErrorWeights(model: gp, points: candidates, count: available.count, transform: transform,
                                                                   latentOffset: latent)
        if let scale = gp.scaleProcess {
            // c3 = e^g · s: the shapes' weights are their relative errors, and an error δg of the scale
            // is a relative error δg of the whole field: weight 1.
            let r = gp.rank
            var extended = [Double]()
            extended.reserveCapacity(available.count * (r + 1))
            for i in 0..<available.count {
                extended.append(contentsOf: weights[(i * r)..<((i + 1) * r)])
                extended.append(1)
            }
            weights = extended
            processes.append(scale)
        }
        let batch = try VarianceAcquisition.selectBatch(processes: processes, candidates: candidates, count: available.count, batchSize: k,
                                                        shortlist: min(settings.shortlist, available.count), weights: weights, threads: context.threads,
                                                        criterion: settings.acquisition ?? .variance, seed: settings.seed &+ UInt64(next))
        let chosen = batch.chosen.map { available[$0] }
        try checkNoResultsForOtherPoints(round: next, chosen: chosen, run: run)
        try FileManager.default.createDirectory(at: run.round(next), withIntermediateDirectories: true)
        let files: [(String, () throws -> Void)] = [
            (DataLayout.RefineRun.paramsFile, { try Npy.write(chosen.flatMap { Array(pool.row($0)) }, shape: [k, 6], to: run.file(DataLayout.RefineRun.paramsFile, round: next)) }),
            (DataLayout.RefineRun.chosenFile, { try Npy.write(chosen.map { Int64($0) }, shape: [k], to: run.file(DataLayout.RefineRun.chosenFile, round: next)) }),
            (DataLayout.RefineRun.acquisitionFile, { try Npy.write(batch.conditionalScores, shape: [k], to: run.file(DataLayout.RefineRun.acquisitionFile, round: next)) }),
        ]
        for (name, write) in files {
            try write()
            record.output(run.file(name, round: next))
        }
        return batch.conditionalScores
    }
}
