import Foundation
import NumericalFoundations

extension PollutantSolution {
    /// A `.vtu` writer with c1, c2, c3, the wind (vector) and the inflow mask (1 where c = 0 was imposed).
    public func vtu(mesh: TriangleMesh) throws -> VTUWriter {
        var writer = VTUWriter(mesh: mesh)
        try writer.addScalar("c1", species(0))
        try writer.addScalar("c2", species(1))
        try writer.addScalar("c3", species(2))
        try writer.addVector("wind", x: wind.x, y: wind.y)
        try writer.addScalar("inflow", inflowNodes.map { $0 ? 1 : 0 })
        return writer
    }
}

/// A field file that could not be written (its path and the reason).
public struct FieldWriteError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}

/// The one-at-a-time parameter variations of the paper's Figure 2: a central parameter set and, for
/// each of the six parameters in turn, that parameter at the low and at the high end of its sampling
/// range (13 solves), written as DATA/fem/fields/NAME.vtu with an index fields.json.
public enum FigureFields {
    public struct Variation: Sendable {
        /// "center", or e.g. "K12_low", "u_v_high".
        public var name: String
        public var parameters: PollutantParameters
    }

    public static func variations(center: [Double], ranges: [ClosedRange<Double>]) throws -> [Variation] {
        guard center.count == 6, ranges.count == 6 else {
            throw PollutantInputError("the field variations need 6 central values and 6 ranges, got \(center.count) and \(ranges.count)")
        }
        var out = [Variation(name: "center", parameters: try PollutantParameters(row: center))]
        for (k, name) in PollutantParameters.names.enumerated() {
            for (suffix, value) in [("low", ranges[k].lowerBound), ("high", ranges[k].upperBound)] {
                var row = center
                row[k] = value
                out.append(Variation(name: "\(name)_\(suffix)", parameters: try PollutantParameters(row: row)))
            }
        }
        return out
    }

    /// Solves every variation (Blasius in-process under `wind`, Newton under `newton`) on `threads`
    /// workers and writes the fields into `folder`. A variation without a wind profile or whose solve fails is listed in
    /// fields.json with the reason and has no .vtu. Returns the files written (paths inside `folder`).
    ///
    /// The files are written into a fresh temporary folder beside `folder`, which then replaces `folder`
    /// whole: no file of an earlier run (another mesh, other variations) stays beside the new ones. A file
    /// that cannot be written (disk full, file-size limit) fails the whole call with that file's error;
    /// `folder` is then removed as well, since its files no longer match the dataset beside it.
    public static func write(_ variations: [Variation], wind: InProcessWind.Options, newton: NewtonOptions, threads: Int,
                             discretization: PollutantDiscretization, folder: URL, log: (String) -> Void = { _ in }) throws -> [URL] {
        let parent = folder.deletingLastPathComponent()
        try Folder.create(parent)
        let staging = parent.appendingPathComponent(".\(folder.lastPathComponent).tmp-\(getpid())", isDirectory: true)
        let fm = FileManager.default
        // A run stopped while writing (killed, or a full disk) left its staging folder behind.
        AtomicFile.removeStaleTemporaries(of: folder)
        try? fm.removeItem(at: staging)
        try Folder.create(staging)
        do {
            let names = try writeAll(variations, wind: wind, newton: newton, threads: threads, discretization: discretization,
                                     folder: staging, log: log)
            // Swap: the old folder out of the way, the new one in, the old one removed.
            let old = parent.appendingPathComponent(".\(folder.lastPathComponent).old-\(getpid())", isDirectory: true)
            try? fm.removeItem(at: old)
            if fm.fileExists(atPath: folder.path) {
                guard rename(folder.path, old.path) == 0 else {
                    throw ArrayFileError(path: folder.path, "cannot replace the folder: \(String(cString: strerror(errno)))")
                }
            }
            guard rename(staging.path, folder.path) == 0 else {
                throw ArrayFileError(path: folder.path, "cannot move the new fields into place: \(String(cString: strerror(errno)))")
            }
            try? fm.removeItem(at: old)
            return names.map { folder.appendingPathComponent($0) }
        } catch {
            try? fm.removeItem(at: staging)
            try? fm.removeItem(at: folder)
            if let e = error as? FieldWriteError {   // name the file where it was meant to be, not the staging folder
                throw FieldWriteError(e.description.replacingOccurrences(of: staging.path, with: folder.path))
            }
            throw error
        }
    }

    /// Solves and writes every variation into `folder`; returns the names of the files written.
    static func writeAll(_ variations: [Variation], wind: InProcessWind.Options, newton: NewtonOptions, threads: Int,
                         discretization: PollutantDiscretization, folder: URL, log: (String) -> Void) throws -> [String] {
        let slots = ResultSlots<(entry: [String: JSONValue], url: URL?)>(count: variations.count)
        let writeErrors = ResultSlots<String>(count: variations.count)
        ParallelWork.forEachItem(count: variations.count, threads: threads, makeWorker: { _ in
            PollutantSolver(discretization: discretization, newton: newton)
        }) { solver, i in
            let v = variations[i]
            var entry: [String: JSONValue] = ["name": JSONValue(v.name),
                                              "parameters": .object(Dictionary(uniqueKeysWithValues: zip(PollutantParameters.names, v.parameters.values.map { JSONValue($0) })))]
            do {
                let profile = try InProcessWind.profile(for: v.parameters, options: wind)
                if let note = profile.note { entry["wind_note"] = JSONValue(note) }
                let solution = try solver.solve(v.parameters, profile: profile.profile, nu: wind.nu, x0: wind.x0)
                let url = folder.appendingPathComponent(v.name + ".vtu")
                // A declared output that cannot be written fails the stage (not a per-variation note).
                do { try solution.vtu(mesh: discretization.mesh).write(to: url, encoding: .base64) } catch {
                    writeErrors.set(i, "\(error)")
                    slots.set(i, (entry, nil))
                    return
                }
                entry["file"] = JSONValue(url.lastPathComponent)
                entry["newton_iterations"] = JSONValue(solution.report.iterations)
                entry["max_c3"] = JSONValue(solution.maxima[2])
                slots.set(i, (entry, url))
            } catch {
                entry["error"] = JSONValue("\(error)")
                log("field \(v.name): \(error)")
                slots.set(i, (entry, nil))
            }
        }
        if let failure = writeErrors.values.compactMap({ $0 }).first { throw FieldWriteError(failure) }
        let results = slots.values.compactMap { $0 }
        let index = folder.appendingPathComponent("fields.json")
        try AtomicFile.write(JSONValue.array(results.map { .object($0.entry) }).jsonText(), to: index)
        return results.compactMap(\.url?.lastPathComponent) + [index.lastPathComponent]
    }
}
