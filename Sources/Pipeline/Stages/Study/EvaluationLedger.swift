import Foundation
import NumericalFoundations

/// The evaluation of the paired study as a ledger: its folder's `setup.json` and, per finished run,
/// `runs/METHOD/seed_S/` with `result.json` (the run's spec inside) and `history.csv` (and `spec.json`,
/// copied when present) — everything the tables,
/// the targets and the figure are computed from (a run's history is its whole record: the moving
/// averages, the hits of every level, the clock-free times follow from it and the cost benchmark).
/// Copied elsewhere (e.g. committed), it lets an evaluation continue on a new machine: its runs are
/// copied into the new study folder before the missing ones are made. Refused unless made under the
/// same setup (epochs, recipe, validation protocol, the data's SHA-256s, OpenBLAS's kernel); a copied
/// run whose spec is not one this evaluation asks for is never counted (`AccelerationRun.finishedResult`
/// compares the whole spec, the target included), so it is made again.
public enum EvaluationLedger {
    static let runFiles = [AccelerationRun.resultFile, AccelerationRun.historyFile]

    /// Copies the ledger's finished runs that `evaluationFolder` does not hold finished; returns their
    /// folder names (METHOD/seed_S), sorted.
    @discardableResult
    public static func importRuns(from ledger: URL, into evaluationFolder: URL, setup: AccelerationStudy.Setup) throws -> [String] {
        let setupURL = ledger.appendingPathComponent(AccelerationStudy.setupFile)
        guard let data = try? Data(contentsOf: setupURL) else {
            throw StudyError("\(setupURL.path): missing; an evaluation ledger holds setup.json and runs/METHOD/seed_S/ (result.json, history.csv)")
        }
        guard let theirs = try? JSONDecoder().decode(AccelerationStudy.Setup.self, from: data) else { throw StudyError("\(setupURL.path): not a study setup") }
        try TuningLedger.checkSetup(theirs, of: setupURL, against: setup)
        let runs = ledger.appendingPathComponent(PairedStudy.runsFolder, isDirectory: true)
        let fm = FileManager.default
        var imported: [String] = []
        for method in ((try? fm.contentsOfDirectory(atPath: runs.path)) ?? []).sorted() where !method.hasPrefix(".") {
            let methodFolder = runs.appendingPathComponent(method, isDirectory: true)
            for seed in ((try? fm.contentsOfDirectory(atPath: methodFolder.path)) ?? []).sorted() where seed.hasPrefix("seed_") {
                let source = methodFolder.appendingPathComponent(seed, isDirectory: true)
                let missing = runFiles.filter { !fm.fileExists(atPath: source.appendingPathComponent($0).path) }
                guard missing.isEmpty else {
                    throw StudyError("\(source.path): a ledger run needs \(runFiles.joined(separator: ", ")); \(missing.joined(separator: ", ")) missing")
                }
                let destination = evaluationFolder.appendingPathComponent(PairedStudy.runsFolder).appendingPathComponent(method)
                    .appendingPathComponent(seed, isDirectory: true)
                if fm.fileExists(atPath: destination.appendingPathComponent(AccelerationRun.resultFile).path) { continue }
                try fm.createDirectory(at: destination, withIntermediateDirectories: true)
                // The result last: a run folder counts as finished only once its result is there.
                let optional = fm.fileExists(atPath: source.appendingPathComponent(AccelerationRun.specFile).path) ? [AccelerationRun.specFile] : []
                for name in optional + [AccelerationRun.historyFile, AccelerationRun.resultFile] {
                    try AtomicFile.write(try Data(contentsOf: source.appendingPathComponent(name)), to: destination.appendingPathComponent(name))
                }
                imported.append("\(method)/\(seed)")
            }
        }
        return imported
    }
}
