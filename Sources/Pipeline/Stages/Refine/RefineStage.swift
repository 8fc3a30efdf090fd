import Foundation
import NumericalFoundations
import PDE

/// `train-dmd refine` and `train-dmd refine-study`: lock, check the inputs' provenance, run, write the tables.
public enum RefineStage {
    public static let tableFile = "refine.csv"

    public static func run(_ options: RefineOptions) throws {
        let config = try options.stage.loadConfig()
        let data = options.stage.dataURL
        let run = DataLayout(data).refine.run(options.runName)
        let lock = try options.stage.lockOutput(run.folder)
        defer { lock.release() }
        try Provenance.verify(Provenance.chain(DataLayout(data)), root: data)
        let rounds = try runStoppable(config: config, data: data, run: run, settings: try options.design.settings(seed: options.seed),
                                      threads: options.design.threads)
        let url = run.folder.appendingPathComponent(tableFile)
        try AtomicFile.write(table(rounds), to: url)
        note("train-dmd refine: \(rounds.count) rounds → \(url.path)")
    }

    /// The loop with SIGINT/SIGTERM turned into a stop between FEM samples or rounds (a rerun resumes).
    static func runStoppable(config: PipelineConfig, data: URL, run: DataLayout.RefineRun, settings: RefineSettings, threads: Int,
                             roundFinished: () throws -> Void = {}) throws -> [RefineRound] {
        Interruption.removeTemporariesOnExit(in: run.folder)
        let stop = StopSignal()
        do {
            return try Interruption.stoppable(stop) {
                try RefineLoop.run(config: config, dataDirectory: data, run: run, settings: settings, threads: threads, stop: stop, notice: note,
                                   roundFinished: roundFinished)
            }
        } catch let error as PollutantInputError {
            throw StageError("train-dmd refine: \(error.message)")
        }
    }

    /// One line per round and model: solves, test and validation median / p95, the round's wall seconds.
    public static func table(_ rounds: [RefineRound]) -> String {
        var text = "round,training_solves,training_samples,model,test_median,test_p95,validation_median,validation_p95,fit_seconds,fem_seconds,acquisition_seconds\n"
        for round in rounds {
            let e = round.evaluation, t = round.timings
            for s in e.scores {
                text += "\(e.round),\(e.trainingSolves),\(e.trainingSamples),\(s.model),\(s.testMedian),\(s.testP95),\(s.validationMedian),\(s.validationP95),"
                    + "\(t.fit[s.model] ?? .nan),\(t.fem),\(t.acquisition)\n"
            }
        }
        return text
    }
}
