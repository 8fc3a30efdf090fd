import Foundation
import NumericalFoundations
import PDE
import Surrogates

/// The low-fidelity model of a multi-fidelity POD model (`[surrogate] gp_low_fidelity_mesh`,
/// `podnn_low_fidelity_mesh`): the same
/// problem (formulation.md §3 with every `[fem]` and `[wind]` setting) on a coarser mesh, each
/// parameter set with its Blasius wind solved in-process, c3 read at the same observation points.
/// A 24 × 16 mesh costs ≈ 10 ms a solve against ≈ 0.6 s on the 120 × 80 one and is within 0.7 %
/// (median) of it (docs/surrogates.md), so the POD model only learns the small, smooth discrepancy.
///
/// The model file records the `[fem]` and `[wind]` sections as resolved (defaults filled in, the
/// coarse mesh in place), so a model recomputes the same fields without a configuration; a source
/// is always built from that record, the fit's too, so what is saved is what was fitted.
public final class CoarseFEMSource: LowFidelitySource {
    /// `LowFidelityInputs.source` of a model fitted on these fields.
    public static let sourceName = "coarse-fem"
    public let record: LowFidelityInputs
    let wind: InProcessWind.Options
    let newton: NewtonOptions
    let discretization: PollutantDiscretization

    /// The source of `config`'s problem on an nx × ny mesh.
    public convenience init(config: PipelineConfig, nx: Int, ny: Int) throws {
        guard var fem = config.resolved["fem"]?.object, let wind = config.resolved["wind"] else {
            throw StageError("internal: the resolved configuration has no [fem] or [wind] section")
        }
        fem["nx"] = JSONValue(nx)
        fem["ny"] = JSONValue(ny)
        try self.init(recorded: LowFidelityInputs(source: Self.sourceName, summary: "FEM on a \(nx) × \(ny) mesh",
                                                  settings: .object(["fem": .object(fem), "wind": wind])))
    }

    /// The source a model file records.
    public init(recorded: LowFidelityInputs) throws {
        guard recorded.source == Self.sourceName else {
            throw StageError("low-fidelity source \"\(recorded.source)\" is not known (expected \"\(Self.sourceName)\")")
        }
        guard let sections = recorded.settings.object, let fem = sections["fem"], let wind = sections["wind"] else {
            throw StageError("low-fidelity settings: expected the objects \"fem\" and \"wind\" (the resolved [fem] and [wind] sections)")
        }
        let text = try Self.tomlText(sections: ["fem": fem, "wind": wind])
        let config: PipelineConfig
        do { config = try PipelineConfig.parse(text, file: "the model's low-fidelity settings") } catch {
            throw StageError("low-fidelity settings: \(error)")
        }
        self.record = recorded
        self.wind = InProcessWind.Options(config.wind)
        self.newton = NewtonOptions(config.fem)
        do { discretization = try PollutantDiscretization(settings: config.fem) } catch let e as PollutantInputError {
            throw StageError("low-fidelity model: \(e.message)")
        }
    }

    /// The factory `SurrogateLoader.load` takes.
    public static let factory: LowFidelitySourceFactory = { try CoarseFEMSource(recorded: $0) }

    public var pointCount: Int { discretization.observation.count }

    public func fields(parameters: [Double], rows: Int, threads: Int) throws -> [Double] {
        var out = [Double]()
        out.reserveCapacity(rows * pointCount)
        for (row, result) in try solve(parameters: parameters, rows: rows, threads: threads).enumerated() {
            out += try result.mapError { rowFailure($0, row: row, parameters: parameters) }.get()
        }
        return out
    }

    /// `fields` and each row's ∂c3/∂θ or why its tangent equation failed: see `solveWithSensitivities`.
    public func fieldsWithSensitivities(parameters: [Double], rows: Int, threads: Int) throws
        -> (values: [Double], sensitivities: [Result<[Double], StageError>]) {
        var values = [Double](), sensitivities = [Result<[Double], StageError>]()
        values.reserveCapacity(rows * pointCount)
        for (row, result) in try solveWithSensitivities(parameters: parameters, rows: rows, threads: threads).enumerated() {
            let solved = try result.mapError { rowFailure($0, row: row, parameters: parameters) }.get()
            values += solved.values
            sensitivities.append(solved.sensitivities.mapError { rowFailure($0, row: row, parameters: parameters) })
        }
        return (values, sensitivities)
    }

    /// A row's failure named by its parameter values: the row index is only the caller's batch position.
    private func rowFailure(_ error: StageError, row: Int, parameters: [Double]) -> StageError {
        let d = PollutantParameters.names.count
        let values = zip(PollutantParameters.names, parameters[(row * d)..<((row + 1) * d)]).map { "\($0) = \($1)" }.joined(separator: ", ")
        return StageError("low-fidelity model (\(record.summary)), parameter set \(row) (\(values)): \(error.description)")
    }

