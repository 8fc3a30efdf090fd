import Foundation
import NumericalFoundations
import PDE
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT and SIGTERM end a stage cleanly instead of killing it mid-write like SIGKILL.
///
/// The signal handler only writes the signal's number into a pipe (all a handler may safely do); a
/// watcher thread reads it and acts:
/// - while a stage runs work that can stop at a safe point (the FEM batch, between samples, with its
///   finished chunks checkpointed), it asks that work to stop; the stage then unwinds normally (locks
///   released by their `defer`s) and `stageMain` exits with 128 + the signal (130, 143);
/// - otherwise it removes this process's temporaries (`.NAME.tmp-PID…`, files and folders) in the
///   folders the stage registered and exits at once with 128 + the signal; the kernel drops the locks.
/// Outputs are written atomically (rename), so either way no torn file is left.
public enum Interruption {
    /// Installs the handlers (once, from `stageMain`).
    public static func install() {
        state.lock.lock(); defer { state.lock.unlock() }
        guard !state.installed else { return }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return }
        signalWriteFD = fds[1]
        state.installed = true
        let reader = fds[0]
        let watcher = Thread {
            var number: Int32 = 0
            while read(reader, &number, MemoryLayout<Int32>.size) == MemoryLayout<Int32>.size { handle(number) }
        }
        watcher.start()
        for sig in [SIGINT, SIGTERM] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in
                var number = sig
                _ = write(signalWriteFD, &number, MemoryLayout<Int32>.size)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(sig, &action, nil)
        }
    }

    /// The signal received, if any.
    public static var received: Int32? { state.lock.lock(); defer { state.lock.unlock() }; return state.received }

    /// The exit status for `signal`: 128 + its number (130 for SIGINT, 143 for SIGTERM), as a shell reports it.
    public static func exitStatus(_ signal: Int32) -> Int32 { 128 + signal }

    /// Runs `body` with `stop` requested on SIGINT/SIGTERM instead of an immediate exit.
    public static func stoppable<T>(_ stop: StopSignal, _ body: () throws -> T) rethrows -> T {
        state.lock.lock()
        state.stops.append(stop)
        let already = state.received != nil
        state.lock.unlock()
        if already { stop.request() }
        defer { state.lock.lock(); state.stops.removeAll { $0 === stop }; state.lock.unlock() }
        return try body()
    }

    /// On an immediate exit, this process's temporaries in `folder` (and its `fields` staging) are removed.
    public static func removeTemporariesOnExit(in folder: URL) {
        state.lock.lock(); state.folders.append(folder); state.lock.unlock()
    }

    static func handle(_ sig: Int32) {
        state.lock.lock()
        let first = state.received == nil
        if first { state.received = sig }
        let stops = state.stops, folders = state.folders
        state.lock.unlock()
        if !stops.isEmpty && first {
            note("\(ProcessInfo.processInfo.processName): \(signalName(sig)) received: stopping after the samples in progress")
            stops.forEach { $0.request() }
            return
        }
        for folder in folders { removeOwnTemporaries(in: folder) }
        note("\(ProcessInfo.processInfo.processName): stopped by \(signalName(sig))")
        _exit(exitStatus(sig))
    }

    /// Removes the entries of `folder` named `.NAME.tmp-PID` or `.NAME.tmp-PID-…` with this process's pid.
    static func removeOwnTemporaries(in folder: URL) {
        let pid = "\(getpid())"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] where name.hasPrefix(".") {
            guard let range = name.range(of: ".tmp-") else { continue }
            let rest = name[range.upperBound...]
            if rest == pid || rest.hasPrefix(pid + "-") {
                try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
            }
        }
    }

    public static func signalName(_ sig: Int32) -> String { sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "signal \(sig)" }

    final class State: @unchecked Sendable {
        let lock = NSLock()
        var installed = false
        var received: Int32?
        var stops: [StopSignal] = []
        var folders: [URL] = []
    }
    static let state = State()
}

/// The write end of the signal pipe, read by the handler (a plain global: no lazy initialization in a handler).
nonisolated(unsafe) var signalWriteFD: Int32 = -1
