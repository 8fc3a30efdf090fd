import NumericalFoundations

extension Metrics {
    /// The paper's relative error of one DMD jump (formulation §5): MSE after the jump / MSE before
    /// it (< 1: the jump helped). `nil` when either is not recorded or when the MSE before is 0 or not
    /// finite (ratio undefined); +∞ when the MSE after is NaN or infinite (the jump diverged).
    /// The one definition: the report (`JumpRecord`, read from history.csv) and the training's own
    /// records (DMDTraining's `DMDJump`, written to jumps.csv and used by the (m, s) study) call it.
    public static func jumpRelativeError(after: Double?, before: Double?) -> Double? {
        guard let after, let before, before > 0, before.isFinite else { return nil }
        return after.isFinite ? after / before : .infinity
    }
}

/// Statistics of the DMD jumps of one run (formulation §5): the relative error of a jump is
/// MSE after / MSE before, and the run's mean relative error is the plain mean over its jumps
/// (the paper's Figure 3).
public struct JumpStatistics: Sendable, Equatable {
    /// Jumps with a defined ratio on this set.
    public let count: Int
    /// Plain mean of the finite ratios; `nil` when there are none.
    public let meanRelativeError: Double?
    /// Median of the finite ratios.
    public let medianRelativeError: Double?
    /// Share of the defined jumps with ratio < 1 (diverged jumps count as not helped); `nil` when count = 0.
    public let shareHelped: Double?
    /// Jumps whose MSE after the jump was NaN or infinite (ratio +∞), left out of the mean and median.
    public let divergedCount: Int

    public init(ratios: [Double]) throws {
        count = ratios.count
        let finite = ratios.filter { $0.isFinite }
        divergedCount = ratios.count - finite.count
        meanRelativeError = finite.isEmpty ? nil : finite.reduce(0, +) / Double(finite.count)
        medianRelativeError = finite.isEmpty ? nil : try Metrics.median(finite)
        shareHelped = ratios.isEmpty ? nil : Double(ratios.filter { $0 < 1 }.count) / Double(ratios.count)
    }

    public var json: JSONValue {
        func number(_ v: Double?) -> JSONValue { v.map { .number($0) } ?? .null }
        return ["jumps": JSONValue(count), "mean_relative_error": number(meanRelativeError),
                "median_relative_error": number(medianRelativeError), "share_helped": number(shareHelped),
                "diverged_jumps": JSONValue(divergedCount)]
    }
}

/// The DMD statistics of a run read from its history.
public struct DMDStatistics: Sendable, Equatable {
    /// Rows with `jump` = 1.
    public let jumpCount: Int
    /// On the training set (train_mse_after / train_mse_before).
    public let training: JumpStatistics
    /// On the test set, when the history records test_mse_before/after.
    public let test: JumpStatistics?
    /// Jumps recorded without a defined training ratio (MSE before = 0 or not finite).
    public let undefinedTrainingJumps: Int

    public init(history: HistoryTable) throws {
        let jumps = history.jumps
        jumpCount = jumps.count
        let trainRatios = jumps.compactMap(\.trainRatio)
        undefinedTrainingJumps = jumps.count - trainRatios.count
        training = try JumpStatistics(ratios: trainRatios)
        test = history.numbers("test_mse_before") == nil ? nil : try JumpStatistics(ratios: jumps.compactMap(\.testRatio))
    }

    public var json: JSONValue {
        [
            "jumps": JSONValue(jumpCount),
            "relative_error_definition": "MSE after the jump / MSE before it; mean = plain mean over jumps",
            "training": training.json,
            "test": test?.json ?? .null,
            "undefined_training_jumps": JSONValue(undefinedTrainingJumps),
        ]
    }
}

/// A DMD run measured against the plain run it accelerates.
///
/// The yardstick of the acceleration question is "the wall time the DMD run needs to reach the plain run's final test
/// MSE". A plain run that overfits passes its own final test MSE long before its end, so the
/// speed-up compares like with like: the first time the *plain* run reached that value against the
/// first time the DMD run did. The same is done for the training MSE (what the optimizer minimises).
public struct RunComparison: Sendable, Equatable {
    /// When a run first reaches a target MSE.
    public enum Reach: Sendable, Equatable {
        case reached(epoch: Int, wallSeconds: Double)
        case never

        /// First row whose value is ≤ target (cumulative wall time of that row).
        init(_ values: [Double], target: Double, history: HistoryTable) {
            if let row = values.firstIndex(where: { $0 <= target }) {
                self = .reached(epoch: history.epochs[row], wallSeconds: history.wallSeconds[row])
            } else {
                self = .never
            }
        }

        var seconds: Double? { if case .reached(_, let s) = self { return s }; return nil }

        var json: JSONValue {
            if case .reached(let epoch, let seconds) = self { return ["epoch": JSONValue(epoch), "wall_seconds": JSONValue(seconds)] }
            return "never"
        }
    }

    /// Mean wall time per epoch of the DMD run / of the plain run (each: final cumulative wall time
    /// over final epoch count).
    public let overheadPerEpoch: Double
    /// The plain run's final test MSE (its last row).
    public let targetTestMSE: Double
    /// The plain run's wall time and epoch at its end.
    public let plainFinalEpoch: Int
    public let plainFinalWallSeconds: Double
    /// First row of the DMD run whose test MSE ≤ target, with its cumulative wall time.
    public let reach: Reach
    /// First row of the plain run itself whose test MSE ≤ target (at the latest its last row).
    public let plainReach: Reach
    /// The plain run's final training MSE, and when each run first reached it.
    public let targetTrainMSE: Double
    public let trainReach: Reach
    public let plainTrainReach: Reach

