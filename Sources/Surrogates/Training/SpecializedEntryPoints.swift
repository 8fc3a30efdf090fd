extension Trainer {
    /// `trainEpoch()` for callers outside this module (the Benchmarks library). Called from another
    /// module, `Trainer<Scalar>`'s methods run their unspecialised generic code, the element-wise
    /// loops going through witness tables: an order of magnitude slower (docs/dmd-training.md,
    /// "Why the benchmark goes through `TrainingRun`"). The cast to the concrete type is made here,
    /// inside the module, so the call reaches the copy compiled for Float or Double.
    @discardableResult
    public func trainEpochSpecialized() throws -> HistoryRow {
        if Scalar.self == Float.self { return try unsafeDowncast(self, to: Trainer<Float>.self).trainEpoch() }
        if Scalar.self == Double.self { return try unsafeDowncast(self, to: Trainer<Double>.self).trainEpoch() }
        return try trainEpoch()
    }

    /// `train(untilEpoch:stopOnDivergence:afterEpoch:)` for callers outside this module (TrainingStage's
    /// `TrainingRun`), cast to the concrete type here for the same reason: the whole training loop then
    /// runs the code compiled for Float or Double.
    @discardableResult
    public func trainSpecialized(untilEpoch epochs: Int, stopOnDivergence: Bool = false,
                                 afterEpoch: (HistoryRow) throws -> Bool = { _ in false }) throws -> Divergence? {
        if Scalar.self == Float.self {
            return try unsafeDowncast(self, to: Trainer<Float>.self).train(untilEpoch: epochs, stopOnDivergence: stopOnDivergence, afterEpoch: afterEpoch)
        }
        if Scalar.self == Double.self {
            return try unsafeDowncast(self, to: Trainer<Double>.self).train(untilEpoch: epochs, stopOnDivergence: stopOnDivergence, afterEpoch: afterEpoch)
        }
        return try train(untilEpoch: epochs, stopOnDivergence: stopOnDivergence, afterEpoch: afterEpoch)
    }
}
