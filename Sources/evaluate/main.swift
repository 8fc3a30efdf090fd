import ArgumentParser
import Pipeline

/// `evaluate`: metrics, figures and the report comparing the plain and the DMD-accelerated trainings.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Metrics, figures and a report comparing the trained surrogates (plain and DMD-accelerated).",
        discussion: EvaluateOptions.discussion)

    @OptionGroup var options: EvaluateOptions

    func run() throws { try EvaluateStage.run(options) }
}

Evaluate.stageMain(usesBLAS: true)
