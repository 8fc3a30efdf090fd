import Foundation
import NumericalFoundations

/// What to do with a sample that has no similarity solution (formulation.md §2a, `wind.no_solution`).
public enum NoSolutionPolicy: Sendable, Equatable {
    /// Record the status and reason; the sample is left out downstream.
    case skip
    /// Keep λ and raise f_w to the smallest value with a solution plus `margin` (less blowing).
    case clamp(margin: Double)
    /// Stop with an error naming the sample.
    case error
}

/// The status code of one sample in `data/wind/status.npy` (int32).
public enum WindStatus: Int32, Sendable, CaseIterable {
    /// Solved with the sample's own parameters.
    case solved = 0
    /// Solved after the `clamp` policy raised f_w (the effective u_v is in effective_params.npy).
    case clamped = 1
    /// No solution: λ < λ_c(f_w), reverse wall motion beyond the turning point.
    case beyondFold = 2
    /// No solution: blow-off, f_w ≤ f_w* with λ ≤ 0.
    case blowOff = 3
    /// The solver did not converge (the manifest gives the reason).
    case notConverged = 4

    /// Whether the sample has a usable profile (and takes part in the FEM stage and training).
    public var hasProfile: Bool { self == .solved || self == .clamped }

    public var label: String {
        switch self {
        case .solved: return "solved"
        case .clamped: return "clamped"
        case .beyondFold: return "no_solution_beyond_fold"
        case .blowOff: return "no_solution_blow_off"
        case .notConverged: return "not_converged"
        }
    }
}

/// The outcome for one sample of the batch.
public struct WindSampleOutcome: Sendable {
    public var status: WindStatus
    /// (λ, f_w) of the sample as given.
    public var requested: SimilarityParameters
    /// (λ, f_w) actually solved (f_w raised under `clamp`).
    public var effective: SimilarityParameters
    public var solution: BlasiusSolution?
    /// λ_c(f_w) for a sample without a solution (0 under blow-off).
    public var criticalLambda: Double?
    /// Why a sample has no profile.
    public var reason: String?
    /// Shots used, including existence checks and clamping.
    public var shots: Int
    public var seconds: Double
}

/// A bad parameter table or a sample that stops the batch (`error` policy).
public struct WindBatchError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The batch of `blasius-solve`: validation of the parameter table, the solve of every sample on all
/// cores, and the `wind.no_solution` policy.
public enum WindBatch {
    /// Columns of `params.npy` (formulation.md §1): `PollutantParameters.names`.
    static let columnNames = PollutantParameters.names
    public static let u0Column = 3, uhColumn = 4, uvColumn = 5

    /// Checks an N × 6 parameter table (finite values, inside `box` if given, U0 > 0) and maps each row
    /// to (λ, f_w) by (F3). `source` names the file in the messages.
    public static func similarityParameters(table: [Double], shape: [Int], box: [ClosedRange<Double>]?,
                                            nu: Double, source: String) throws -> [SimilarityParameters] {
        guard nu.isFinite, nu > 0 else { throw WindBatchError("ν = \(nu) must be a positive number (wind.nu)") }
        guard shape.count == 2, shape[1] == columnNames.count else {
            throw WindBatchError("\(source): expected an N × \(columnNames.count) array (columns \(columnNames.joined(separator: ", "))), found shape \(shape)")
        }
        guard table.count == shape[0] * shape[1] else {
            throw WindBatchError("\(source): shape \(shape) does not match its \(table.count) values")
        }
        if let box, box.count != columnNames.count {
            throw WindBatchError("internal: the parameter box has \(box.count) intervals, expected \(columnNames.count)")
        }
        var out: [SimilarityParameters] = []
        out.reserveCapacity(shape[0])
        for i in 0..<shape[0] {
            let row = Array(table[(i * 6)..<(i * 6 + 6)])
            for (c, value) in row.enumerated() {
                guard value.isFinite else {
                    throw WindBatchError("\(source): sample \(i): \(columnNames[c]) = \(value) is not a finite number")
                }
                if let box {
                    let range = box[c]
                    let slack = 1e-12 * max(range.upperBound - range.lowerBound, abs(range.upperBound), abs(range.lowerBound))
                    guard value >= range.lowerBound - slack, value <= range.upperBound + slack else {
                        throw WindBatchError("\(source): sample \(i): \(columnNames[c]) = \(value) is outside the sampling box [\(range.lowerBound), \(range.upperBound)] ([sampling] \(columnNames[c]))")
                    }
                }
            }
            do {
                out.append(try SimilarityParameters(U0: row[u0Column], uh: row[uhColumn], uv: row[uvColumn], nu: nu))
            } catch let error as WindParameterError {
                throw WindBatchError("\(source): sample \(i): \(error.message)")
            }
        }
        return out
    }

