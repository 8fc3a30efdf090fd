import ArgumentParser
import Pipeline

/// `train-dmd`: the surrogate network of formulation.md §4 — training (with DMD acceleration),
/// prediction, the benchmarks, and the stand-alone DMD tool. Each subcommand parses its options
/// (declared in Pipeline, beside its stage) and calls the stage; see docs/train.md and docs/dmd.md.
struct TrainDMD: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-dmd",
        abstract: "Train the neural-network surrogate of c3 (6 parameters → c3 at the observation points), and use it.",
        discussion: """
        Without a subcommand, `train` runs. Typical use (details in docs/train.md):

          train-dmd --config configs/paper.toml                  (DMD-accelerated, Algorithm 1; model "dmd")
          train-dmd --config configs/paper.toml --no-dmd         (plain Adam; model "plain")
          train-dmd --config configs/paper.toml --no-dmd --resume
          train-dmd refine --initial 100 --batch 50 --budget 400    (adaptive sampling, docs/surrogates.md)
          train-dmd study --seeds 3 --epochs 300                 (the acceleration study, docs/dmd-training.md)
          train-dmd verdict --phase all --seeds 10 --epochs 1000  (the paired study: tuning, cost, evaluation)
          train-dmd sweep --m 2:20:2 --s 5:100:5 --epochs 300     (the (m, s) study, docs/dmd-training.md)
          train-dmd predict --model data/models/plain --params sets.csv
          train-dmd dmd --snapshots W.npy --steps 55
          swift run -c release train-dmd bench
          swift run -c release train-dmd bench-dmd               (the overhead of DMD per epoch)
        """,
        subcommands: [Train.self, Fit.self, Compare.self, Best.self, LearningCurveCommand.self, Refine.self, RefineStudy.self, Study.self, StudyRun.self, Verdict.self, Predict.self, DMDCommand.self, Sweep.self,
                      Bench.self, BenchDMD.self, BenchGP.self, SyntheticFEM.self, BLASKernel.self],
        defaultSubcommand: Train.self)
}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train the surrogate network on DATA/samples and DATA/fem (the default subcommand).",
        discussion: TrainOptions.discussion)
    @OptionGroup var options: TrainOptions
    func run() throws { try TrainStage.run(options) }
}

struct Fit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit", abstract: "Fit the surrogates beyond the paper's network (tuned MLP, POD-GP, POD-NN) into DATA/models/NAME.",
        discussion: FitOptions.discussion)
    @OptionGroup var options: FitOptions
    func run() throws { try SurrogateFitStage.run(options) }
}

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Score every model in DATA/models (plain, dmd, tuned, pod_gp, pod_nn) on the test split and print the table.")
    @OptionGroup var options: CompareOptions
    func run() throws { try CompareStage.run(options) }
}

struct Best: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "best",
        abstract: "Print the model [surrogate] best names; with best = \"by_validation\", the fitted model with the smallest validation median.")
    @OptionGroup var options: BestOptions
    func run() throws { try BestStage.run(options) }
}

struct LearningCurveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "learning-curve",
        abstract: "Refit the surrogates on nested subsets of the training samples and score each on the test split.",
        discussion: "Writes DATA/learning_curve/learning_curve.csv (model, samples, test median and p95 relative L2, seconds) and manifest.json; `evaluate` draws it. Models: paper (the paper's network and recipe), tuned, pod_gp, pod_nn.")
    @OptionGroup var options: LearningCurveOptions
    func run() throws { try LearningCurveStage.run(options) }
}

struct Refine: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refine", abstract: "Adaptive sampling: acquire FEM solves where POD-GP is most uncertain, refit, repeat (resumable).",
        discussion: RefineOptions.discussion)
    @OptionGroup var options: RefineOptions
    func run() throws { try RefineStage.run(options) }
}

