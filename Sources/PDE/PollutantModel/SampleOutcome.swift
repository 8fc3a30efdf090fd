import Foundation
import NumericalFoundations

/// The status code of one sample in `data/fem/status.npy` (int32). Every code except `converged`
/// leaves the sample's row of c3.npy at zeros.
public enum FEMStatus: Int32, Sendable, CaseIterable, Codable {
    /// Newton converged; the row of c3.npy holds c3 at the observation points.
    case converged = 0
    /// Not solved: `blasius-solve` found no wind profile (its status is in the record).
    case noWindProfile = 1
    /// Newton reached `fem.newton_max_iterations` without reaching `fem.newton_tolerance`.
    case newtonNotConverged = 2
    /// Newton's backtracking line search found no decrease.
    case lineSearchFailed = 3
    /// A non-finite residual, step or concentration.
    case nonFinite = 4
    /// UMFPACK failed (e.g. a singular Jacobian).
    case linearSolverFailed = 5
    /// The sample's problem could not be set up (e.g. an unusable wind at some node).
    case invalidProblem = 6

    public var label: String {
        switch self {
        case .converged: return "converged"
        case .noWindProfile: return "no_wind_profile"
        case .newtonNotConverged: return "newton_not_converged"
        case .lineSearchFailed: return "newton_line_search_failed"
        case .nonFinite: return "non_finite"
        case .linearSolverFailed: return "linear_solver_failed"
        case .invalidProblem: return "invalid_problem"
        }
    }
}

/// What the batch records for one sample (in the checkpoints, shard files and the manifest).
/// Times are wall-clock seconds of this sample on its worker thread.
public struct SampleRecord: Sendable, Codable, Equatable {
    public var sample: Int
    public var status: FEMStatus
    public var reason: String?
    /// The sample's code in wind/status.npy (0 solved, 1 clamped, …).
    public var windStatus: Int32
    public var newtonIterations: Int
    public var factorizations: Int
    /// ‖F(c)‖/‖F(0)‖ after the initial (K12 = 0) solve and after each Newton step.
    public var relativeResiduals: [Double]
    public var minC1: Double?
    public var minC2: Double?
    public var minC3: Double?
    public var maxC3: Double?
    /// Nodes where c = 0 was imposed (inflow).
    public var inflowNodes: Int
    public var seconds: Double
    public var assemblySeconds: Double
    public var factorizationSeconds: Double
    /// Why ∂c3/∂θ of a converged sample could not be computed (its rows of dc3_dtheta.npy are then zeros).
    public var sensitivityFailure: String?

    public var finalRelativeResidual: Double? { relativeResiduals.last }

    enum CodingKeys: String, CodingKey {
        case sample, status, reason, windStatus = "wind_status", newtonIterations = "newton_iterations", factorizations
        case relativeResiduals = "relative_residuals", minC1 = "min_c1", minC2 = "min_c2", minC3 = "min_c3", maxC3 = "max_c3"
        case inflowNodes = "inflow_nodes", seconds, assemblySeconds = "assembly_seconds", factorizationSeconds = "factorization_seconds"
        case sensitivityFailure = "sensitivity_failure"
    }

    init(sample: Int, status: FEMStatus, reason: String?, windStatus: Int32) {
        self.sample = sample; self.status = status; self.reason = reason; self.windStatus = windStatus
        newtonIterations = 0; factorizations = 0; relativeResiduals = []
        inflowNodes = 0; seconds = 0; assemblySeconds = 0; factorizationSeconds = 0
    }

    /// The record as JSON for the manifest (with the status label and the final residual spelled out).
    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "sample": JSONValue(sample), "status": JSONValue(Int(status.rawValue)), "label": JSONValue(status.label),
            "wind_status": JSONValue(Int(windStatus)), "newton_iterations": JSONValue(newtonIterations),
            "factorizations": JSONValue(factorizations), "inflow_nodes": JSONValue(inflowNodes),
            "seconds": JSONValue(seconds), "assembly_seconds": JSONValue(assemblySeconds),
            "factorization_seconds": JSONValue(factorizationSeconds),
            "relative_residuals": .array(relativeResiduals.map { JSONValue($0) })]
        if let reason { o["reason"] = JSONValue(reason) }
        if let sensitivityFailure { o["sensitivity_failure"] = JSONValue(sensitivityFailure) }
        if let r = finalRelativeResidual { o["final_relative_residual"] = JSONValue(r) }
        if let v = minC1 { o["min_c1"] = JSONValue(v) }
        if let v = minC2 { o["min_c2"] = JSONValue(v) }
        if let v = minC3 { o["min_c3"] = JSONValue(v) }
        if let v = maxC3 { o["max_c3"] = JSONValue(v) }
        return .object(o)
    }
}

