import ArgumentParser
import ModelServer
import Pipeline

/// `pollutant-serve`: the FEM and the fitted surrogates as UM-Bridge models over HTTP (docs/serve.md).
struct PollutantServe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pollutant-serve",
        abstract: "Serve the FEM model and every fitted surrogate by the UM-Bridge protocol, with gradients.",
        discussion: ServeOptions.discussion)

    @OptionGroup var options: ServeOptions

    func run() throws { try UMBridgeServer.run(options) }
}

PollutantServe.stageMain(usesBLAS: true)
