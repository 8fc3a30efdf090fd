/// One epoch of training as recorded in `history.csv`. Epoch 0 is the initial state (before any step).
public struct HistoryRow: Codable, Equatable, Sendable {
    public var epoch: Int
    /// MSE of the parameters at the end of the epoch on the whole training set (scaled units).
    public var trainMSE: Double
    /// The same on the test set; nil without test samples.
    public var testMSE: Double?
    public var trainMSEPhysical: Double
    public var testMSEPhysical: Double?
    /// Wall-clock seconds since training began, summed over resumed sessions (cumulative).
    public var wallSeconds: Double
    /// Mean of the mini-batch losses during the epoch, weighted by batch size (what Keras prints
    /// as "loss"; the parameters change during the epoch, so it differs from `trainMSE`). Nil for epoch 0.
    public var minibatchMSE: Double?
    /// Seconds of this epoch spent in the optimizer steps (batches, forward, backward, Adam),
    /// without the hook's time.
    public var backpropSeconds: Double?
    /// Seconds of this epoch spent measuring the full-set losses for this row.
    public var evaluationSeconds: Double?
    /// Values of the hook's columns (`TrainingHook.historyColumns`).
    public var extra: [String: Double]

    public init(epoch: Int, trainMSE: Double, testMSE: Double?, trainMSEPhysical: Double, testMSEPhysical: Double?,
                wallSeconds: Double, minibatchMSE: Double?, backpropSeconds: Double? = nil, evaluationSeconds: Double? = nil,
                extra: [String: Double] = [:]) {
        self.epoch = epoch; self.trainMSE = trainMSE; self.testMSE = testMSE
        self.trainMSEPhysical = trainMSEPhysical; self.testMSEPhysical = testMSEPhysical
        self.wallSeconds = wallSeconds; self.minibatchMSE = minibatchMSE
        self.backpropSeconds = backpropSeconds; self.evaluationSeconds = evaluationSeconds; self.extra = extra
    }

    /// Equal in everything that training determines (all but the timings).
    public func sameResults(as other: HistoryRow) -> Bool {
        var a = self, b = other
        a.wallSeconds = 0; b.wallSeconds = 0
        a.backpropSeconds = nil; b.backpropSeconds = nil
        a.evaluationSeconds = nil; b.evaluationSeconds = nil
        return a == b
    }
}

/// The per-epoch record of a training run and its CSV form.
public struct TrainingHistory: Codable, Equatable, Sendable {
    /// The trainer's own columns, in file order.
    public static let standardColumns = ["epoch", "train_mse", "test_mse", "train_mse_physical", "test_mse_physical",
                                         "wall_seconds", "minibatch_mse", "backprop_seconds", "evaluation_seconds"]
    /// The standard columns that measure time rather than results.
    public static let timingColumns: Set<String> = ["wall_seconds", "backprop_seconds", "evaluation_seconds"]
    /// Columns added by a hook, after the standard ones.
    public var extraColumns: [String]
    public var rows: [HistoryRow]

    public init(extraColumns: [String] = [], rows: [HistoryRow] = []) {
        self.extraColumns = extraColumns
        self.rows = rows
    }

    public var columns: [String] { Self.standardColumns + extraColumns }

    /// CSV with a header line; numbers in Swift's shortest round-trip form (reading them back gives
    /// the same doubles); a missing value (no test set, or a hook column not reported) is empty.
    public func csv() -> String {
        func cell(_ x: Double?) -> String { x.map { $0.isFinite ? "\($0)" : ($0.isNaN ? "nan" : ($0 > 0 ? "inf" : "-inf")) } ?? "" }
        var lines = [columns.joined(separator: ",")]
        lines.reserveCapacity(rows.count + 1)
        for r in rows {
            var cells = ["\(r.epoch)", cell(r.trainMSE), cell(r.testMSE), cell(r.trainMSEPhysical), cell(r.testMSEPhysical),
                         cell(r.wallSeconds), cell(r.minibatchMSE), cell(r.backpropSeconds), cell(r.evaluationSeconds)]
            cells += extraColumns.map { cell(r.extra[$0]) }
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
