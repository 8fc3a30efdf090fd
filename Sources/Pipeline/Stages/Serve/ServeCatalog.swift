import Foundation
import NumericalFoundations
import Surrogates

/// The models `pollutant-serve` offers, by name: "pollutant" (the FEM), every folder of DATA/models
/// that holds a fitted surrogate, and "best", the surrogate `[surrogate] best` names (when fitted).
public final class ServeCatalog: @unchecked Sendable {
    public let models: [ServedModel]
    /// Folders of DATA/models that hold no loadable model, with the reason (printed at start-up).
    public let skipped: [(name: String, reason: String)]

    public init(models: [ServedModel], skipped: [(name: String, reason: String)] = []) {
        self.models = models; self.skipped = skipped
    }

    public var names: [String] { models.map(\.name) }
    public func model(_ name: String) -> ServedModel? { models.first { $0.name == name } }

    /// The catalogue of a configuration and data folder.
    public static func load(_ options: ServeOptions) throws -> ServeCatalog {
        let config = try options.stage.loadConfig()
        var models: [ServedModel] = [try FEMServedModel(config: config, workers: options.workers)]
        var skipped: [(String, String)] = []
        let folder = DataLayout(options.stage.dataURL).models.folder
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
        var loaded: [String: CoalescedEvaluation] = [:]
        for name in names where name != "best" && name != "pollutant" {
            let url = folder.appendingPathComponent(name, isDirectory: true)
            guard isModelFolder(url) else { continue }
            do {
                let surrogate = try SurrogateLoader.loadWithPipelineSources(from: url)
                let evaluation = CoalescedEvaluation(surrogate: surrogate, cores: ProcessInfo.processInfo.activeProcessorCount)
                loaded[name] = evaluation
                models.append(SurrogateServedModel(name: name, evaluation: evaluation))
            } catch {
                skipped.append((name, "\(error)"))
            }
        }
        let best = config.surrogate.best.rawValue
        if let evaluation = loaded[best] {
            models.append(SurrogateServedModel(name: "best", evaluation: evaluation))
        } else {
            skipped.append(("best", "[surrogate] best = \(best) is not fitted in \(folder.path)"))
        }
        return ServeCatalog(models: models, skipped: skipped)
    }

    /// A folder with a model description (`model.json`, `surrogate.json` or `ensemble.json`).
    static func isModelFolder(_ url: URL) -> Bool {
        [SurrogateModel.descriptionFile, ReducedOrderSurrogate.descriptionFile, EnsembleSurrogate.descriptionFile].contains {
            FileManager.default.fileExists(atPath: url.appendingPathComponent($0).path)
        }
    }
}
