import ArgumentParser
import Pipeline

/// `lhs-sample`: the Latin hypercube of the six parameters (formulation.md §1) and the train/test split.
struct LHSSample: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lhs-sample",
        abstract: "Latin-hypercube samples of (K12, K3, D, U0, u_h, u_v) and a seeded train/test split.",
        discussion: SamplingOptions.discussion)

    @OptionGroup var options: SamplingOptions

    func run() throws { try SamplingStage.run(options) }
}

LHSSample.stageMain()
