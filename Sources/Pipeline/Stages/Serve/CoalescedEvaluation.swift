import Foundation
import Dispatch
import NumericalFoundations
import Surrogates

/// Evaluate requests of one surrogate answered together. A single-row forward pass of the paper's
/// network reads all its weights (11 MB) for 2670 outputs, so one row at a time is bound by memory
/// bandwidth; the requests waiting when a computation starts are instead evaluated in one call, up to
/// `tileRows` of them (no waiting for more: an idle server answers at once).
///
/// A caller must get the same bits for the same parameters whatever other requests share its call,
/// or a Monte Carlo run through the server would depend on the load. A network computes each row by
/// the same operations in any batch (`SurrogateModel.predict(…, independentRows: true)`). The other
/// models go through BLAS, whose result for a row may depend on the shapes and on the row's place:
/// their calls always have exactly `tileRows` rows (unused rows repeat the first), and
/// `tileIsPositionInvariant` checks at start-up, on this machine's kernels, that a row's answer does
/// not depend on its place or its neighbours; if it does, they answer one request per call.
public final class CoalescedEvaluation: @unchecked Sendable {
    /// Rows per call.
    public static let tileRows = 8

    public let surrogate: FieldSurrogate
    /// Whether requests share a call (the start-up check passed).
    public let coalesces: Bool
    /// Calls running at once: the cores less one for a network (its prediction allocates its own work
    /// space; the remaining core writes the answers, whose JSON costs as much as the call: measured in
    /// docs/serve.md), 1 for the other models, whose buffers are not known to be safe to share between
    /// threads.
    let concurrentCalls: Int

    private struct Request {
        var parameters: [Double]
        var continuation: CheckedContinuation<[Double], any Error>
    }

    private let lock = NSLock()
    private var pending: [Request] = []
    private var running = 0
    private let queue = DispatchQueue(label: "pollutant-serve.surrogate", attributes: .concurrent)

    // Serialises every call into a model other than a network (evaluations and Jacobians alike).
    private let modelLock: NSLock?

    /// `cores`: the machine's cores.
    public init(surrogate: FieldSurrogate, cores: Int) {
        self.surrogate = surrogate
        let isNetwork = surrogate is SurrogateModel
        concurrentCalls = isNetwork ? max(1, cores - 1) : 1
        modelLock = isNetwork ? nil : NSLock()
        coalesces = isNetwork || Self.tileIsPositionInvariant(surrogate, tileRows: Self.tileRows)
    }

    /// Runs `body` alone on the model where the model needs that.
    public func exclusive<R>(_ body: () throws -> R) rethrows -> R {
        guard let modelLock else { return try body() }
        return try modelLock.withLock(body)
    }

    /// c3 for one parameter set (already checked by the caller).
    public func evaluate(_ parameters: [Double]) async throws -> [Double] {
        try await withCheckedThrowingContinuation { continuation in
            let start = lock.withLock { () -> Bool in
                pending.append(Request(parameters: parameters, continuation: continuation))
                guard running < concurrentCalls else { return false }
                running += 1
                return true
            }
            if start { queue.async { self.drain() } }
        }
    }

    /// Runs calls until no request waits.
    private func drain() {
        let width = coalesces ? Self.tileRows : 1
        while true {
            let batch = lock.withLock { () -> [Request] in
                let taken = Array(pending.prefix(width))
                pending.removeFirst(taken.count)
                if taken.isEmpty { running -= 1 }
                return taken
            }
            if batch.isEmpty { return }
            do {
                let rows = try exclusive { try Self.predictTile(surrogate, batch.map(\.parameters), tileRows: width) }
                for (request, row) in zip(batch, rows) { request.continuation.resume(returning: row) }
            } catch {
                // One request's failure (e.g. a wind solve that fails near the blow-off boundary) must not
                // fail the others of its call: each is answered alone.
                for request in batch {
                    request.continuation.resume(with: Result { try exclusive { try Self.predictTile(surrogate, [request.parameters], tileRows: width)[0] } })
                }
            }
        }
    }

    /// The answers of `rows` (at most `tileRows` parameter sets) from one call: a network's rows as they
    /// are, another model's in a call of `tileRows` rows, the unused rows filled with the first set.
    static func predictTile(_ surrogate: FieldSurrogate, _ rows: [[Double]], tileRows: Int) throws -> [[Double]] {
        let p = surrogate.outputWidth
        let y: [Double]
        if let network = surrogate as? SurrogateModel {
            y = try network.predict(parameters: Array(rows.joined()), rows: rows.count, threads: 1, independentRows: true)
        } else {
            var tile = [Double]()
            tile.reserveCapacity(tileRows * surrogate.inputWidth)
            for i in 0..<tileRows { tile += rows[i < rows.count ? i : 0] }
            y = try surrogate.predict(parameters: tile, rows: tileRows, threads: 1)
        }
        return (0..<rows.count).map { Array(y[($0 * p)..<(($0 + 1) * p)]) }
    }

    /// Whether a row's answer in a call of `tileRows` rows is the same bits at every position and with
    /// any other rows beside it: probe rows drawn in the model's box (seeded; draws the model cannot
    /// answer, e.g. without a wind, are left out), each placed at every position among other drawn
    /// rows, against the probe alone (the tile filled with it).
    public static func tileIsPositionInvariant(_ surrogate: FieldSurrogate, tileRows: Int) -> Bool {
        guard tileRows > 1 else { return true }
        let box = surrogate.inputScaler, d = surrogate.inputWidth
        var generator = SeededGenerator(seed: 20_261_206)
        var rows: [[Double]] = []
        for _ in 0..<(8 * tileRows) where rows.count < tileRows + 2 {
            let x = (0..<d).map { box.lower[$0] + generator.nextUniform() * (box.upper[$0] - box.lower[$0]) }
            if (try? predictTile(surrogate, [x], tileRows: tileRows)) != nil { rows.append(x) }
        }
        guard rows.count == tileRows + 2 else { return false }
        do {
            for probe in rows.prefix(2) {
                let alone = try predictTile(surrogate, [probe], tileRows: tileRows)[0]
                for position in 0..<tileRows {
                    var tile = Array(rows.suffix(tileRows))
                    tile[position] = probe
                    let answer = try predictTile(surrogate, tile, tileRows: tileRows)[position]
                    guard answer.elementsEqual(alone, by: { $0.bitPattern == $1.bitPattern }) else { return false }
                }
            }
            return true
        } catch {
            return false
        }
    }
}
