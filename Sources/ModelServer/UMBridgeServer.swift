import Foundation
import Dispatch
import FlyingFox
import Pipeline
#if canImport(Glibc)
import Glibc
#endif

/// `pollutant-serve`: the catalogue of Pipeline's Serve stage behind FlyingFox's HTTP server.
///
/// Requests are handled concurrently; FEM solves beyond `--fem-workers` wait in a queue, and a
/// request still waiting when `--request-timeout` expires is answered with an error and never
/// solved. A client that closes its connection is not noticed until the answer is written (FlyingFox
/// reads no further from a connection while its handler runs), so its queued solve still runs.
public enum UMBridgeServer {
    /// Serves until SIGTERM or SIGINT, then stops listening, lets running requests finish (up to
    /// 10 s) and returns.
    public static func run(_ options: ServeOptions) throws {
        let catalog = try ServeCatalog.load(options)
        let server = HTTPServer(port: UInt16(options.port), timeout: options.requestTimeout, logger: .disabled)
        let umbridge = UMBridgeProtocol(catalog: catalog)
        for model in catalog.models {
            note("pollutant-serve: \(model.name): \(model.inputSizes) -> \(model.outputSizes); \(model.summary)")
        }
        for (name, reason) in catalog.skipped { note("pollutant-serve: not serving \(name): \(reason)") }
        let stopped = DispatchSemaphore(value: 0)
        let state = StopState()
        let task = Task {
            do { await addRoutes(umbridge, to: server); try await server.run() } catch is CancellationError {} catch {
                // Closing the listening socket ends the accept loop with "disconnected": after a
                // signal that is the clean stop, not a failure.
                state.fail(error)
            }
            stopped.signal()
        }
        let signals = [SIGTERM, SIGINT].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                note("pollutant-serve: signal \(number): stopping")
                state.stopRequested()
                Task { await server.stop(timeout: 10) }
            }
            source.resume()
            return source
        }
        Task {
            try? await server.waitUntilListening(timeout: 30)
            guard let address = await server.listeningAddress else { return }
            if case let .ip6(_, port) = address { ListeningSocket.disableNagle(port: port) } else if case let .ip4(_, port) = address {
                ListeningSocket.disableNagle(port: port)
            }
            note("pollutant-serve: listening on \(address) (UM-Bridge \(UMBridgeProtocol.version))")
        }
        stopped.wait()
        signals.forEach { $0.cancel() }
        _ = task
        if let failure = state.failure { throw ServeError("ServerError", "pollutant-serve: \(failure)", status: 500) }
        note("pollutant-serve: stopped")
    }

    static func addRoutes(_ umbridge: UMBridgeProtocol, to server: HTTPServer) async {
        await server.appendRoute("GET /Info") { _ in response(umbridge.info()) }
        await server.appendRoute("POST /*") { request in
            let route = String(request.path.drop { $0 == "/" })
            return response(await umbridge.handle(route: route, body: try await request.bodyData))
        }
    }

    static func response(_ reply: UMBridgeProtocol.Reply) -> HTTPResponse {
        HTTPResponse(statusCode: HTTPStatusCode(reply.status, phrase: reply.status == 200 ? "OK" : "Error"),
                     headers: [.contentType: "application/json"], body: Data(reply.body.utf8))
    }
}

/// Whether a stop was asked for, and the server's failure if it ended otherwise.
final class StopState: @unchecked Sendable {
    private let lock = NSLock()
    private var stopping = false
    private var error: (any Error)?

    func stopRequested() { lock.withLock { stopping = true } }
    func fail(_ e: any Error) { lock.withLock { if !stopping { error = e } } }
    var failure: (any Error)? { lock.withLock { error } }
}
