import Foundation

/// The data folder's layout: every folder and file name that one stage writes and another reads,
/// spelt once (the table in docs/architecture.md). Stages build their URLs here; the domain
/// libraries take URLs and know no layout. Files that a domain library writes into a folder it is
/// handed (a model's layers, the sweep's arrays) keep their names there.
public struct DataLayout: Sendable {
    /// The data folder (`--data-dir`).
    public let root: URL

    public init(_ root: URL) { self.root = root }

    /// Every stage's folder records its run in this file.
    public static let manifestFile = "manifest.json"

    /// lhs-sample's output.
    public var samples: Samples { Samples(folder: subfolder(Samples.folderName)) }
    /// blasius-solve's output.
    public var wind: Wind { Wind(folder: subfolder(Wind.folderName)) }
    /// pollutant-fem's output.
    public var fem: FEM { FEM(folder: subfolder(FEM.folderName)) }
    /// The trained surrogates, one folder each, and their comparison.
    public var models: Models { Models(folder: subfolder(Models.folderName)) }
    /// train-dmd learning-curve's output.
    public var learningCurve: LearningCurveFolder { LearningCurveFolder(folder: subfolder(LearningCurveFolder.folderName)) }
    /// train-dmd sweep's default output: the (m, s) study.
    public var sweep: Sweep { Sweep(folder: subfolder(Sweep.folderName)) }
    public var refine: Refine { Refine(folder: subfolder(Refine.folderName)) }
    /// uq-propagate's output.
    public var uq: UQ { UQ(folder: subfolder(UQ.folderName)) }
    /// uq-propagate fem-reference's output: the finite-element Monte Carlo of the [uq] distribution.
    public var uqFEMReference: UQFEMReference { UQFEMReference(folder: subfolder(UQFEMReference.folderName)) }
    /// evaluate's output.
    public var report: Report { Report(folder: subfolder(Report.folderName)) }

    private func subfolder(_ name: String) -> URL { root.appendingPathComponent(name, isDirectory: true) }

    public struct Samples: Sendable {
        public static let folderName = "samples"
        public static let paramsFile = "params.npy", splitFile = "split.npy"
        public let folder: URL
        /// N × 6 float64: K12, K3, D, U0, u_h, u_v.
        public var params: URL { folder.appendingPathComponent(Self.paramsFile) }
        /// N uint8: 0 train, 1 test.
        public var split: URL { folder.appendingPathComponent(Self.splitFile) }
        public var manifest: URL { folder.appendingPathComponent(DataLayout.manifestFile) }
    }

    public struct Wind: Sendable {
        public static let folderName = "wind"
        public static let profilesFile = "profiles.npy", summaryFile = "summary.npy", statusFile = "status.npy"
        public static let logWallCurvatureFile = "log_fpp0.npy", effectiveParamsFile = "effective_params.npy"
        public let folder: URL
        public var profiles: URL { folder.appendingPathComponent(Self.profilesFile) }
        public var summary: URL { folder.appendingPathComponent(Self.summaryFile) }
        public var status: URL { folder.appendingPathComponent(Self.statusFile) }
        public var logWallCurvature: URL { folder.appendingPathComponent(Self.logWallCurvatureFile) }
        public var effectiveParams: URL { folder.appendingPathComponent(Self.effectiveParamsFile) }
        public var manifest: URL { folder.appendingPathComponent(DataLayout.manifestFile) }
    }

    public struct FEM: Sendable {
        public static let folderName = "fem"
        /// The file names also hold inside each shard's folder.
        public static let c3File = "c3.npy", statusFile = "status.npy", pointsFile = "points.npy"
        /// N × P × 6 float64, ∂c3/∂θ (with `[fem] sensitivities = true`).
        public static let sensitivitiesFile = "dc3_dtheta.npy"
        public static let fieldsFolder = "fields", shardsFolder = "shards", checkpointsFolder = "checkpoints"
        public let folder: URL
        public var c3: URL { folder.appendingPathComponent(Self.c3File) }
        public var status: URL { folder.appendingPathComponent(Self.statusFile) }
        public var points: URL { folder.appendingPathComponent(Self.pointsFile) }
        public var sensitivities: URL { folder.appendingPathComponent(Self.sensitivitiesFile) }
        /// The Figure 2 fields (.vtu).
        public var fields: URL { folder.appendingPathComponent(Self.fieldsFolder, isDirectory: true) }
        public var shards: URL { folder.appendingPathComponent(Self.shardsFolder, isDirectory: true) }
        public var manifest: URL { folder.appendingPathComponent(DataLayout.manifestFile) }
    }

    public struct Models: Sendable {
        public static let folderName = "models"
        public static let comparisonFile = "comparison.json"
        public let folder: URL
        /// The folder of model `name` (plain, dmd, tuned, pod_gp, pod_nn).
        public func model(_ name: String) -> Model { Model(folder: folder.appendingPathComponent(name, isDirectory: true)) }
        /// train-dmd compare's table of the surrogates.
        public var comparison: URL { folder.appendingPathComponent(Self.comparisonFile) }
    }

    public struct Model: Sendable {
        public static let historyFile = "history.csv", jumpsFile = "jumps.csv", eigenvaluesFolder = "eigenvalues"
        public let folder: URL
        /// One row per epoch.
        public var history: URL { folder.appendingPathComponent(Self.historyFile) }
        /// DMD training: one line per jump.
        public var jumps: URL { folder.appendingPathComponent(Self.jumpsFile) }
        /// DMD training: the eigenvalues of each jump.
        public var eigenvalues: URL { folder.appendingPathComponent(Self.eigenvaluesFolder, isDirectory: true) }
        public var manifest: URL { folder.appendingPathComponent(DataLayout.manifestFile) }
    }