    /// Plain run's first time at its final test MSE / the DMD run's (> 1: DMD got there sooner);
    /// nil if the DMD run never did.
    public var speedup: Double? { Self.ratio(plainReach, reach) }
    /// The same for the training MSE.
    public var trainSpeedup: Double? { Self.ratio(plainTrainReach, trainReach) }

    static func ratio(_ plain: Reach, _ dmd: Reach) -> Double? {
        guard let p = plain.seconds, let d = dmd.seconds, d > 0 else { return nil }
        return p / d
    }

    public init(plain: HistoryTable, dmd: HistoryTable) throws {
        guard let plainPerEpoch = plain.meanSecondsPerEpoch, plainPerEpoch > 0 else {
            throw MetricsError("\(plain.source): no time per epoch (last epoch \(plain.epochs.last ?? 0), wall \(plain.wallSeconds.last ?? 0) s); cannot compute the DMD overhead")
        }
        guard let dmdPerEpoch = dmd.meanSecondsPerEpoch else {
            throw MetricsError("\(dmd.source): no epoch completed; cannot compute the DMD overhead")
        }
        overheadPerEpoch = dmdPerEpoch / plainPerEpoch
        guard let target = plain.testMSE.last, target.isFinite else {
            throw MetricsError("\(plain.source): the final test MSE is \(plain.testMSE.last ?? .nan); the time-to-reach target needs a finite value")
        }
        guard let trainTarget = plain.trainMSE.last, trainTarget.isFinite else {
            throw MetricsError("\(plain.source): the final training MSE is \(plain.trainMSE.last ?? .nan); the time-to-reach target needs a finite value")
        }
        targetTestMSE = target
        targetTrainMSE = trainTarget
        plainFinalEpoch = plain.epochs.last!
        plainFinalWallSeconds = plain.wallSeconds.last!
        reach = Reach(dmd.testMSE, target: target, history: dmd)
        plainReach = Reach(plain.testMSE, target: target, history: plain)
        trainReach = Reach(dmd.trainMSE, target: trainTarget, history: dmd)
        plainTrainReach = Reach(plain.trainMSE, target: trainTarget, history: plain)
    }

    public var json: JSONValue {
        [
            "overhead_per_epoch": JSONValue(overheadPerEpoch),
            "overhead_definition": "mean wall seconds per epoch of the DMD run / of the plain run",
            "target_test_mse": JSONValue(targetTestMSE),
            "plain_final_epoch": JSONValue(plainFinalEpoch),
            "plain_final_wall_seconds": JSONValue(plainFinalWallSeconds),
            "time_to_reach_plain_final_test_mse": reach.json,
            "plain_first_reach_of_its_final_test_mse": plainReach.json,
            "speedup": speedup.map { JSONValue($0) } ?? .null,
            "target_train_mse": JSONValue(targetTrainMSE),
            "time_to_reach_plain_final_train_mse": trainReach.json,
            "plain_first_reach_of_its_final_train_mse": plainTrainReach.json,
            "train_speedup": trainSpeedup.map { JSONValue($0) } ?? .null,
            "speedup_definition": "wall time at which the plain run first reached the target / the same for the DMD run",
        ]
    }
}

/// Mean time per epoch split into its parts, from the timing columns of a history
/// (an empty cell counts as 0 s: nothing of that kind happened in that epoch).
public struct TimeBreakdown: Sendable, Equatable {
    /// Mean seconds per epoch of each recorded part; `nil` when the column is absent.
    public let backprop: Double?
    public let snapshot: Double?
    public let dmd: Double?
    public let assignment: Double?
    /// Mean wall seconds per epoch (final cumulative wall time / final epoch).
    public let total: Double
    /// total − the recorded parts (evaluation of the losses, bookkeeping); clamped at 0 — when the
    /// parts exceed the wall time (timer granularity) `unaccounted` is 0 and `excess` says by how much.
    public let unaccounted: Double
    public let excess: Double

    public init(history: HistoryTable) throws {
        guard let total = history.meanSecondsPerEpoch else {
            throw MetricsError("\(history.source): no epoch completed; no time per epoch")
        }
        let lastEpoch = Double(history.epochs.last!)
        func mean(_ name: String) -> Double? {
            guard let values = history.numbers(name) else { return nil }
            // Rows are epochs (an epoch-0 row records no training); sum over rows / epochs done.
            return values.reduce(0) { $0 + ($1 ?? 0) } / lastEpoch
        }
        backprop = mean("backprop_seconds"); snapshot = mean("snapshot_seconds")
        dmd = mean("dmd_seconds"); assignment = mean("assign_seconds")
        self.total = total
        let parts = [backprop, snapshot, dmd, assignment].compactMap { $0 }.reduce(0, +)
        unaccounted = max(0, total - parts)
        excess = max(0, parts - total)
    }

    /// The parts in display order with their names (absent parts left out, "other" last).
    public var parts: [(name: String, seconds: Double)] {
        var result: [(String, Double)] = []
        if let backprop { result.append(("backprop", backprop)) }
        if let snapshot { result.append(("snapshot", snapshot)) }
        if let dmd { result.append(("DMD", dmd)) }
        if let assignment { result.append(("assignment", assignment)) }
        result.append(("other", unaccounted))
        return result.map { (name: $0.0, seconds: $0.1) }
    }

    public var json: JSONValue {
        var object: [String: JSONValue] = ["total": JSONValue(total), "other": JSONValue(unaccounted)]
        if let backprop { object["backprop"] = JSONValue(backprop) }
        if let snapshot { object["snapshot"] = JSONValue(snapshot) }
        if let dmd { object["dmd"] = JSONValue(dmd) }
        if let assignment { object["assignment"] = JSONValue(assignment) }
        if excess > 0 { object["parts_exceed_wall_by"] = JSONValue(excess) }
        return .object(object)
    }
}
