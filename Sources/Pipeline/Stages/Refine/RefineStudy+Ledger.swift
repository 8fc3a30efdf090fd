import Foundation
import NumericalFoundations

/// A study longer than a machine's life: the study folder as a *ledger* that a new machine continues.
///
/// `--export-ledger DIR` copies every curve folder of DATA/refine/study (the LHS and oracle points, the
/// swap cells, the adaptive runs' settings, pools and rounds) without the FEM results of the acquired
/// points, which are the only large files: in their place each round gets `fem_sha256.json`, the SHA-256
/// of the files left out. `setup.json` names the data's digest (`dataDigest`) and the OpenBLAS kernel.
/// `--import-ledger DIR` on another machine refuses a ledger of other data or another kernel, then copies
/// its files in (never over a different file). A copied adaptive round is restored when the loop reaches
/// it: its points are solved again and the results must have the recorded SHA-256 (`RefineLoop.restoreRound`),
/// so a curve continued elsewhere is the curve this machine would have made, bit for bit.
extension RefineStudy {
    struct LedgerSetup: Codable, Equatable {
        /// `dataDigest` of the data the study was made on.
        var dataSHA256: String
        /// `BLASThreads.coreName` of the machine that made it.
        var blasCore: String
    }

    static let ledgerSetupFile = "setup.json", ledgerStudyFolder = "study"
    /// What a round keeps of its left-out FEM results (file name → SHA-256).
    static let roundDigestsFile = "fem_sha256.json"
    /// The acquired points' FEM results: solved again on import.
    static let leftOutFiles: Set<String> = [DataLayout.FEM.c3File, DataLayout.FEM.statusFile, DataLayout.FEM.sensitivitiesFile]

