import Foundation
import ArgumentParser
import NumericalFoundations
#if canImport(Glibc)
import Glibc
#endif

extension ParsableCommand {
    /// The entry point of every stage executable, in place of `main()`: the same parsing, help and
    /// exit statuses, plus what every stage needs before it writes anything:
    /// - SIGXFSZ is ignored, so a write beyond the file-size limit fails with EFBIG (an error naming the
    ///   file) instead of killing the process with no word;
    /// - a Foundation file error that escapes a stage becomes one line, "PATH: reason";
    /// - with `usesBLAS`, once the arguments parse (help and queries excepted), a restart with the
    ///   recommended OpenBLAS kernel when OpenBLAS fell back to slow generic ones and the user chose none,
    ///   and after a successful run a note on stderr if it still runs them (`BLASKernelAdvice`).
    public static func stageMain(_ arguments: [String]? = nil, usesBLAS: Bool = false) {
        signal(SIGXFSZ, SIG_IGN)
        Interruption.install()
        do {
            var command = try parseAsRoot(arguments)
            // Only with the process's own arguments: a restart re-reads those, not `arguments`.
            if usesBLAS, arguments == nil, !(command is HelpLike), !"\(type(of: command))".contains("Help") {
                BLASKernelAdvice.restartWithRecommendedKernelIfNeeded()
            }
            try command.run()
            // After the work, never before an error: a failing stage prints one line, its error.
            if usesBLAS, !(command is HelpLike), !"\(type(of: command))".contains("Help"), let advice = BLASKernelAdvice.current {
                FileHandle.standardError.write(Data("note: \(advice)\n".utf8))
            }
        } catch let failure as ReportedFailure {
            exit(withError: ExitCode(failure.exitCode))
        } catch where Interruption.received != nil {
            // Stopped at a safe point after SIGINT/SIGTERM: the status a shell expects of that signal.
            let sig = Interruption.received!
            FileHandle.standardError.write(Data("\(ProcessInfo.processInfo.processName): stopped by \(Interruption.signalName(sig)): \(error)\n".utf8))
            exit(withError: ExitCode(Interruption.exitStatus(sig)))
        } catch {
            exit(withError: StageErrors.userFacing(error))
        }
    }
}

/// A stage that failed after printing why (e.g. too few converged samples, or a case without a
/// solution): the exit status it documents (1 unless stated) and no further message, so the
/// explanation already printed stays the only one.
public struct ReportedFailure: Error, Sendable {
    public let exitCode: Int32
    public init(exitCode: Int32 = 1) { self.exitCode = exitCode }
}

/// A command that prints information only (help, or the kernel query of `pipeline.sh`): no BLAS note.
public protocol HelpLike {}

/// Error cleanup shared by the stages.
public enum StageErrors {
    /// A Foundation (NSCocoaErrorDomain / POSIX) error as a one-line `StageError`; anything else unchanged.
    public static func userFacing(_ error: Error) -> Error {
        if error is StageError || error is ExitCode || error is ValidationError || error is CleanExit { return error }
        if let text = FileErrorText.describe(error) { return StageError(text) }
        return error
    }
}

/// Checks a `--threads` value: at least 1.
public func validateThreads(_ threads: Int?, flag: String = "--threads") throws {
    if let threads, threads < 1 { throw ValidationError("\(flag) must be at least 1, got \(threads)") }
}