/// One sample's result: its record and its row of c3.npy (zeros unless converged).
public struct SampleOutcome: Sendable {
    public var record: SampleRecord
    public var c3: [Double]
    /// P × 6 ∂c3/∂θ (zeros unless converged) when sensitivities were asked for, else nil.
    public var sensitivities: [Double]? = nil
}

extension PollutantSolver {
    /// Solves sample `index` for the batch, turning every failure into a status and a reason (never
    /// throws, never returns a non-finite value): `profile` nil means the wind stage gave none.
    public func solveSample(index: Int, parameters: PollutantParameters, windStatus: WindStatus,
                            profile: BlasiusProfile?, nu: Double, x0: Double, sensitivities: SensitivityOptions? = nil) -> SampleOutcome {
        let started = monotonicSeconds()
        let pointCount = discretization.observation.count
        let zeros = [Double](repeating: 0, count: pointCount)
        var record = SampleRecord(sample: index, status: .converged, reason: nil, windStatus: windStatus.rawValue)
        func finish(_ status: FEMStatus, _ reason: String?, _ report: NewtonReport?) -> SampleOutcome {
            record.status = status
            record.reason = reason
            if let report {
                record.newtonIterations = report.iterations
                record.factorizations = report.factorizations
                record.relativeResiduals = report.relativeResiduals.filter { $0.isFinite }
                record.assemblySeconds = report.assemblySeconds
                record.factorizationSeconds = report.factorizationSeconds
            }
            record.seconds = (monotonicSeconds() - started)
            return SampleOutcome(record: record, c3: zeros,
                                 sensitivities: sensitivities.map { _ in [Double](repeating: 0, count: pointCount * PollutantSensitivities.parameterCount) })
        }
        guard let profile else {
            return finish(.noWindProfile, "blasius-solve gave no wind profile (wind status \(windStatus.rawValue), \(windStatus.label))", nil)
        }
        do {
            let solution = try solve(parameters, profile: profile, nu: nu, x0: x0)
            var outcome = finish(.converged, nil, solution.report)
            guard solution.c3AtObservations.allSatisfy({ $0.isFinite }) else {
                return finish(.nonFinite, "c3 at an observation point is not finite", solution.report)
            }
            let minima = solution.minima, maxima = solution.maxima
            outcome.record.minC1 = minima[0]; outcome.record.minC2 = minima[1]; outcome.record.minC3 = minima[2]
            outcome.record.maxC3 = maxima[2]
            outcome.record.inflowNodes = solution.inflowNodes.filter { $0 }.count
            outcome.c3 = solution.c3AtObservations
            // The solve above is the same with or without sensitivities; a failure here only zeroes
            // the sample's sensitivities and is recorded, its c3 and status stand.
            if let options = sensitivities {
                do {
                    outcome.sensitivities = try self.sensitivities(of: solution, parameters: parameters, options: options).observations
                } catch {
                    outcome.record.sensitivityFailure = "\(error)"
                }
                outcome.record.seconds = monotonicSeconds() - started
            }
            return outcome
        } catch let failure as NewtonFailure {
            let status: FEMStatus
            switch failure.reason {
            case .notConverged: status = .newtonNotConverged
            case .lineSearchFailed: status = .lineSearchFailed
            case .nonFiniteResidual: status = .nonFinite
            case .linearSolver: status = .linearSolverFailed
            }
            return finish(status, failure.description, failure.report)
        } catch let error as NonFiniteSolution {
            return finish(.nonFinite, error.message, nil)
        } catch {
            return finish(.invalidProblem, "\(error)", nil)
        }
    }
}
