import Foundation
import NumericalFoundations
import PDE

/// `pollutant-fem convergence`: `MeshConvergenceStudy` on the meshes and cases a user names, printed
/// as a table of the relative change of c3 from each mesh to the next (formulation.md §3 asks for
/// < 1 % on the next refinement of the default mesh), with its distribution over the cases.
public enum MeshConvergenceReport {
    public struct Request: Sendable {
        /// Meshes NX×NY, coarse to fine; nil: fem.nx × fem.ny halved, as is, doubled.
        public var meshes: [(nx: Int, ny: Int)]?
        /// Case names of `MeshConvergenceStudy.representativeCases`; nil: all of them; empty: none.
        public var caseNames: [String]?
        /// Also this many samples of DATA (with their wind profiles).
        public var samples = 0
        /// Also the table as .csv.
        public var csv: URL?
        public init() {}
    }

    /// Parses "NXxNY,NXxNY,…" (e.g. "60x40,120x80").
    public static func parseMeshes(_ text: String) throws -> [(nx: Int, ny: Int)] {
        let items = text.split(separator: ",")
        guard !items.isEmpty else { throw PollutantInputError("--meshes: expected at least one NXxNY (e.g. 60x40,120x80)") }
        return try items.map { item in
            let parts = item.lowercased().split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts[0] >= 2, parts[1] >= 2 else {
                throw PollutantInputError("--meshes: '\(item)' is not NXxNY (e.g. 120x80)")
            }
            return (parts[0], parts[1])
        }
    }

    /// Parses "--cases": comma-separated names, or "none".
    public static func parseCases(_ text: String) throws -> [String] {
        if text == "none" { return [] }
        let names = text.split(separator: ",").map(String.init)
        for name in names where !MeshConvergenceStudy.representativeCases.contains(where: { $0.name == name }) {
            throw PollutantInputError("--cases: unknown case '\(name)'")
        }
        return names
    }

    /// Runs the study and prints the table (`print`: standard output) and progress (`note`: stderr).
    public static func run(config: PipelineConfig, dataDirectory: URL, request: Request, print: (String) -> Void) throws {
        BLASThreads.set(1)
        let fem = config.fem
        let (nx, ny) = (fem.problem.mesh.nx, fem.problem.mesh.ny)
        let meshList = request.meshes ?? [(max(2, nx / 2), max(2, ny / 2)), (nx, ny), (2 * nx, 2 * ny)]
        var selected = request.caseNames.map { names in
            names.compactMap { name in MeshConvergenceStudy.representativeCases.first { $0.name == name } }
        } ?? MeshConvergenceStudy.representativeCases
        let results: [MeshConvergenceStudy.MeshResult]
        do {
            if request.samples > 0 {
                let inputs = try BatchInputs.load(dataDirectory: dataDirectory, nu: config.wind.nu)
                selected += MeshConvergenceStudy.cases(from: inputs, count: request.samples)
            }
            results = try MeshConvergenceStudy.run(specification: fem.problem,
                                                   wind: InProcessWind.Options(config.wind), meshes: meshList, cases: selected,
                                                   threads: fem.threads, newton: NewtonOptions(fem),
                                                   log: { note("pollutant-fem convergence: \($0)") })
        } catch let e as PollutantInputError { throw StageError("pollutant-fem convergence: \(e.message)") }
        let table = format(results, cases: selected)
        table.lines.forEach(print)
        if let csv = request.csv { try AtomicFile.write(table.csv, to: csv) }
    }

    /// The printed table (one line per case, one column per refinement, then the distribution over the
    /// cases, failures and timings) and the same changes as CSV.
    static func format(_ results: [MeshConvergenceStudy.MeshResult], cases selected: [MeshConvergenceStudy.Case]) -> (lines: [String], csv: String) {
        let changes = MeshConvergenceStudy.changes(results)
        var lines: [String] = []
        var csvText = "case,coarse,fine,relative_l2_change,relative_max_change\n"
        func percent(_ value: Double?) -> String { value.map { String(format: "%.3f%%", 100 * $0) } ?? "failed" }
        lines.append("case          " + (1..<max(results.count, 1)).map { m in
            "  \(results[m - 1].nx)x\(results[m - 1].ny)→\(results[m].nx)x\(results[m].ny) (RMS, max)".padding(toLength: 34, withPad: " ", startingAt: 0)
        }.joined())
        for (k, c) in selected.enumerated() {
            var line = c.name.padding(toLength: 14, withPad: " ", startingAt: 0)
            for (m, row) in changes.enumerated() {
                line += "  " + "\(percent(row[k].relativeL2)), \(percent(row[k].relativeMax))".padding(toLength: 32, withPad: " ", startingAt: 0)
                csvText += "\(c.name),\(results[m].nx)x\(results[m].ny),\(results[m + 1].nx)x\(results[m + 1].ny)," +
                    "\(row[k].relativeL2.map { "\($0)" } ?? ""),\(row[k].relativeMax.map { "\($0)" } ?? "")\n"
            }
            line += "  Newton its " + results.map { "\($0.newtonIterations[k])" }.joined(separator: "/")
            lines.append(line)
        }
        // Distribution over all cases of the change from each mesh to the next.
        for (m, row) in changes.enumerated() {
            let l2 = row.compactMap(\.relativeL2).sorted(), mx = row.compactMap(\.relativeMax).sorted()
            guard !l2.isEmpty else { continue }
            func q(_ v: [Double], _ f: Double) -> String { String(format: "%.3f%%", 100 * v[min(v.count - 1, Int(f * Double(v.count - 1)))]) }
            lines.append("# \(results[m].nx)x\(results[m].ny)→\(results[m + 1].nx)x\(results[m + 1].ny) over \(l2.count) cases: " +
                         "RMS change median \(q(l2, 0.5)), 90th percentile \(q(l2, 0.9)), max \(q(l2, 1)); " +
                         "max-norm change median \(q(mx, 0.5)), max \(q(mx, 1))")
        }
        for r in results {
            for (k, f) in r.failures.enumerated() { if let f { lines.append("# \(r.nx)x\(r.ny) \(selected[k].name): \(f)") } }
            let total = r.solveSeconds.reduce(0, +)
            lines.append(String(format: "# %dx%d: %d nodes, setup %.2f s, mean solve %.2f s", r.nx, r.ny, r.nodes, r.setupSeconds,
                                total / Double(max(r.solveSeconds.count, 1))))
        }
        return (lines, csvText)
    }
}
