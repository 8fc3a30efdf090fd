import Foundation
import NumericalFoundations

/// The tuning of the paired study as a table: one record per tuning run, which is all the choice
/// needs (a configuration's score is the median over the tuning seeds of its runs' best moving
/// averages). The table of a tuning made elsewhere — committed to the repository, since a study of
/// tens of CPU-hours outlives the machine it started on — can be imported into a new study folder:
/// its runs are not run again. The import is refused unless the ledger was made with the same
/// setup (epochs, recipe, the data's SHA-256s and OpenBLAS's kernel: the same bits) and the same
/// moving-average window.
public enum TuningLedger {
    /// `ledger.json` of an exported tuning: what its scores depend on besides the setup.
    public static let settingsFile = "ledger.json"

    public struct Record: Equatable, Sendable {
        public var family: VerdictGrids.Family
        public var method: String
        public var seed: Int
        public var status: String
        public var epochsRun: Int
        public var bestMovingAverage: Double
        public var bestValidationMSE: Double
        public var summary: String

        /// Runs of `spec.folderName` form: the method's folder, then the seed's.
        var key: String { "\(method)/seed_\(seed)" }
    }

    /// The score inputs of a tuning, beside setup.json.
    public struct Settings: Codable, Equatable, Sendable {
        public var window: Int
        public var epochs: Int
        public init(window: Int, epochs: Int) { self.window = window; self.epochs = epochs }
    }

    static let header = "family,method,seed,status,epochs_run,best_moving_average,best_validation_mse,summary"

    public static func record(of run: PairedStudy.FinishedRun, window: Int) -> Record {
        let m = run.spec.method
        let family: VerdictGrids.Family = m.scheduleFree == true ? .scheduleFree : (m.accelerator == .none ? .adam : .dmd)
        return Record(family: family, method: m.name, seed: run.spec.seed, status: run.result.status.rawValue, epochsRun: run.result.epochsRun,
                      bestMovingAverage: SustainedTarget.bestMovingAverage(Array(run.history.dropFirst().map(\.validationMSE)), window: window),
                      bestValidationMSE: run.result.bestValidationMSE, summary: m.summary)
    }

    public static func table(_ records: [Record]) -> String {
        var t = header + "\n"
        for r in records {
            t += "\(r.family.rawValue),\(r.method),\(r.seed),\(r.status),\(r.epochsRun),\(r.bestMovingAverage),\(r.bestValidationMSE),\"\(r.summary)\"\n"
        }
        return t
    }

    /// Parses a tuning.csv; every malformed line is an error naming the file and the line.
    public static func parse(_ text: String, source: String) throws -> [Record] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        guard let first = lines.first, first == header else {
            throw StudyError("\(source): not a tuning table (expected the header \"\(header)\")")
        }
        lines.removeFirst()
        return try lines.enumerated().map { index, line in
            let fields = line.split(separator: ",", maxSplits: 7, omittingEmptySubsequences: false).map(String.init)
            let where_ = "\(source), line \(index + 2)"
            guard fields.count == 8 else { throw StudyError("\(where_): expected 8 fields, found \(fields.count)") }
            guard let family = VerdictGrids.Family(rawValue: fields[0]) else {
                throw StudyError("\(where_): unknown family \"\(fields[0])\" (expected \(VerdictGrids.Family.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard let seed = Int(fields[2]), let epochs = Int(fields[4]), epochs >= 0 else {
                throw StudyError("\(where_): the seed and epochs_run must be integers, got \"\(fields[2])\" and \"\(fields[4])\"")
            }
            // A diverged run's best moving average is +∞ or NaN and is kept as such (it never wins).
            guard let best = Double(fields[5]), let bestValidation = Double(fields[6]) else {
                throw StudyError("\(where_): best_moving_average and best_validation_mse must be numbers, got \"\(fields[5])\" and \"\(fields[6])\"")
            }
            var summary = fields[7]
            if summary.hasPrefix("\""), summary.hasSuffix("\""), summary.count >= 2 { summary = String(summary.dropFirst().dropLast()) }
            return Record(family: family, method: fields[1], seed: seed, status: fields[3], epochsRun: epochs,
                          bestMovingAverage: best, bestValidationMSE: bestValidation, summary: summary)
        }
    }

