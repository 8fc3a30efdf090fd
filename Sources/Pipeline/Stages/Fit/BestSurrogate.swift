import Foundation
import ArgumentParser
import NumericalFoundations

/// `[surrogate] best = "by_validation"`: among the fitted models of DATA/models (tuned, pod_gp, pod_nn,
/// ensemble), the one with the smallest median validation relative L2 recorded in its fit.json (ties:
/// the smaller p95, then the order of `SurrogateSettings.Model`). Every model of `train-dmd fit` is
/// scored on the same validation rows (`[surrogate] validation_fraction`, `validation_seed`), so the
/// medians compare like with like.
public enum BestSurrogate {
    public struct Candidate: Sendable, Equatable {
        public var model: SurrogateSettings.Model
        public var median: Double
        public var p95: Double
    }

    /// The fitted models with their validation scores, best first; models without a readable fit.json
    /// are left out.
    public static func ranking(models folder: URL) -> [Candidate] {
        let candidates = SurrogateSettings.Model.allCases.compactMap { model -> Candidate? in
            let url = folder.appendingPathComponent(model.rawValue, isDirectory: true).appendingPathComponent("fit.json")
            guard let data = try? Data(contentsOf: url),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let validation = object["validation_relative_l2"] as? [String: Any],
                  let median = (validation["median"] as? NSNumber)?.doubleValue, median.isFinite,
                  let p95 = (validation["p95"] as? NSNumber)?.doubleValue, p95.isFinite else { return nil }
            return Candidate(model: model, median: median, p95: p95)
        }
        let order = SurrogateSettings.Model.allCases
        return candidates.sorted {
            ($0.median, $0.p95, order.firstIndex(of: $0.model)!) < ($1.median, $1.p95, order.firstIndex(of: $1.model)!)
        }
    }

    /// `config` with `best = "by_validation"` replaced by the chosen model (and `[uq] model` with it where
    /// it defaulted to best), with a note on stderr naming the choice and the runners-up; unchanged
    /// when best names a model or nothing is fitted yet.
    public static func resolve(_ config: PipelineConfig, data: URL) -> PipelineConfig {
        guard case .byValidation = config.surrogate.best else { return config }
        let ranked = ranking(models: DataLayout(data).models.folder)
        guard let chosen = ranked.first else { return config }
        var resolved = config
        resolved.surrogate.best = .model(chosen.model)
        if resolved.uq.model == SurrogateSettings.BestChoice.byValidationName { resolved.uq.model = chosen.model.rawValue }
        let scores = ranked.map { String(format: "%@ %.4g / %.4g", $0.model.rawValue, $0.median, $0.p95) }.joined(separator: ", ")
        note("note: [surrogate] best = by_validation: \(chosen.model.rawValue) (validation median / p95: \(scores))")
        return resolved
    }
}

/// `train-dmd best`: prints the name of `[surrogate] best` after resolving `by_validation` against the
/// fitted models (for scripts: `pipeline.sh` asks it which model the uq stage reads).
public struct BestOptions: ParsableArguments {
    @OptionGroup public var stage: StageOptions
    public init() {}
}

public enum BestStage {
    public static func run(_ options: BestOptions) throws {
        let config = try options.stage.loadConfig()
        if case .byValidation = config.surrogate.best {
            throw StageError("train-dmd best: [surrogate] best = by_validation, but no model in \(DataLayout(options.stage.dataURL).models.folder.path) "
                             + "has a fit.json with validation scores: run `train-dmd fit` first")
        }
        print(config.surrogate.best.rawValue)
    }
}
