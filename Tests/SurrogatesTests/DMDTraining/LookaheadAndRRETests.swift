import Foundation
import XCTest
import NumericalFoundations
import Surrogates

private func parameters(_ trainer: Trainer<Float>) -> [[Float]] {
    (0..<trainer.network.layerCount).map { Array(trainer.network.layerParameters($0)) }
}

/// Lookahead (Zhang et al. 2019, Algorithm 1) on the real `SmallProblem` trainer (5 steps per epoch)
/// and on the stand-in trainer whose parameters the test sets.
final class LookaheadTests: XCTestCase {
    /// α = 1: φ ← θ, θ ← φ is the identity, so the run is the plain Adam run bit for bit (every
    /// epoch's train and test MSE and the final parameters), with k = 3 steps (syncs mid-epoch).
    func testAlphaOneIsTheInnerOptimizerBitForBit() throws {
        let hook = try LookaheadAccelerator(settings: LookaheadSettings(period: .steps(3), alpha: 1), layout: SmallProblem.layout)
        let fast = try SmallProblem.trainer()
        fast.hook = hook
        let plain = try SmallProblem.trainer()
        try fast.train(untilEpoch: 4)
        try plain.train(untilEpoch: 4)
        XCTAssertEqual(parameters(fast), parameters(plain))
        XCTAssertEqual(fast.history.rows.map(\.trainMSE), plain.history.rows.map(\.trainMSE))
        XCTAssertEqual(fast.history.rows.map(\.testMSE), plain.history.rows.map(\.testMSE))
        XCTAssertEqual(hook.syncCount, 20 / 3, "syncs at steps 3, 6, …, 18")
        XCTAssertEqual(fast.history.rows.dropFirst().map { $0.extra["lookahead_syncs"] }, [1, 2, 2, 1], "5 steps per epoch: syncs at 3 | 6, 9 | 12, 15 | 18")
    }

    /// α = 0.5, k = 5 steps = one epoch: after the first sync the parameters are
    /// φ₀ + 0.5 (θ₅ − φ₀) with φ₀ the initial parameters and θ₅ the plain run's parameters after
    /// 5 steps from the same start (same seeds), rounded to float32 — computed here by hand. The
    /// period `.epochs(1)` syncs at the same moment and gives the same parameters.
    func testHalfStepAfterKStepsMatchesHandComputation() throws {
        let plain = try SmallProblem.trainer()
        let φ0 = parameters(plain).map { $0.map(Double.init) }
        try plain.trainEpoch()
        let θ5 = parameters(plain).map { $0.map(Double.init) }
        let expected: [[Float]] = zip(φ0, θ5).map { φ, θ in zip(φ, θ).map { Float($0 + 0.5 * ($1 - $0)) } }

        for period in [LookaheadSettings.Period.steps(5), .epochs(1)] {
            let hook = try LookaheadAccelerator(settings: LookaheadSettings(period: period, alpha: 0.5), layout: SmallProblem.layout)
            let trainer = try SmallProblem.trainer()
            trainer.hook = hook
            try trainer.trainEpoch()
            XCTAssertEqual(hook.syncCount, 1, "\(period)")
            XCTAssertEqual(parameters(trainer), expected, "\(period)")
            for (φ, want) in zip(hook.slowWeights, zip(φ0, θ5).map { φ, θ in zip(φ, θ).map { $0 + 0.5 * ($1 - $0) } }) {
                XCTAssertEqual(φ, want, "the slow weights are kept in float64")
            }
            // The MSE recorded for epoch 1 is that of the synchronised parameters.
            XCTAssertEqual(trainer.history.rows[1].trainMSE, trainer.trainingLoss().scaled)
        }
    }

