import ArgumentParser

// Minimal entry point so that the `dmd` subcommand builds on its own; the training subcommands
// (NeuralNetwork, Algorithm 1) join this command group when the branches are merged.
struct TrainDMD: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-dmd",
        abstract: "Train the surrogate network, optionally accelerated by dynamic mode decomposition (DMD).",
        subcommands: [DMDCommand.self])
}

TrainDMD.main()