    /// Each row's c3 at the observation points, or why it has none (no wind profile, a failed Newton
    /// solve): for callers that leave such rows out instead of stopping, as the refine loop's candidates.
    public func solve(parameters: [Double], rows: Int, threads: Int) throws -> [Result<[Double], StageError>] {
        let wind = self.wind
        return try eachRow(parameters: parameters, rows: rows, threads: threads) { solver, p, profile in
            try solver.solve(p, profile: profile, nu: wind.nu, x0: wind.x0).c3AtObservations
        }
    }

    /// Each row's c3 and, where the tangent equation could be solved, ∂c3/∂θ at the observation points
    /// (P × 6 row-major, the layout of one sample of fem/dc3_dtheta.npy; docs/fem.md "Parametric
    /// sensitivities", with the FEM stage's settings), for the derivatives of a multi-fidelity model's
    /// discrepancy. A row whose sensitivities fail keeps its c3 (`sensitivities` says why); a row
    /// whose solve fails is a failure.
    public func solveWithSensitivities(parameters: [Double], rows: Int, threads: Int) throws
        -> [Result<(values: [Double], sensitivities: Result<[Double], StageError>), StageError>] {
        let wind = self.wind, options = SensitivityOptions(wind: wind)
        return try eachRow(parameters: parameters, rows: rows, threads: threads) { solver, p, profile in
            let solution = try solver.solve(p, profile: profile, nu: wind.nu, x0: wind.x0)
            let sensitivities: Result<[Double], StageError>
            do { sensitivities = .success(try solver.sensitivities(of: solution, parameters: p, options: options).observations) } catch {
                sensitivities = .failure(StageError("sensitivities: \(error)"))
            }
            return (solution.c3AtObservations, sensitivities)
        }
    }

    /// `body` on every row (its parameters validated, its Blasius wind solved in-process) with one
    /// solver per thread; each row's result or its error in the row's slot.
    private func eachRow<T>(parameters: [Double], rows: Int, threads: Int,
                            _ body: @escaping (PollutantSolver, PollutantParameters, BlasiusProfile) throws -> T) throws -> [Result<T, StageError>] {
        let d = PollutantParameters.names.count
        guard parameters.count == rows * d else {
            throw StageError("low-fidelity model: \(parameters.count) values do not make \(rows) rows of \(d) parameters")
        }
        var slots = [Result<T, StageError>?](repeating: nil, count: rows)
        let lock = NSLock()
        let discretization = self.discretization, newton = self.newton, wind = self.wind
        // One BLAS thread per solver, as the FEM stage's batches: UMFPACK's BLAS calls from several
        // solvers would otherwise queue for OpenBLAS's one thread pool (measured: the second solver
        // idle half the time). The setting is process-wide: the caller's is put back afterwards.
        let callerBLASThreads = BLASThreads.current
        BLASThreads.set(1)
        defer { BLASThreads.set(callerBLASThreads) }
        ParallelWork.forEachItem(count: rows, threads: max(1, min(threads, rows)), makeWorker: { _ in
            PollutantSolver(discretization: discretization, newton: newton)
        }) { solver, row in
            let result: Result<T, StageError>
            do {
                let p = try PollutantParameters(row: parameters[(row * d)..<((row + 1) * d)])
                try p.validate(context: "parameters")
                let profile = try InProcessWind.profile(for: p, options: wind)
                result = .success(try body(solver, p, profile.profile))
            } catch let e as PollutantInputError {
                result = .failure(StageError(e.message))
            } catch {
                result = .failure(StageError("\(error)"))
            }
            lock.lock()
            slots[row] = result
            lock.unlock()
        }
        return slots.enumerated().map { row, slot in slot ?? .failure(StageError("internal: low-fidelity parameter set \(row) was not solved")) }
    }

    /// The sections as TOML that `PipelineConfig` reads back: numbers (integral ones without a
    /// fraction, so integer keys stay integers), booleans, strings, arrays, and arrays of inline tables.
    static func tomlText(sections: [String: JSONValue]) throws -> String {
        func value(_ v: JSONValue, key: String) throws -> String {
            switch v {
            case .number(let x):
                guard x.isFinite else { throw StageError("low-fidelity settings: \(key) is \(x)") }
                return x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : "\(x)"
            case .bool(let b): return b ? "true" : "false"
            case .string(let s): return "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
            case .array(let items): return "[" + (try items.map { try value($0, key: key) }).joined(separator: ", ") + "]"
            case .object(let fields):
                return "{" + (try fields.keys.sorted().map { "\($0) = " + (try value(fields[$0]!, key: key + "." + $0)) }).joined(separator: ", ") + "}"
            case .null: throw StageError("low-fidelity settings: \(key) is null")
            }
        }
        var text = ""
        for name in sections.keys.sorted() {
            guard let fields = sections[name]?.object else { throw StageError("low-fidelity settings: [\(name)] is not a table") }
            text += "[\(name)]\n"
            for key in fields.keys.sorted() { text += "\(key) = " + (try value(fields[key]!, key: name + "." + key)) + "\n" }
        }
        return text
    }
}
