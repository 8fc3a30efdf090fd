import Foundation
import NumericalFoundations
import Surrogates

/// When the refine loop fits POD-GP's hyper-parameters.
///
/// `everyRound` maximises the likelihood again after every batch, so a round's error moves with the
/// new samples *and* with a new optimum (another seeded subset, other restarts). `initialDesign`
/// fits them once, on the initial design, and every later round only conditions the GPs on all its
/// samples with those values (mode k keeps the initial fit's mode-k values; modes beyond the initial
/// rank are fitted). Both arms of a study then share one set of hyper-parameters — the initial
/// design is the same — so the difference between LHS and adaptive curves is the design's alone.
public enum RefineHyperparameters: String, Codable, CaseIterable, Sendable {
    case everyRound = "every_round"
    case initialDesign = "initial_design"

    /// The file that holds the initial design's values (in round 0's folder of a run, in the seed's
    /// folder of an LHS curve).
    public static let file = "hyperparameters.json"

    static func write(_ values: [GaussianProcessHyperparameters], to url: URL) throws {
        try AtomicFile.writeJSON(values, to: url)
    }

    static func read(from url: URL) throws -> [GaussianProcessHyperparameters] {
        guard let data = try? Data(contentsOf: url) else {
            throw StageError("refine: \(url.path) is missing: the initial design's POD-GP hyper-parameters, written when it was fitted; "
                             + "delete the run's folder to start afresh")
        }
        guard let values = try? JSONDecoder().decode([GaussianProcessHyperparameters].self, from: data), !values.isEmpty,
              values.allSatisfy({ $0.vector.allSatisfy(\.isFinite) }) else {
            throw StageError("refine: \(url.path) is damaged: expected a non-empty list of finite GP hyper-parameters, one per POD mode")
        }
        return values
    }
}

/// Which training solves the scored POD-GP is conditioned on.
///
/// `fitRows`: the model as `train-dmd fit` makes it, on the fitting rows only — a seeded share of the
/// solves (`[surrogate] validation_fraction`) is held out for validation, and since the split is a
/// permutation of the round's sample count, *which* solves are held out changes from round to round.
/// `everySolve`: the same hyper-parameters and POD basis, the GPs then conditioned on every training
/// solve (as the acquisition already is), so a point of the curve is the error of a model that uses
/// all of its solves; the validation scores stay those of the fitting rows' model (out of sample).
public enum RefineConditioning: String, Codable, CaseIterable, Sendable {
    case fitRows = "fit_rows"
    case everySolve = "every_solve"
}

/// The hyper-parameters a point's POD-GP was fitted with (or held at), by mode, with the names of its
/// inputs — kept with every point of a curve (`evaluation.json` of an adaptive round, the `n_*.json`
/// of an LHS point), so that how the design moves the likelihood's optimum is read, not inferred.
public struct FittedHyperparameters: Codable, Equatable, Sendable {
    /// The GP inputs in the order of each mode's length scales: the parameters, then the wind's descriptors.
    public var inputs: [String]
    public var modes: [GaussianProcessHyperparameters]
    /// The per-sample scale's GP (`gp_output = scale_shape`), nil otherwise.
    public var scale: GaussianProcessHyperparameters?
    /// The parameters' warp (`input_warping`), nil without one (and absent from the file: earlier
    /// points read back unchanged).
    public var inputWarping: InputWarping?

    /// Those of `surrogate` when it is a POD-GP, nil otherwise.
    init?(_ surrogate: FieldSurrogate) {
        guard let rom = surrogate as? ReducedOrderSurrogate, case .gaussianProcess(let gp) = rom.model else { return nil }
        inputs = rom.inputNames + (rom.descriptorInputs?.names ?? [])
        modes = gp.processes.map(\.hyperparameters)
        scale = gp.scaleProcess?.hyperparameters
        inputWarping = rom.features.warping
    }
}
