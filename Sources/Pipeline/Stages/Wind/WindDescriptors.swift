import Foundation
import NumericalFoundations
import PDE
import Surrogates

/// The wind's descriptors of a parameter set, the POD models' inputs under `[surrogate]
/// input_features = "parameters+wind"`: λ, f_w (F3), the wall curvature f''(0) and the displacement
/// constant β of its Blasius profile — the four columns of wind/summary.npy. They are computed by the
/// wind stage's own solve (`WindBatch.solveSample` with the `[wind] no_solution` policy, on all
/// cores), so a training sample's descriptors are its summary row and a new θ's are what the wind
/// stage would write for it. A θ without a wind profile (blow-off, beyond the fold, not converged)
/// has none: `values` throws naming it.
public final class WindDescriptors: ParameterDescriptorSource {
    /// `DescriptorInputs.source` of a model fitted on these descriptors.
    public static let sourceName = "blasius-wind"
    /// The summary's columns, in its order.
    public static let descriptorNames = ["lambda", "f_w", "wall_curvature", "displacement"]

    public var names: [String] { Self.descriptorNames }
    let nu: Double
    let solver: BlasiusSolver
    /// Clamping (raise f_w to the existence boundary) or not; `error` acts as `skip` here: one θ
    /// without a wind fails only its own prediction.
    let policy: NoSolutionPolicy

    public init(wind: WindSettings) {
        nu = wind.nu
        solver = BlasiusSolver(tolerance: wind.tolerance, profilePoints: wind.profilePoints)
        let configured = NoSolutionPolicy(wind)
        policy = configured == .error ? .skip : configured
    }

    /// The source a model file records (`settings`: the viscosity, the shooting tolerance, the profile's
    /// points and, under clamping, its margin).
    public init(recorded: DescriptorInputs) throws {
        guard recorded.source == Self.sourceName else {
            throw StageError("descriptor source \"\(recorded.source)\" is not known (expected \"\(Self.sourceName)\")")
        }
        guard let nu = recorded.settings["nu"], nu.isFinite, nu > 0, let tolerance = recorded.settings["tolerance"], tolerance.isFinite, tolerance > 0,
              let points = recorded.settings["points"], points.isFinite, points >= 2, points <= 1e7 else {
            throw StageError("descriptor settings \(recorded.settings): expected a positive nu and tolerance and points ≥ 2")
        }
        self.nu = nu
        solver = BlasiusSolver(tolerance: tolerance, profilePoints: Int(points))
        if let margin = recorded.settings["margin"] {
            guard margin.isFinite, margin >= 0 else { throw StageError("descriptor settings: margin \(margin) must be a non-negative number") }
            policy = .clamp(margin: margin)
        } else {
            policy = .skip
        }
    }

    /// Makes the source of any model file's recorded descriptors (`SurrogateLoader.load`).
    public static let factory: DescriptorSourceFactory = { try WindDescriptors(recorded: $0) }

    /// What the model file records so that `init(recorded:)` recomputes the same values.
    public var settings: [String: Double] {
        var s = ["nu": nu, "tolerance": solver.tolerance, "points": Double(solver.profilePoints)]
        if case .clamp(let margin) = policy { s["margin"] = margin }
        return s
    }

    /// Each parameter set's descriptors, or why it has none.
    public func solve(parameters: [Double], rows: Int) throws -> [Result<[Double], StageError>] {
        let similarity: [SimilarityParameters]
        do {
            similarity = try WindBatch.similarityParameters(table: parameters, shape: [rows, PollutantParameters.names.count], box: nil,
                                                            nu: nu, source: "parameters")
        } catch let error as WindBatchError { throw StageError(error.message) }
        _ = BlasiusSolver.blowOffSuction   // computed once, before the workers start
        let outcomes = try WindBatch.solveAll(similarity, solver: solver, policy: policy)
        return outcomes.map { o in
            guard o.status.hasProfile, let s = o.solution else {
                return .failure(StageError("no wind profile (\(o.status.label): \(o.reason ?? "no reason recorded"))"))
            }
            return .success([s.lambda, s.fw, s.wallCurvature, s.displacement])
        }
    }

    public func values(parameters: [Double], rows: Int, threads: Int) throws -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(rows * names.count)
        for (i, result) in try solve(parameters: parameters, rows: rows).enumerated() {
            switch result {
            case .success(let v): out += v
            case .failure(let e):
                throw StageError("parameter set \(i): \(e.description); the model takes the wind's descriptors as inputs and predicts only where the wind exists")
            }
        }
        return out
    }
}