    /// Step counting mid-epoch, on the stand-in trainer (float64, exact): nothing happens at steps
    /// 1 and 2 of k = 3; at step 3 θ = φ = φ₀ + α(θ₃ − φ₀); at step 6 φ₂ = φ₁ + α(θ₆ − φ₁).
    func testStepPeriodCountsOptimizerSteps() throws {
        let layout = try NetworkLayout(widths: [2, 2, 1], activation: .softsign)
        let trainer = LinearTrajectoryTrainer(layout: layout)
        let θ: (Int, Int) -> [Double] = { step, l in (0..<layout.parameterCount(ofLayer: l)).map { Double(step * 10 + $0 + l) / 7 } }
        for l in 0..<layout.layerCount { trainer.set(layer: l, θ(0, l)) }
        let α = 0.25
        let hook = try LookaheadAccelerator(settings: LookaheadSettings(period: .steps(3), alpha: α), layout: layout)
        XCTAssertTrue(hook.wantsStepCallbacks)
        try hook.trainingWillStart(trainer)
        var φ = (0..<layout.layerCount).map { θ(0, $0) }
        for step in 1...6 {
            for l in 0..<layout.layerCount { trainer.set(layer: l, θ(step, l)) }
            trainer.optimizerSteps = step
            try hook.afterStep(trainer)
            if step % 3 == 0 {
                φ = (0..<layout.layerCount).map { l in zip(φ[l], θ(step, l)).map { $0 + α * ($1 - $0) } }
                XCTAssertEqual(trainer.parameters, φ, "step \(step)")
            } else {
                XCTAssertEqual(trainer.parameters, (0..<layout.layerCount).map { θ(step, $0) }, "step \(step): no sync")
            }
        }
        XCTAssertEqual(hook.syncCount, 2)
        XCTAssertEqual(trainer.resets, [], "Adam's moments untouched")

        // Checkpoint state: restored bit for bit; other settings are refused.
        let copy = try LookaheadAccelerator(settings: hook.settings, layout: layout)
        try copy.restoreCheckpointState(try hook.checkpointState())
        XCTAssertEqual(copy.slowWeights, hook.slowWeights)
        XCTAssertEqual(copy.syncCount, 2)
        let other = try LookaheadAccelerator(settings: LookaheadSettings(period: .epochs(3), alpha: α), layout: layout)
        XCTAssertNotEqual(other.checkpointFingerprint, hook.checkpointFingerprint)
        assertThrowsMessage(try other.restoreCheckpointState(try hook.checkpointState()), contains: ["other settings"])
        assertThrowsMessage(try LookaheadAccelerator(settings: LookaheadSettings(period: .steps(0)), layout: layout), contains: ["k"])
        assertThrowsMessage(try LookaheadAccelerator(settings: LookaheadSettings(alpha: 0), layout: layout), contains: ["α"])
        let decoded = try JSONDecoder().decode(LookaheadSettings.self, from: JSONEncoder().encode(hook.settings))
        XCTAssertEqual(decoded, hook.settings)
    }
}

/// Reduced rank extrapolation (Scieur, d'Aspremont & Bach 2016, Algorithm 1).
final class RRETests: XCTestCase {
    /// x_{k+1} = A x_k + b with a random A of spectral radius ≤ 0.95 (diagonal 0.7 plus off-diagonal
    /// rows of absolute sum 0.25, so the iteration converges slowly) and b = (I − A) x* for a random x*.
    func linearFixedPointIteration(dimension n: Int, generator g: inout SeededGenerator) -> ([Double], ([Double]) -> [Double]) {
        var a = (0..<(n * n)).map { _ in 2 * g.nextUniform() - 1 }
        for i in 0..<n {
            let rowSum = (0..<n).reduce(0.0) { $0 + abs(a[i * n + $1]) }
            for j in 0..<n { a[i * n + j] *= 0.25 / rowSum }
            a[i * n + i] += 0.7
        }
        let xStar = (0..<n).map { _ in g.nextGaussian() }
        let b = (0..<n).map { i in xStar[i] - (0..<n).reduce(0.0) { $0 + a[i * n + $1] * xStar[$1] } }
        let matrix = a
        func step(_ x: [Double]) -> [Double] {
            var y = b
            for i in 0..<n { for j in 0..<n { y[i] += matrix[i * n + j] * x[j] } }
            return y
        }
        return (xStar, step)
    }

