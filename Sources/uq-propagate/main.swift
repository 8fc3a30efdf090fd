import ArgumentParser
import Pipeline

/// `uq-propagate`: the `uq` stage (method in docs/uq.md).
struct UQPropagate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uq-propagate",
        abstract: "Uncertainty propagation and Sobol indices of c3 through the trained surrogate, checked against the FEM samples.",
        discussion: UQPropagateOptions.discussion)

    @OptionGroup var options: UQPropagateOptions

    func run() throws { try UQStage.run(options) }
}

UQPropagate.stageMain(usesBLAS: true)
