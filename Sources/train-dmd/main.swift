import ArgumentParser

/// `train-dmd`: the surrogate network of formulation.md §4 — training (with DMD acceleration from
/// issue 7), prediction, and the epoch benchmark. Every subcommand is a thin shell over the
/// NeuralNetwork library; see docs/train.md.
struct TrainDMD: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-dmd",
        abstract: "Train the neural-network surrogate of c3 (6 parameters → c3 at the observation points), and use it.",
        discussion: """
        Without a subcommand, `train` runs. Typical use (details in docs/train.md):

          train-dmd --config configs/paper.toml --no-dmd
          train-dmd --config configs/paper.toml --no-dmd --resume
          train-dmd predict --model data/models/plain --params sets.csv
          train-dmd dmd --snapshots W.npy --steps 55
          swift run -c release train-dmd bench
        """,
        subcommands: [Train.self, Predict.self, DMDCommand.self, Bench.self],
        defaultSubcommand: Train.self)
}

TrainDMD.main()