struct RefineStudy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refine-study", abstract: "Test error against FEM training solves: nested LHS subsets against adaptive sampling, several seeds (resumable).",
        discussion: "Writes DATA/refine/study/refine_study.csv, refine_curves.csv (each curve's wall time), refine_savings.csv (the solves adaptive "
            + "sampling needs for the LHS curve's last error), refine_hyperparameters.csv (each POD-GP point's hyper-parameters), refine_paired.csv "
            + "and refine_paired.svg/.png (adaptive or oracle / LHS with a paired bootstrap interval over the test samples), refine_study.svg/.png; "
            + "--methods oracle adds a reference curve whose batches are the solved training samples with the largest error; "
            + "see docs/surrogates.md.")
    @OptionGroup var options: RefineStudyOptions
    func run() throws { try Pipeline.RefineStudy.run(options) }
}

struct Study: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "study", abstract: "Which accelerator reaches the tuned Adam's validation error soonest? (multi-seed, resumable)",
        discussion: StudyOptions.discussion)
    @OptionGroup var options: StudyOptions
    func run() throws { try StudyStage.run(options) }
}

struct Verdict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verdict", abstract: "The paired acceleration study: equal tuning budgets, paired seeds, clock-free cost, bootstrap intervals (resumable).",
        discussion: VerdictOptions.discussion)
    @OptionGroup var options: VerdictOptions
    func run() throws { try VerdictStage.run(options) }
}

struct StudyRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "study-run", abstract: "One run of `train-dmd study` (its spec.json in --run-folder); used by the study itself.",
        shouldDisplay: false)
    @OptionGroup var options: StudyRunOptions
    func run() throws { try StudyStage.runOne(options) }
}

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict", abstract: "Predict c3 at the observation points for given parameter sets with a trained model.",
        discussion: PredictOptions.discussion)
    @OptionGroup var options: PredictOptions
    func run() throws { try PredictStage.run(options) }
}

struct DMDCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dmd",
        abstract: "Dynamic mode decomposition of a snapshot matrix (.npy): eigenvalues, amplitudes, singular values and the state s steps ahead.",
        discussion: DMDToolOptions.discussion)
    @OptionGroup var options: DMDToolOptions
    func run() throws { try DMDToolStage.run(options) }
}

struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run Algorithm 1 for every (m, s) of a grid and record each run's mean relative error per jump (the paper's Figure 3).",
        discussion: SweepOptions.discussion)
    @OptionGroup var options: SweepOptions
    func run() throws { try SweepStage.run(options) }
}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Time training epochs of the paper network on synthetic data against the GEMM lower bound.",
        discussion: TrainingBenchmarkOptions.discussion)
    @OptionGroup var options: TrainingBenchmarkOptions
    func run() throws { try TrainingBenchmark.run(options) }
}

struct BenchDMD: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-dmd", abstract: "Time per epoch with DMD acceleration divided by time per epoch without, on the paper network.",
        discussion: DMDOverheadBenchmarkOptions.discussion)
    @OptionGroup var options: DMDOverheadBenchmarkOptions
    func run() throws { try DMDOverheadBenchmark.run(options) }
}

struct BenchGP: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-gp", abstract: "Time the Gaussian-process likelihood and one fit of a POD-GP coefficient on synthetic data.",
        discussion: GaussianProcessBenchmarkOptions.discussion)
    @OptionGroup var options: GaussianProcessBenchmarkOptions
    func run() throws { try options.run() }
}

struct SyntheticFEM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synthetic-fem",
        abstract: "Write a SYNTHETIC stand-in for the FEM results (DATA/fem/c3.npy, status.npy): a closed-form reacting plume, not a solution of the PDE.",
        discussion: SyntheticFEMOptions.discussion)
    @OptionGroup var options: SyntheticFEMOptions
    func run() throws { try SyntheticFEMStage.run(options) }
}

/// Hidden: the OPENBLAS_CORETYPE that `pipeline.sh` exports, or nothing (see `BLASKernelAdvice`).
struct BLASKernel: ParsableCommand, HelpLike {
    static let configuration = CommandConfiguration(
        commandName: "blas-kernel",
        abstract: "Print the OpenBLAS kernel to set in OPENBLAS_CORETYPE, if OpenBLAS fell back to a generic one (for pipeline.sh).",
        shouldDisplay: false)
    func run() throws { BLASKernelAdvice.printRecommendedCoreType() }
}

TrainDMD.stageMain(usesBLAS: true)
