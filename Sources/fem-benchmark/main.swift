import ArgumentParser
import Pipeline

/// `fem-benchmark`: the timings of one nonlinear solve of the pollutant system (`FEMBenchmark`).
/// Build with `swift run -c release fem-benchmark`.
struct FEMBenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fem-benchmark",
        abstract: "Time assembly, UMFPACK factorization and solve of the 3-species pollutant system.",
        discussion: FEMBenchmarkOptions.discussion)

    @OptionGroup var options: FEMBenchmarkOptions

    func run() throws { try FEMBenchmark.run(options) }
}

FEMBenchmarkCommand.stageMain(usesBLAS: true)
