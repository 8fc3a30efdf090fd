import Foundation
import ArgumentParser

/// The command line of `pollutant-serve`: the stage options, where to listen, and how many FEM solves
/// run at once.
public struct ServeOptions: ParsableArguments {
    public static let discussion = """
        Serves over HTTP, by the UM-Bridge protocol (protocol version 1.0): the model "pollutant" (the FEM: \
        the 6 parameters K12, K3, D, U0, u_h, u_v -> c3 at the observation points of [fem], with its exact \
        Jacobian), every fitted surrogate in DATA/models by its folder name, and "best" ([surrogate] best). \
        Stops cleanly on SIGTERM or SIGINT. See docs/serve.md.
        """

    @OptionGroup public var stage: StageOptions

    @Option(help: "TCP port to listen on (0: any free port, printed on stderr).")
    public var port: Int = 4242

    @Option(help: "FEM solves run at once, one solver per worker; further requests queue (default: the cores).")
    public var femWorkers: Int?

    @Option(help: "Seconds a request may take, queueing included, before it is answered with an error.")
    public var requestTimeout: Double = 3600

    public init() {}

    public func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be in 0...65535, got \(port)") }
        if let femWorkers, femWorkers < 1 { throw ValidationError("--fem-workers must be at least 1, got \(femWorkers)") }
        guard requestTimeout > 0 else { throw ValidationError("--request-timeout must be positive, got \(requestTimeout)") }
    }

    /// The FEM workers: the option, else the cores.
    public var workers: Int { femWorkers ?? ProcessInfo.processInfo.activeProcessorCount }
}
