import Foundation

/// The record of one DMD jump of Algorithm 1 (all selected layers at once).
public struct DMDJump: Codable, Equatable, Sendable {
    /// What the jump did for one layer.
    public struct LayerOutcome: Codable, Equatable, Sendable {
        /// 0-based weight-layer index (as `dmd.layers`, `layer_<k>_weights.npy` and `rank_L<k>`).
        public var layer: Int
        /// r of (F10); nil when the decomposition failed.
        public var rank: Int?
        /// max |λ| over the computed eigenvalues (before any clamping); 0 for rank 0.
        public var largestEigenvalueModulus: Double?
        /// Eigenvalues safeguard (a) moved onto the unit circle.
        public var clampedEigenvalues: Int
        /// Why the layer was left at w_m (a DMD or LAPACK error); nil when it was extrapolated.
        public var failure: String?
        /// "all" when one DMD covered every selected layer (`dmd.scope = "network"`; `layer` is then the
        /// first of them); nil for the paper's DMD per layer.
        public var block: String?

        public init(layer: Int, rank: Int?, largestEigenvalueModulus: Double?, clampedEigenvalues: Int, failure: String?, block: String? = nil) {
            self.layer = layer; self.rank = rank; self.largestEigenvalueModulus = largestEigenvalueModulus
            self.clampedEigenvalues = clampedEigenvalues; self.failure = failure; self.block = block
        }
    }

    /// 1-based jump number (the J of `eigenvalues/jump_<J>_layer_<k>.npy`).
    public var number: Int
    /// The epoch the jump belongs to: the one just finished (snapshots per epoch) or the one in
    /// progress (snapshots per optimizer step). The jump's history row is this epoch's.
    public var epoch: Int
    /// Optimizer steps taken since training began when the jump was made.
    public var optimizerStep: Int
    /// s after annealing (safeguard (d)); before the guard factors.
    public var plannedSteps: Double
    /// The s of the parameters kept: `plannedSteps` × the chosen guard factor; 0 when the guard rejected the jump.
    public var usedSteps: Double
    /// The guard factor kept (safeguard (c)); nil without the guard or when the jump was rejected.
    public var guardFactor: Double?
    /// Training MSE of each guard candidate, in the order of `dmd.guard_factors` (+∞ for a candidate
    /// whose parameters overflowed the network precision); empty without the guard.
    public var candidateTrainMSE: [Double]
    /// False when the guard found no candidate better than the parameters at the m-th snapshot
    /// (which were then restored bit for bit).
    public var accepted: Bool
    /// MSE (scaled units) of the parameters at the m-th snapshot and after the jump; nil when not measured.
    public var trainMSEBefore: Double?
    public var trainMSEAfter: Double?
    public var testMSEBefore: Double?
    public var testMSEAfter: Double?
    public var layers: [LayerOutcome]

    /// after / before on the training set (the paper's relative error); nil when not measured.
    /// (Reporting's `Metrics.jumpRelativeError`: one definition for the training and the report.)
    public var trainRelativeError: Double? { Metrics.jumpRelativeError(after: trainMSEAfter, before: trainMSEBefore) }
    public var testRelativeError: Double? { Metrics.jumpRelativeError(after: testMSEAfter, before: testMSEBefore) }

    /// `jumps.csv`: one line per jump; per-layer values joined with ';' in layer order.
    public static func csv(_ jumps: [DMDJump]) -> String {
        func cell(_ x: Double?) -> String { x.map { $0.isFinite ? "\($0)" : ($0.isNaN ? "nan" : ($0 > 0 ? "inf" : "-inf")) } ?? "" }
        var lines = ["jump,epoch,optimizer_step,s_planned,s_used,guard_factor,accepted,train_mse_before,train_mse_after,"
                     + "test_mse_before,test_mse_after,train_relative_error,test_relative_error,layers,ranks,max_abs_eigs,"
                     + "clamped_eigenvalues,failed_layers,guard_candidate_train_mse"]
        for j in jumps {
            let cells: [String] = [
                "\(j.number)", "\(j.epoch)", "\(j.optimizerStep)", cell(j.plannedSteps), cell(j.usedSteps), cell(j.guardFactor),
                j.accepted ? "1" : "0", cell(j.trainMSEBefore), cell(j.trainMSEAfter), cell(j.testMSEBefore), cell(j.testMSEAfter),
                cell(j.trainRelativeError), cell(j.testRelativeError),
                j.layers.map { $0.block ?? "\($0.layer)" }.joined(separator: ";"),
                j.layers.map { $0.rank.map(String.init) ?? "" }.joined(separator: ";"),
                j.layers.map { cell($0.largestEigenvalueModulus) }.joined(separator: ";"),
                "\(j.layers.reduce(0) { $0 + $1.clampedEigenvalues })",
                j.layers.filter { $0.failure != nil }.map { "\($0.layer)" }.joined(separator: ";"),
                j.candidateTrainMSE.map { cell($0) }.joined(separator: ";"),
            ]
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Plain mean of the defined relative errors (the paper's "mean relative error" of a run;
    /// +∞ if one jump diverged, so that the (m, s) study marks the pair); nil when no jump has one.
    /// The report's `JumpStatistics` instead leaves diverged jumps out of its mean and counts them.
    public static func meanRelativeError(_ jumps: [DMDJump], test: Bool) -> Double? {
        let ratios = jumps.compactMap { test ? $0.testRelativeError : $0.trainRelativeError }
        guard !ratios.isEmpty else { return nil }
        return ratios.reduce(0, +) / Double(ratios.count)
    }
}
