import Foundation
import NumericalFoundations

/// The oracle curve: how far could an acquisition that knew the error go?
///
/// It starts from the same initial design as the LHS and adaptive curves (the nested order's first
/// `initialSize` rows). At each point it fits and scores the models exactly as an LHS point, then
/// predicts the training-split samples not in the design — already solved by `pollutant-fem`, so it
/// costs no FEM solve — and adds the K on which the first model's relative L2 error is largest (ties
/// by the nested order). This needs the FEM answer of every candidate, so no user could run it: it is
/// the reference for greedy error-driven acquisitions (a perfect error indicator, no diversity rule) on
/// the same pool of LHS samples.
///
/// With `share` < 1 (a hedged oracle) only round(share·K) of each batch are chosen by the error; the
/// rest are the next rows of the seed's nested LHS order not yet in the design, so the design keeps a
/// space-filling part that grows as the LHS curve's does.
extension RefineStudy {
    static func runOracle(config: PipelineConfig, layout: DataLayout, label: String, settings: RefineSettings, threads: Int,
                          share: Double = 1, saved: () throws -> Void = {}) throws {
        guard share > 0, share <= 1 else { throw StageError("refine-study: --oracle-share must lie in (0, 1], got \(share)") }
        let context = try PointContext(config: config, layout: layout, label: label, method: .oracle, settings: settings, threads: threads)
        guard let chooser = settings.models.first else { throw StageError("refine-study: the oracle curve needs a model") }
        let progress = ProgressReporter("refine-study oracle seed \(settings.seed) points", total: context.sizes.count)
        var rows = Array(context.order.prefix(settings.initialSize)).sorted()
        for (index, n) in context.sizes.enumerated() {
            let nextSize: Int? = index + 1 < context.sizes.count ? context.sizes[index + 1] : nil
            if let done = try context.finishedPoint(n) {
                guard (done.oracleShare ?? 1) == share else {
                    throw StageError("refine-study: \(context.pointURL(n).path) was made with --oracle-share \(done.oracleShare ?? 1), not \(share): "
                                     + "use another --label (and copy the LHS curve there) or delete \(context.folder.path)")
                }
                guard done.rows == rows else {
                    throw StageError("refine-study: \(context.pointURL(n).path) holds another design than its predecessors chose: delete \(context.folder.path) and rerun")
                }
                if let nextSize {
                    guard let chosen = done.chosenNext, chosen.count == nextSize - n else {
                        throw StageError("refine-study: \(context.pointURL(n).path) does not record the \(nextSize - n) rows it chose for the next point: delete it and rerun")
                    }
                    rows = (rows + chosen).sorted()
                }
                progress.advance()
                continue
            }
            var (point, scored) = try context.fitPoint(rows: rows)
            point.rows = rows
            point.oracleShare = share < 1 ? share : nil
            if let nextSize {
                let inDesign = Set(rows)
                let pool = context.order.filter { !inDesign.contains($0) }
                guard let model = scored[chooser] else { throw StageError("refine-study: the oracle's model \(chooser) was not fitted") }
                let errors = try SurrogateFitStage.relativeErrors(model, rows: pool, dataset: context.base, threads: threads).errors.perSample
                let batch = nextSize - n
                let byError = largestErrors(pool: pool, errors: errors, count: Int((share * Double(batch)).rounded()))
                let taken = Set(byError)
                let chosen = byError + pool.lazy.filter { !taken.contains($0) }.prefix(batch - byError.count)
                point.chosenNext = chosen
                try context.write(point)
                rows = (rows + chosen).sorted()
            } else {
                try context.write(point)
            }
            try saved()
            progress.advance(detail: point.scores.map { String(format: "%@ n=%d: %.4f / %.4f", $0.model, n, $0.testMedian, $0.testP95) }.joined(separator: ", "))
        }
    }

    /// The `count` entries of `pool` with the largest errors, in the pool's order among equals; a sample
    /// whose error is undefined (nil or NaN: a zero field) comes last.
    static func largestErrors(pool: [Int], errors: [Double?], count: Int) -> [Int] {
        func error(_ k: Int) -> Double { errors[k].flatMap { $0.isNaN ? nil : $0 } ?? -.infinity }
        let ranked = pool.indices.sorted { a, b in
            let (ea, eb) = (error(a), error(b))
            return ea != eb ? ea > eb : a < b
        }
        return ranked.prefix(count).map { pool[$0] }
    }
}