    /// The records of the ledger in `folder` (setup.json, ledger.json, tuning.csv), after checking
    /// that they were made under `setup` and `settings`.
    public static func importRecords(from folder: URL, setup: AccelerationStudy.Setup, window: Int, epochs: Int) throws -> [Record] {
        let setupURL = folder.appendingPathComponent(AccelerationStudy.setupFile)
        guard let setupData = try? Data(contentsOf: setupURL) else { throw StudyError("\(setupURL.path): missing; a tuning ledger holds setup.json, ledger.json and tuning.csv") }
        guard let theirs = try? JSONDecoder().decode(AccelerationStudy.Setup.self, from: setupData) else {
            throw StudyError("\(setupURL.path): not a study setup")
        }
        try checkSetup(theirs, of: setupURL, against: setup)
        let settingsURL = folder.appendingPathComponent(settingsFile)
        guard let settingsData = try? Data(contentsOf: settingsURL), let theirSettings = try? JSONDecoder().decode(Settings.self, from: settingsData) else {
            throw StudyError("\(settingsURL.path): missing or not a ledger's settings ({\"window\": …, \"epochs\": …})")
        }
        guard theirSettings == Settings(window: window, epochs: epochs) else {
            throw StudyError("\(settingsURL.path): the ledger's scores use a window of \(theirSettings.window) over \(theirSettings.epochs) epochs; this study asks for \(window) over \(epochs)")
        }
        let tableURL = folder.appendingPathComponent(PairedStudy.tuningTable)
        guard let data = try? Data(contentsOf: tableURL) else { throw StudyError("\(tableURL.path): missing") }
        let records = try parse(String(decoding: data, as: UTF8.self), source: tableURL.path)
        var seen = Set<String>()
        for r in records where !seen.insert(r.key).inserted { throw StudyError("\(tableURL.path): the run \(r.key) is listed twice") }
        return records
    }

    /// Refuses a ledger (its setup.json at `url`) made under another setup than `setup`, naming every
    /// item that differs: its runs would not be the runs this study makes.
    static func checkSetup(_ theirs: AccelerationStudy.Setup, of url: URL, against setup: AccelerationStudy.Setup) throws {
        guard theirs != setup else { return }
        var differences: [String] = []
        if theirs.epochs != setup.epochs { differences.append("epochs \(theirs.epochs) ≠ \(setup.epochs)") }
        if theirs.tuned != setup.tuned { differences.append("the tuned recipe") }
        if theirs.validation != setup.validation { differences.append("the validation split") }
        if theirs.blasCore != setup.blasCore {
            differences.append("OpenBLAS kernel \(theirs.blasCore ?? "unrecorded") ≠ \(setup.blasCore ?? "unrecorded")"
                               + (theirs.blasCore.map { ": set OPENBLAS_CORETYPE=\($0) before the study to continue this ledger" } ?? ""))
        }
        for name in Set(theirs.inputs.keys).union(setup.inputs.keys).sorted() where theirs.inputs[name] != setup.inputs[name] {
            differences.append("\(name)'s SHA-256")
        }
        throw StudyError("\(url.path): the ledger was made under another setup than this study's (\(differences.joined(separator: "; "))); its runs cannot stand for this data")
    }

    /// Writes setup.json, ledger.json and tuning.csv of `records` into `folder` (to be committed).
    public static func export(_ records: [Record], setup: AccelerationStudy.Setup, settings: Settings, to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try AtomicFile.write(try AccelerationRun.encodeJSON(setup), to: folder.appendingPathComponent(AccelerationStudy.setupFile))
        try AtomicFile.write(try AccelerationRun.encodeJSON(settings), to: folder.appendingPathComponent(settingsFile))
        try AtomicFile.write(table(records), to: folder.appendingPathComponent(PairedStudy.tuningTable))
    }
}