    /// x_{k+1} = A x_k + b, n = 6, A = 0.7 I + R with ‖R‖_∞ = 0.25 (so ρ(A) ≤ 0.95 < 1, and the
    /// iteration converges slowly), with b = (I − A) x* for a chosen x*:
    /// with m = 7 = n + 1 and m = 10 differences (λ = 0) RRE returns x* to 1e-8 relative, although
    /// the last iterate is still far from it (finite termination of RRE on linear iterations).
    func testLinearFixedPointIsExactWithNPlusOneDifferences() throws {
        let n = 6
        var g = SeededGenerator(seed: 11, stream: 0)
        let (xStar, step) = linearFixedPointIteration(dimension: n, generator: &g)
        for m in [n + 1, 10] {
            var snapshots = [(0..<n).map { _ in 3 * g.nextGaussian() }]
            for _ in 0..<m { snapshots.append(step(snapshots.last!)) }
            XCTAssertGreaterThan(relativeDifference(snapshots.last!, xStar), 1e-3, "the iteration alone is not converged")
            let x = try ReducedRankExtrapolation.extrapolate(snapshots: snapshots, regularization: 0)
            XCTAssertLessThan(relativeDifference(x, xStar), 1e-8, "m = \(m)")
            print("RRE linear fixed point, m = \(m): relative error \(relativeDifference(x, xStar)), last iterate \(relativeDifference(snapshots.last!, xStar))")
            let c = try ReducedRankExtrapolation.coefficients(snapshots: snapshots, regularization: 0)
            XCTAssertEqual(c.count, m)
            XCTAssertEqual(c.reduce(0, +), 1, accuracy: 1e-12)
        }
    }

    /// MPE and Anderson on the same linear fixed-point iteration (n = 6): both also terminate
    /// finitely, returning x* to 1e-8 relative from m = n + 1 differences (classical, λ = 0); MPE with
    /// a huge λ tends to x_{m−1} (its closed-form limit). Anderson's weights are RRE's (the same residual
    /// minimisation), applied to x_1 … x_m instead of x_0 … x_{m−1}.
    func testMPEAndAndersonAreExactOnALinearFixedPoint() throws {
        let n = 6
        var g = SeededGenerator(seed: 13, stream: 0)
        let (xStar, step) = linearFixedPointIteration(dimension: n, generator: &g)
        var snapshots = [(0..<n).map { _ in 3 * g.nextGaussian() }]
        for _ in 0...n { snapshots.append(step(snapshots.last!)) }
        XCTAssertGreaterThan(relativeDifference(snapshots.last!, xStar), 1e-3, "the iteration alone is not converged")
        for method in [WindowExtrapolation.mpe, .anderson, .rre] {
            let x = try ReducedRankExtrapolation.extrapolate(snapshots: snapshots, method: method, regularization: 0)
            XCTAssertLessThan(relativeDifference(x, xStar), 1e-8, "\(method)")
            let c = try ReducedRankExtrapolation.coefficients(snapshots: snapshots, method: method, regularization: 0)
            XCTAssertEqual(c.reduce(0, +), 1, accuracy: 1e-12 * c.reduce(0) { $0 + abs($1) }, "\(method)")
        }
        // Regularised MPE with a huge λ: γ_{0…m−2} → 0, so the estimate tends to x_{m−1}.
        let regularized = try ReducedRankExtrapolation.extrapolate(snapshots: snapshots, method: .mpe, regularization: 1e8)
        XCTAssertLessThan(relativeDifference(regularized, snapshots[snapshots.count - 2]), 1e-6)
        // Anderson = RRE's weights on the shifted window.
        let c = try ReducedRankExtrapolation.coefficients(snapshots: snapshots, regularization: 0)
        let shifted = ReducedRankExtrapolation.combine(Array(snapshots.dropFirst()), c)
        let anderson = try ReducedRankExtrapolation.extrapolate(snapshots: snapshots, method: .anderson, regularization: 0)
        XCTAssertLessThan(relativeDifference(anderson, shifted), 1e-14)
        assertThrowsMessage(try ReducedRankExtrapolation.coefficients(snapshots: [xStar], method: .mpe, regularization: 0), contains: ["MPE", "at least 2"])
    }

    /// The guarded hook keeps a jump only when it lowers the training MSE (here with a huge λ:
    /// weights ≈ 1/m, the window's average). Up to the first jump the guarded run is the plain one,
    /// so either the jump is refused and the parameters are x_m, the plain run's, bit for bit, or it
    /// is kept and the training MSE is below the plain run's at that epoch.
    func testGuardedExtrapolationRollsBackBitForBit() throws {
        let m = 3
        let plain = try SmallProblem.trainer()
        let guarded = try SmallProblem.trainer()
        guarded.hook = try RREAccelerator(settings: RRESettings(differenceCount: m, regularization: 1e8, method: .rre, guarded: true),
                                          layout: SmallProblem.layout)
        for _ in 0..<m {
            try plain.trainEpoch()
            try guarded.trainEpoch()
        }
        let row = guarded.history.rows.last!
        let accepted = try XCTUnwrap(row.extra["rre_accepted"])
        if accepted == 0 {
            XCTAssertEqual(Array(guarded.network.parameters), Array(plain.network.parameters))
        } else {
            XCTAssertLessThan(row.trainMSE, plain.history.rows.last!.trainMSE)
        }
    }

