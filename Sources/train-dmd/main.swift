import ArgumentParser
import Pipeline

/// `train-dmd`: the surrogate network of formulation.md §4 — training (with DMD acceleration from
/// issue 7), prediction, the epoch benchmark, and the stand-alone DMD tool. Every subcommand is a
/// thin shell over the NeuralNetwork and DMD libraries; see docs/train.md and docs/dmd.md.
struct TrainDMD: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-dmd",
        abstract: "Train the neural-network surrogate of c3 (6 parameters → c3 at the observation points), and use it.",
        discussion: """
        Without a subcommand, `train` runs. Typical use (details in docs/train.md):

          train-dmd --config configs/paper.toml                  (DMD-accelerated, Algorithm 1; model "dmd")
          train-dmd --config configs/paper.toml --no-dmd         (plain Adam; model "plain")
          train-dmd --config configs/paper.toml --no-dmd --resume
          train-dmd study --seeds 3 --epochs 300                 (the acceleration study, docs/dmd-training.md)
          train-dmd sweep --m 2:20:2 --s 5:100:5 --epochs 300     (the (m, s) study, docs/dmd-training.md)
          train-dmd predict --model data/models/plain --params sets.csv
          train-dmd dmd --snapshots W.npy --steps 55
          swift run -c release train-dmd bench
          swift run -c release train-dmd bench-dmd               (the overhead of DMD per epoch)
        """,
        subcommands: [Train.self, Fit.self, Compare.self, LearningCurveCommand.self, Study.self, StudyRun.self, Predict.self, DMDCommand.self, Sweep.self, Bench.self, BenchDMD.self, SyntheticFEM.self, BLASKernel.self],
        defaultSubcommand: Train.self)
}

TrainDMD.stageMain(usesBLAS: true)