    static func exportLedger(to destination: URL, layout: DataLayout) throws {
        let source = layout.refine.study
        let fm = FileManager.default
        let labels = ((try? fm.contentsOfDirectory(at: source, includingPropertiesForKeys: [.isDirectoryKey])) ?? [])
            .filter { (try? $0.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        guard !labels.isEmpty else { throw StageError("refine-study --export-ledger: \(source.path) holds no curve to export") }
        let staging = destination.deletingLastPathComponent()
            .appendingPathComponent(".\(destination.lastPathComponent).partial-\(ProcessInfo.processInfo.processIdentifier)", isDirectory: true)
        try? fm.removeItem(at: staging)
        var files = 0
        for label in labels {
            files += try copyLedgerTree(label, to: staging.appendingPathComponent(ledgerStudyFolder, isDirectory: true)
                                            .appendingPathComponent(label.lastPathComponent, isDirectory: true))
        }
        let setup = LedgerSetup(dataSHA256: try dataDigest(layout), blasCore: BLASThreads.coreName)
        try AtomicFile.writeJSON(setup, to: staging.appendingPathComponent(ledgerSetupFile))
        // The ledger is replaced whole: the old one set aside until the new one is in its place.
        let previous = staging.deletingLastPathComponent()
            .appendingPathComponent(".\(destination.lastPathComponent).previous-\(ProcessInfo.processInfo.processIdentifier)", isDirectory: true)
        try? fm.removeItem(at: previous)
        if fm.fileExists(atPath: destination.path) { try fm.moveItem(at: destination, to: previous) }
        try fm.moveItem(at: staging, to: destination)
        try? fm.removeItem(at: previous)
        note("train-dmd refine-study: \(files) files of \(labels.count) label(s) exported to \(destination.path) (data \(setup.dataSHA256.prefix(12))…, OpenBLAS \(setup.blasCore))")
    }

    /// Copies `folder` into `target` without locks, FEM checkpoints and the left-out FEM results, whose
    /// SHA-256 a round folder keeps in `roundDigestsFile`. Returns the number of files written.
    private static func copyLedgerTree(_ folder: URL, to target: URL) throws -> Int {
        let fm = FileManager.default
        try fm.createDirectory(at: target, withIntermediateDirectories: true)
        var count = 0
        var digests: [String: String] = [:]
        let entries = try fm.contentsOfDirectory(at: folder, includingPropertiesForKeys: [.isDirectoryKey]).sorted { $0.lastPathComponent < $1.lastPathComponent }
        for entry in entries {
            let name = entry.lastPathComponent
            if (try? entry.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true {
                if name == DataLayout.FEM.checkpointsFolder { continue }
                count += try copyLedgerTree(entry, to: target.appendingPathComponent(name, isDirectory: true))
            } else if leftOutFiles.contains(name), folder.lastPathComponent.hasPrefix("round_") {
                digests[name] = try SHA256Digest.hex(ofFile: entry)
            } else if name == roundDigestsFile, fm.fileExists(atPath: folder.appendingPathComponent(DataLayout.FEM.c3File).path) {
                continue  // a round restored from a ledger: its digests are taken again from its results
            } else if name.hasPrefix(".") || name.hasSuffix(".lock") || name.contains(".partial") {
                continue
            } else {
                try fm.copyItem(at: entry, to: target.appendingPathComponent(name))
                count += 1
            }
        }
        if !digests.isEmpty {
            guard digests[DataLayout.FEM.c3File] != nil, digests[DataLayout.FEM.statusFile] != nil else {
                throw StageError("refine-study --export-ledger: \(folder.path) holds FEM results without both \(DataLayout.FEM.c3File) and \(DataLayout.FEM.statusFile)")
            }
            try AtomicFile.writeJSON(digests, to: target.appendingPathComponent(roundDigestsFile))
            count += 1
        }
        return count
    }

    static func importLedger(from ledger: URL, layout: DataLayout) throws {
        let setupURL = ledger.appendingPathComponent(ledgerSetupFile)
        guard let data = try? Data(contentsOf: setupURL) else { throw StageError("refine-study --import-ledger: \(setupURL.path) is missing: not a refine-study ledger") }
        guard let theirs = try? JSONDecoder().decode(LedgerSetup.self, from: data) else {
            throw StageError("refine-study --import-ledger: \(setupURL.path) is damaged: expected {\"dataSHA256\", \"blasCore\"}")
        }
        var differences: [String] = []
        let here = try dataDigest(layout)
        if theirs.dataSHA256 != here { differences.append("data SHA-256 \(theirs.dataSHA256.prefix(12))… ≠ this folder's \(here.prefix(12))… (regenerate the data with the ledger's configuration and kernel)") }
        if theirs.blasCore != BLASThreads.coreName {
            differences.append("OpenBLAS kernel \(theirs.blasCore) ≠ \(BLASThreads.coreName): set OPENBLAS_CORETYPE=\(theirs.blasCore) to continue this ledger")
        }
        guard differences.isEmpty else { throw StageError("refine-study --import-ledger: \(ledger.path) was made under another setup: " + differences.joined(separator: "; ")) }
        let study = ledger.appendingPathComponent(ledgerStudyFolder, isDirectory: true)
        guard FileManager.default.fileExists(atPath: study.path) else { throw StageError("refine-study --import-ledger: \(study.path) is missing: not a refine-study ledger") }
        // Check every file first, so a refused import changes nothing.
        var copies: [(from: URL, to: URL)] = []
        try collectImports(study, into: layout.refine.study, copies: &copies)
        for copy in copies {
            try FileManager.default.createDirectory(at: copy.to.deletingLastPathComponent(), withIntermediateDirectories: true)
            try AtomicFile.write(try Data(contentsOf: copy.from), to: copy.to)
        }
        note("train-dmd refine-study: \(copies.count) files imported from \(ledger.path) (the acquired points' FEM results are solved again when their curve continues)")
    }

    /// The files of `folder` missing under `target`; a file present in both must have the same bytes.
    private static func collectImports(_ folder: URL, into target: URL, copies: inout [(from: URL, to: URL)]) throws {
        let fm = FileManager.default
        for entry in try fm.contentsOfDirectory(at: folder, includingPropertiesForKeys: [.isDirectoryKey]).sorted(by: { $0.lastPathComponent < $1.lastPathComponent }) {
            let destination = target.appendingPathComponent(entry.lastPathComponent)
            if (try? entry.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true {
                try collectImports(entry, into: destination, copies: &copies)
            } else if fm.fileExists(atPath: destination.path) {
                guard try Data(contentsOf: destination) == Data(contentsOf: entry) else {
                    throw StageError("refine-study --import-ledger: \(destination.path) differs from the ledger's \(entry.path): the two studies disagree; move one aside")
                }
            } else {
                copies.append((entry, destination))
            }
        }
    }
}