    /// λ > 0: the weights c = z / Σ z of (UᵀU + λI) z = 1 sum to 1 to 1e-12, on a random (not
    /// linear) trajectory of n = 40 and m = 8, for several λ; they are all finite.
    func testRegularizedWeightsSumToOne() throws {
        var g = SeededGenerator(seed: 12, stream: 0)
        var x = (0..<40).map { _ in g.nextGaussian() }
        var snapshots = [x]
        for k in 1...8 {
            x = x.map { 0.8 * $0 + 0.1 * g.nextGaussian() / Double(k) + 0.05 * sin($0) }
            snapshots.append(x)
        }
        for λ in [1e-10, 1e-6, 1e-2, 1.0] {
            let c = try ReducedRankExtrapolation.coefficients(snapshots: snapshots, regularization: λ)
            XCTAssertEqual(c.count, 8)
            XCTAssertTrue(c.allSatisfy(\.isFinite))
            XCTAssertEqual(c.reduce(0, +), 1, accuracy: 1e-12, "λ = \(λ)")
        }
        // Large λ: the weights tend to the uniform 1/m (the ‖c‖² term dominates).
        let uniform = try ReducedRankExtrapolation.coefficients(snapshots: snapshots, regularization: 1e8)
        for c in uniform { XCTAssertEqual(c, 1.0 / 8, accuracy: 1e-6) }
        assertThrowsMessage(try ReducedRankExtrapolation.coefficients(snapshots: [x], regularization: 0), contains: ["at least 2"])
        assertThrowsMessage(try ReducedRankExtrapolation.coefficients(snapshots: [x, x, x], regularization: 1e-3), contains: ["equal"])
    }

    /// The hook on `SmallProblem`, m = 3, 10 epochs: jumps exactly at epochs 3, 6, 9 (column
    /// `rre_jump`), the parameters after the first jump are the extrapolation of the plain run's
    /// parameters at epochs 0–3 rounded to float32, and all parameters stay finite; also with
    /// one weight vector for all layers. Checkpoint state round-trips.
    func testHookJumpsEveryMEpochs() throws {
        let m = 3
        for scope in [RRESettings.Scope.perLayer, .allLayers] {
            let settings = RRESettings(differenceCount: m, regularization: 1e-6, scope: scope)
            let hook = try RREAccelerator(settings: settings, layout: SmallProblem.layout)
            let trainer = try SmallProblem.trainer()
            trainer.hook = hook
            let plain = try SmallProblem.trainer()
            var plainSnapshots = [parameters(plain).map { $0.map(Double.init) }]   // [epoch][layer]
            for _ in 1...m {
                try plain.trainEpoch()
                plainSnapshots.append(parameters(plain).map { $0.map(Double.init) })
            }
            try trainer.train(untilEpoch: m)
            let layers = SmallProblem.layout.layerCount
            let expected: [[Float]]
            switch scope {
            case .perLayer:
                expected = try (0..<layers).map { l in
                    try ReducedRankExtrapolation.extrapolate(snapshots: plainSnapshots.map { $0[l] }, regularization: 1e-6).map { Float($0) }
                }
            case .allLayers:
                let joined = try ReducedRankExtrapolation.extrapolate(snapshots: plainSnapshots.map { $0.flatMap { $0 } }, regularization: 1e-6)
                var offset = 0
                expected = (0..<layers).map { l in
                    let n = SmallProblem.layout.parameterCount(ofLayer: l)
                    defer { offset += n }
                    return joined[offset..<(offset + n)].map { Float($0) }
                }
            }
            XCTAssertEqual(parameters(trainer), expected, "\(scope)")

            let state = try hook.checkpointState()
            try trainer.train(untilEpoch: 10)
            XCTAssertEqual(hook.jumpEpochs, [3, 6, 9], "\(scope)")
            for row in trainer.history.rows.dropFirst() {
                XCTAssertEqual(row.extra["rre_jump"], row.epoch % m == 0 ? 1 : 0, "\(scope) epoch \(row.epoch)")
                XCTAssertEqual(row.extra["rre_snapshots_held"], Double(row.epoch % m + 1), "\(scope) epoch \(row.epoch)")
                XCTAssertEqual(row.extra["rre_failures"] != nil, row.epoch % m == 0)
                XCTAssertTrue(row.trainMSE.isFinite)
            }
            XCTAssertTrue(parameters(trainer).allSatisfy { $0.allSatisfy(\.isFinite) })

            let restored = try RREAccelerator(settings: settings, layout: SmallProblem.layout)
            try restored.restoreCheckpointState(state)
            XCTAssertEqual(restored.snapshotsHeld, 1, "x_0 of the next window")
            XCTAssertEqual(restored.jumpEpochs, [3])
            XCTAssertEqual(try restored.checkpointState(), state)
            let other = try RREAccelerator(settings: RRESettings(differenceCount: m, regularization: 0, scope: scope), layout: SmallProblem.layout)
            assertThrowsMessage(try other.restoreCheckpointState(state), contains: ["other settings"])
        }
        XCTAssertEqual(try JSONDecoder().decode(RRESettings.self, from: JSONEncoder().encode(RRESettings())), RRESettings())
    }
}