    public struct LearningCurveFolder: Sendable {
        public static let folderName = "learning_curve"
        public static let csvFile = "learning_curve.csv"
        public let folder: URL
        public var csv: URL { folder.appendingPathComponent(Self.csvFile) }
        public var manifest: URL { folder.appendingPathComponent(DataLayout.manifestFile) }
    }

    /// `train-dmd refine` (one adaptive-sampling run per folder) and `train-dmd refine-study`.
    public struct Refine: Sendable {
        public static let folderName = "refine"
        public static let studyFolder = "study"
        public static let csvFile = "refine_study.csv", curvesFile = "refine_curves.csv", savingsFile = "refine_savings.csv"
        public static let hyperparametersFile = "refine_hyperparameters.csv", pairedFile = "refine_paired.csv", swapFile = "refine_swap.csv"
        /// Points imported from a study table made on another machine (`refine-study --import-table`).
        public static let importedFile = "imported.csv"
        public let folder: URL
        public func run(_ name: String) -> RefineRun { RefineRun(folder: folder.appendingPathComponent(name, isDirectory: true)) }
        public var study: URL { folder.appendingPathComponent(Self.studyFolder, isDirectory: true) }
        public var studyCSV: URL { study.appendingPathComponent(Self.csvFile) }
        public var studyCurves: URL { study.appendingPathComponent(Self.curvesFile) }
        public var studySavings: URL { study.appendingPathComponent(Self.savingsFile) }
        public var studyHyperparameters: URL { study.appendingPathComponent(Self.hyperparametersFile) }
        public var studyPaired: URL { study.appendingPathComponent(Self.pairedFile) }
        public var studyImported: URL { study.appendingPathComponent(Self.importedFile) }
        public var studySwap: URL { study.appendingPathComponent(Self.swapFile) }
        public var studyManifest: URL { study.appendingPathComponent(DataLayout.manifestFile) }
    }

    /// One adaptive-sampling run: its settings and a folder per round.
    public struct RefineRun: Sendable {
        public static let settingsFile = "run.json", poolFile = "pool.npy"
        public static let baseRowsFile = "base_rows.npy", paramsFile = "params.npy", chosenFile = "chosen.npy"
        public static let acquisitionFile = "acquisition.npy", evaluationFile = "evaluation.json", timingsFile = "timings.json"
        /// A model's relative L2 error on each test sample (the test split's order; NaN where undefined).
        public static func testErrorsFile(_ model: String) -> String { "test_errors_\(model).npy" }
        public let folder: URL
        public var settings: URL { folder.appendingPathComponent(Self.settingsFile) }
        public func round(_ r: Int) -> URL { folder.appendingPathComponent(String(format: "round_%03d", r), isDirectory: true) }
        public func file(_ name: String, round r: Int) -> URL { round(r).appendingPathComponent(name) }
        public func manifest(round r: Int) -> URL { file(DataLayout.manifestFile, round: r) }
        public func checkpoints(round r: Int) -> URL { round(r).appendingPathComponent(FEM.checkpointsFolder, isDirectory: true) }
    }

    public struct Sweep: Sendable {
        public static let folderName = "sweep"
        public let folder: URL
        public var manifest: URL { folder.appendingPathComponent(DataLayout.manifestFile) }
    }

    public struct UQ: Sendable {
        public static let folderName = "uq"
        public static let reportFile = "uq.md"
        /// The surrogate's maps against the FEM Monte Carlo reference (`compare-fem`).
        public static let referenceComparisonName = "fem_reference_comparison"
        public let folder: URL
        public var report: URL { folder.appendingPathComponent(Self.reportFile) }
        public var manifest: URL { folder.appendingPathComponent(DataLayout.manifestFile) }
    }

    public struct UQFEMReference: Sendable {
        public static let folderName = "uq_fem_reference"
        public let folder: URL
        /// N × 6 float64: the drawn feasible parameter rows.
        public var params: URL { folder.appendingPathComponent("params.npy") }
        /// N × P float64 (zero rows unless status 0), N int32 `FEMStatus`, P × 2 points.
        public var c3: URL { folder.appendingPathComponent(FEM.c3File) }
        public var status: URL { folder.appendingPathComponent(FEM.statusFile) }
        public var points: URL { folder.appendingPathComponent(FEM.pointsFile) }
        /// P float64 each: the maps over the converged samples; 2 × P: their bootstrap intervals (low, high).
        public var mean: URL { folder.appendingPathComponent("mean.npy") }
        public var std: URL { folder.appendingPathComponent("std.npy") }
        public var meanInterval: URL { folder.appendingPathComponent("mean_interval.npy") }
        public var stdInterval: URL { folder.appendingPathComponent("std_interval.npy") }
        public var checkpoints: URL { folder.appendingPathComponent(FEM.checkpointsFolder, isDirectory: true) }
        public var manifest: URL { folder.appendingPathComponent(DataLayout.manifestFile) }
    }

    public struct Report: Sendable {
        public static let folderName = "report"
        public static let metricsFile = "metrics.json"
        public let folder: URL
        public var metrics: URL { folder.appendingPathComponent(Self.metricsFile) }
        public var manifest: URL { folder.appendingPathComponent(DataLayout.manifestFile) }
    }
}