    /// Solves one sample and applies the policy (the `error` policy is applied by `solveAll`).
    public static func solveSample(_ parameters: SimilarityParameters, solver: BlasiusSolver,
                                   policy: NoSolutionPolicy) -> WindSampleOutcome {
        let start = monotonicSeconds()
        var statistics = SolveStatistics()
        var outcome = WindSampleOutcome(status: .notConverged, requested: parameters, effective: parameters, solution: nil,
                                        criticalLambda: nil, reason: nil, shots: 0, seconds: 0)
        switch solver.solve(lambda: parameters.lambda, fw: parameters.fw, statistics: &statistics) {
        case .solved(let solution):
            outcome.status = .solved
            outcome.solution = solution
        case .notConverged(let reason):
            outcome.status = .notConverged
            outcome.reason = reason
        case .noSolution(let criticalLambda, let reason):
            outcome.criticalLambda = criticalLambda
            outcome.status = reason == .blowOff ? .blowOff : .beyondFold
            outcome.reason = "\(reason.rawValue) (λ = \(parameters.lambda), f_w = \(parameters.fw), λ_c = \(criticalLambda))"
            if case .clamp(let margin) = policy {
                switch solver.minimalSuction(lambda: parameters.lambda, statistics: &statistics) {
                case .value(let fwc):
                    let raised = SimilarityParameters(lambda: parameters.lambda, fw: max(fwc, parameters.fw) + margin)
                    switch solver.solve(lambda: raised.lambda, fw: raised.fw, statistics: &statistics) {
                    case .solved(let solution):
                        outcome.status = .clamped
                        outcome.effective = raised
                        outcome.solution = solution
                        outcome.reason = "f_w raised from \(parameters.fw) to \(raised.fw) (f_w,c(λ) = \(fwc) plus margin \(margin)); " + (outcome.reason ?? "")
                    case .noSolution(_, let r):
                        outcome.status = .notConverged
                        outcome.reason = "clamping to f_w = \(raised.fw) still gave no solution (\(r.rawValue)); raise wind.clamp_margin"
                    case .notConverged(let r):
                        outcome.status = .notConverged
                        outcome.reason = "clamping to f_w = \(raised.fw) did not converge: \(r)"
                    }
                case .unbounded:
                    outcome.status = .notConverged
                    outcome.reason = "internal: no solution reported for λ > 0"
                case .notConverged(let r):
                    outcome.status = .notConverged
                    outcome.reason = "the smallest admissible f_w could not be found: \(r)"
                }
            }
        }
        outcome.shots = statistics.shots
        outcome.seconds = (monotonicSeconds() - start)
        return outcome
    }

    /// Solves every sample on all cores (`ParallelWork.forEachItem`), calling `progress` after
    /// each (from any thread). Under the `error` policy, throws for the first sample without a profile.
    public static func solveAll(_ parameters: [SimilarityParameters], solver: BlasiusSolver, policy: NoSolutionPolicy,
                                progress: (@Sendable (WindSampleOutcome) -> Void)? = nil) throws -> [WindSampleOutcome] {
        let n = parameters.count
        guard n > 0 else { return [] }
        let placeholder = WindSampleOutcome(status: .notConverged, requested: SimilarityParameters(lambda: 0, fw: 0),
                                            effective: SimilarityParameters(lambda: 0, fw: 0), solution: nil,
                                            criticalLambda: nil, reason: "not run", shots: 0, seconds: 0)
        var outcomes = [WindSampleOutcome](repeating: placeholder, count: n)
        // Under `error`, samples after the first failing one found so far are not solved: they cannot
        // change which sample is reported (the lowest failing index), and the run stops sooner.
        let firstFailure = FirstIndex(n)
        outcomes.withUnsafeMutableBufferPointer { buffer in
            // Each iteration writes only its own slot (n > 0, so the buffer has storage).
            guard let slots = buffer.baseAddress else { return }
            ParallelWork.forEachItem(count: n) { i in
                if policy == .error, i > firstFailure.value { return }
                let outcome = solveSample(parameters[i], solver: solver, policy: policy)
                slots[i] = outcome
                if !outcome.status.hasProfile { firstFailure.lower(to: i) }
                progress?(outcome)
            }
        }
        if policy == .error, let i = outcomes.firstIndex(where: { !$0.status.hasProfile }) {
            let o = outcomes[i]
            throw WindBatchError("sample \(i) has no wind profile (\(o.status.label): \(o.reason ?? "no reason recorded")); wind.no_solution = \"error\" stops here (use \"skip\" or \"clamp\")")
        }
        return outcomes
    }
}

/// The smallest index reported so far, shared by the workers.
private final class FirstIndex: @unchecked Sendable {
    private var current: Int
    private let lock = NSLock()
    init(_ initial: Int) { current = initial }
    var value: Int { lock.lock(); defer { lock.unlock() }; return current }
    func lower(to index: Int) { lock.lock(); current = min(current, index); lock.unlock() }
}
