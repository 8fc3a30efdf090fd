import ArgumentParser
import Pipeline

/// `uq-propagate`: the `uq` stage, the FEM Monte Carlo reference and its comparison (docs/uq.md).
struct UQPropagate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uq-propagate",
        abstract: "Uncertainty propagation and Sobol indices of c3 through the trained surrogate, checked against the FEM.",
        discussion: """
        Without a subcommand, `study` runs. Typical use (docs/uq.md):

          uq-propagate --config configs/paper.toml                    (the study through the surrogate, DATA/uq)
          uq-propagate fem-reference --config configs/paper.toml      (the FEM Monte Carlo, DATA/uq_fem_reference)
          uq-propagate compare-fem --config configs/paper.toml        (the study's maps against it)
          uq-propagate ishigami --base-samples 16384                  (the Sobol estimator on the Ishigami function)
        """,
        subcommands: [Study.self, FEMReferenceCommand.self, CompareFEM.self, IshigamiCheck.self],
        defaultSubcommand: Study.self)
}

struct Study: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "study", abstract: "Monte Carlo maps and Sobol indices through the surrogate (the default subcommand).",
        discussion: UQPropagateOptions.discussion)
    @OptionGroup var options: UQPropagateOptions
    func run() throws { try UQStage.run(options) }
}

struct FEMReferenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fem-reference", abstract: "The FEM Monte Carlo of the [uq] distribution on the feasible region, with bootstrap intervals.",
        discussion: FEMReferenceOptions.discussion)
    @OptionGroup var options: FEMReferenceOptions
    func run() throws { try FEMReference.run(options) }
}

struct CompareFEM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare-fem", abstract: "The study's mean and std maps against the FEM Monte Carlo reference.",
        discussion: CompareFEMOptions.discussion)
    @OptionGroup var options: CompareFEMOptions
    func run() throws { try FEMReferenceComparison.run(options) }
}

struct IshigamiCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ishigami", abstract: "Sobol indices of the Ishigami function (a = 7, b = 0.1) by this project's estimator, as JSON.")
    @OptionGroup var options: IshigamiCheckOptions
    func run() throws { try UQStage.ishigamiCheck(options) }
}

UQPropagate.stageMain(usesBLAS: true)