/// Resume through `TrainingRun`'s checkpoints: stopping after epoch 4 or 5 and resuming gives the
/// same model files and history as an uninterrupted run of 8 epochs, bit for bit, for Lookahead
/// (k = 3 steps: syncs mid-epoch, φ ≠ θ at the checkpoint) and RRE (m = 3: a window half full).
final class LookaheadAndRREResumeTests: XCTestCase {
    private func files(_ folder: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".npy") || name.hasSuffix(".csv") {
            out[name] = try Data(contentsOf: folder.appendingPathComponent(name))
        }
        return out
    }

    private func withoutTimes(_ csv: Data?) -> [[String]] {
        let lines = String(decoding: csv ?? Data(), as: UTF8.self).split(separator: "\n")
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard let header = lines.first else { return [] }
        let kept = header.indices.filter { !dmdTimingColumns.contains(header[$0]) && header[$0] != "rre_seconds" }
        return lines.map { cells in kept.map { cells[$0] } }
    }

    func testResumeEqualsUninterruptedRun() throws {
        let root = try temporaryDirectory("hooks-resume")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = try SmallProblem.dataset()
        let layout = SmallProblem.layout
        let factories: [(String, () throws -> TrainingHook)] = [
            ("lookahead", { try LookaheadAccelerator(settings: LookaheadSettings(period: .steps(3), alpha: 0.5), layout: layout) }),
            ("rre", { try RREAccelerator(settings: RRESettings(differenceCount: 3, regularization: 1e-6), layout: layout) }),
        ]
        for (name, make) in factories {
            let whole = root.appendingPathComponent("\(name)-whole")
            _ = try TrainingRun.execute(dataset: data, settings: SmallProblem.runSettings(epochs: 8), modelDirectory: whole, resume: .never, hook: make())
            let reference = try files(whole)
            XCTAssertTrue(reference.keys.contains { $0.hasSuffix(".npy") }, "the model files are compared")
            for stop in [4, 5] {
                let folder = root.appendingPathComponent("\(name)-split\(stop)")
                _ = try TrainingRun.execute(dataset: data, settings: SmallProblem.runSettings(epochs: 8, stopAfter: stop), modelDirectory: folder,
                                            resume: .never, hook: make())
                let report = try TrainingRun.execute(dataset: data, settings: SmallProblem.runSettings(epochs: 8), modelDirectory: folder,
                                                     resume: .always, hook: make())
                XCTAssertEqual(report.startEpoch, stop, name)
                let got = try files(folder)
                XCTAssertEqual(Set(got.keys), Set(reference.keys), name)
                for (file, bytes) in reference where file.hasSuffix(".npy") { XCTAssertEqual(got[file], bytes, "\(name) stop \(stop): \(file)") }
                XCTAssertEqual(withoutTimes(got[TrainingRun.historyFile]), withoutTimes(reference[TrainingRun.historyFile]), "\(name) stop \(stop)")
            }
        }
    }
}
