extension Trainer {
    /// `trainEpoch()` for callers outside this module: Pipeline's `train-dmd bench` (TrainingBenchmark)
    /// and the study's `AccelerationRun`, which drive the trainer one epoch at a time from generic
    /// code of their own. Called from another module, `Trainer<Scalar>`'s methods run their
    /// unspecialised generic code, the element-wise loops going through witness tables: an order of
    /// magnitude slower (docs/dmd-training.md, "Why the benchmark goes through `TrainingRun`"). The
    /// cast to the concrete type is made here, inside the module, so the call reaches the copy
    /// compiled for Float or Double. (`TrainingRun`, in this module, needs no such entry point.)
    @discardableResult
    public func trainEpochSpecialized() throws -> HistoryRow {
        if Scalar.self == Float.self { return try unsafeDowncast(self, to: Trainer<Float>.self).trainEpoch() }
        if Scalar.self == Double.self { return try unsafeDowncast(self, to: Trainer<Double>.self).trainEpoch() }
        return try trainEpoch()
    }
}
