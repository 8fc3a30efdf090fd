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
/// request still waiting when `--request-timeout` expires, or whose client has closed its connection
/// (`ClientConnection`, looked at every 50 ms once a request has taken 50 ms), is never solved; a
/// solve already running finishes and its answer is dropped.
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
            do { await addRoutes(umbridge, to: server, port: state); try await server.run() } catch is CancellationError {} catch {
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
            if case let .ip6(_, port) = address { ListeningSocket.disableNagle(port: port); state.listening(on: port) } else if case let .ip4(_, port) = address {
                ListeningSocket.disableNagle(port: port)
                state.listening(on: port)
            }
            note("pollutant-serve: listening on \(address) (UM-Bridge \(UMBridgeProtocol.version))")
        }
        stopped.wait()
        signals.forEach { $0.cancel() }
        _ = task
        if let failure = state.failure { throw ServeError("ServerError", "pollutant-serve: \(failure)", status: 500) }
        note("pollutant-serve: stopped")
    }

    static func addRoutes(_ umbridge: UMBridgeProtocol, to server: HTTPServer, port: StopState) async {
        await server.appendRoute("GET /Info") { _ in response(umbridge.info()) }
        await server.appendRoute("POST /*") { request in
            let route = String(request.path.drop { $0 == "/" })
            let body = try await request.bodyData
            var client: (address: String, port: UInt16, serverPort: UInt16)?
            if let serverPort = port.port {
                switch request.remoteAddress {
                case let .ip4(address, peerPort)?, let .ip6(address, peerPort)?: client = (address, peerPort, serverPort)
                default: client = nil
                }
            }
            return response(await handle(umbridge, route: route, body: body, client: client))
        }
    }

    /// The request's answer; a request whose client closes its connection first is cancelled (a
    /// queued solve is then never run).
    static func handle(_ umbridge: UMBridgeProtocol, route: String, body: Data,
                       client: (address: String, port: UInt16, serverPort: UInt16)?) async -> UMBridgeProtocol.Reply {
        guard let client else { return await umbridge.handle(route: route, body: body) }
        enum Outcome: Sendable { case reply(UMBridgeProtocol.Reply), closed, unwatched }
        return await withTaskGroup(of: Outcome.self) { group in
            group.addTask { .reply(await umbridge.handle(route: route, body: body)) }
            group.addTask { await clientCloses(client) ? .closed : .unwatched }
            var reply: UMBridgeProtocol.Reply?
            var closed = false
            while let outcome = await group.next() {
                switch outcome {
                case .reply(let r): reply = r; group.cancelAll()
                case .closed: closed = true; group.cancelAll()
                case .unwatched: break
                }
            }
            if closed, let reply, reply.status == UMBridgeProtocol.cancelledStatus {
                note("pollutant-serve: the client of a /\(route) request closed its connection before it was computed: not computed")
            }
            return reply ?? UMBridgeProtocol.error(ServeError("ServerError", "no answer", status: 500))
        }
    }

    /// Waits until the client closes its connection (true) or the wait is cancelled (false). Requests
    /// answered within 50 ms (every surrogate's) are never looked up.
    static func clientCloses(_ client: (address: String, port: UInt16, serverPort: UInt16)) async -> Bool {
        let interval: UInt64 = 50_000_000
        do { try await Task.sleep(nanoseconds: interval) } catch { return false }
        guard let fd = ClientConnection.descriptor(peerAddress: client.address, peerPort: client.port, serverPort: client.serverPort) else { return false }
        while !ClientConnection.isClosed(fd) {
            do { try await Task.sleep(nanoseconds: interval) } catch { return false }
        }
        return true
    }

    static func response(_ reply: UMBridgeProtocol.Reply) -> HTTPResponse {
        HTTPResponse(statusCode: HTTPStatusCode(reply.status, phrase: reply.status == 200 ? "OK" : "Error"),
                     headers: [.contentType: "application/json"], body: Data(reply.body.utf8))
    }
}

/// Whether a stop was asked for, the server's failure if it ended otherwise, and its port once it listens.
final class StopState: @unchecked Sendable {
    private let lock = NSLock()
    private var stopping = false
    private var error: (any Error)?
    private var listeningPort: UInt16?

    func listening(on port: UInt16) { lock.withLock { listeningPort = port } }
    var port: UInt16? { lock.withLock { listeningPort } }

    func stopRequested() { lock.withLock { stopping = true } }
    func fail(_ e: any Error) { lock.withLock { if !stopping { error = e } } }
    var failure: (any Error)? { lock.withLock { error } }
}
