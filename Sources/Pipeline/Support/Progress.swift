import Foundation
import NumericalFoundations

/// Progress with an ETA on standard error, rate-limited so that it costs nothing in a hot loop.
/// Thread-safe: workers on both cores may call `advance`.
public final class ProgressReporter: @unchecked Sendable {
    private let label: String
    private let total: Int
    private let start = monotonicSeconds()
    private var done = 0
    private var lastPrint = -1.0
    private let lock = NSLock()
    private let interval: Double
    private let enabled: Bool

    public init(_ label: String, total: Int, interval: Double = 1.0, enabled: Bool = true) {
        self.label = label; self.total = total; self.interval = interval; self.enabled = enabled
    }

    /// Marks `count` more units done; `detail` is appended to the line (e.g. a loss).
    public func advance(by count: Int = 1, detail: @autoclosure () -> String = "") {
        lock.lock(); defer { lock.unlock() }
        done += count
        let now = monotonicSeconds()
        guard enabled, now - lastPrint >= interval || done == total else { return }
        lastPrint = now
        let elapsed = now - start
        let rate = Double(done) / max(elapsed, 1e-9)
        let eta = done > 0 ? Double(total - done) / rate : .infinity
        let d = detail()
        note("\(label): \(done)/\(total) (\(String(format: "%.1f", 100 * Double(done) / Double(max(total, 1))))%), "
             + "\(formatDuration(elapsed)) elapsed, ETA \(formatDuration(eta))\(d.isEmpty ? "" : ", " + d)")
    }

    public var elapsed: Double { monotonicSeconds() - start }
}

/// A `ProgressReporter` created at the first report, for work whose total is known only once it runs
/// (e.g. the POD rank decides the number of GP fits). Thread-safe.
public final class LazyProgressReporter: @unchecked Sendable {
    private let label: String
    private var reporter: ProgressReporter?
    private let lock = NSLock()

    public init(_ label: String) { self.label = label }

    /// One more unit of `total` done.
    public func advance(total: Int, detail: @autoclosure () -> String = "") {
        lock.lock()
        if reporter == nil { reporter = ProgressReporter(label, total: total) }
        let current = reporter!
        lock.unlock()
        current.advance(detail: detail())
    }
}

public func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "?" }
    if seconds < 60 { return String(format: "%.1fs", seconds) }
    let s = Int(seconds.rounded())
    if s < 3600 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
    return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m"
}
