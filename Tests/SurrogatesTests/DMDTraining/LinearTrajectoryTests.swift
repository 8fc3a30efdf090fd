import NumericalFoundations
@testable import Surrogates
import Foundation
import XCTest

/// Algorithm 1 on parameters that follow an exactly linear trajectory (`LinearTrajectoryTrainer`):
/// the jump must land on the trajectory's own future, w_{m+s} = B D^{m+s} c, and the safeguards
/// must do exactly what they are defined to do.
final class LinearTrajectoryTests: XCTestCase {
    // Two layers, n = 210 and 55 (widths 20 → 10 → 5), with 7 and 4 modes: two complex pairs and
    // three real eigenvalues (one negative), and one pair and two reals.
    let layout = try! NetworkLayout(widths: [20, 10, 5], activation: .softsign)
    let m = 10
    lazy var dynamics = [
        LinearTrajectoryTrainer.dynamics(n: 210, blocks: [(0.95 * cos(0.3), 0.95 * sin(0.3)), (0.9 * cos(0.7), 0.9 * sin(0.7)),
                                                          (0.99, 0), (-0.8, 0), (0.5, 0)], seed: 1),
        LinearTrajectoryTrainer.dynamics(n: 55, blocks: [(0.97 * cos(0.2), 0.97 * sin(0.2)), (0.98, 0), (0.6, 0)], seed: 2),
    ]

    /// Feeds epochs 1 … `epochs` of the trajectory to the hook; returns the rows it reported.
    func drive(_ hook: DMDAccelerator, _ trainer: LinearTrajectoryTrainer, epochs: ClosedRange<Int>) throws -> [Int: [String: Double]] {
        try hook.trainingWillStart(trainer)
        var rows: [Int: [String: Double]] = [:]
        for k in epochs {
            for l in 0..<2 { trainer.set(layer: l, dynamics[l].parameters(Double(k), n: layout.parameterCount(ofLayer: l))) }
            trainer.completedEpochs = k
            rows[k] = try hook.afterEpoch(trainer)
        }
        return rows
    }

    func expected(_ k: Double) -> [[Double]] {
        (0..<2).map { dynamics[$0].parameters(k, n: layout.parameterCount(ofLayer: $0)) }
    }

    /// The plain jump (the paper's Algorithm 1, QR path, exact modes): after m = 10 snapshots the
    /// parameters are w_{10+50} to 1e-8 (the specified bound for s = 50; measured ≈ 1e-13, the
    /// library's accuracy on such data), the eigenvalue files hold D's eigenvalues to 1e-10, and the
    /// history columns report the jump.
    func testJumpLandsOnTheLinearTrajectory() throws {
        let folder = try temporaryDirectory("linear")
        defer { try? FileManager.default.removeItem(at: folder) }
        let hook = try DMDAccelerator(settings: DMDTrainingSettings(snapshotCount: m, steps: 50), layout: layout,
                                      eigenvalueDirectory: folder, copyThreads: 2)
        let trainer = LinearTrajectoryTrainer(layout: layout)
        let rows = try drive(hook, trainer, epochs: 1...m)
        for (l, target) in expected(Double(m + 50)).enumerated() {
            let error = relativeDifference(trainer.parameters[l], target)
            XCTAssertLessThan(error, 1e-8, "layer \(l): jump lands \(error) away (relative) from w_{m+s}")
        }
        for k in 1..<m {
            XCTAssertEqual(rows[k]?["jump"], 0)
            XCTAssertEqual(rows[k]?["snapshots_held"], Double(k))
            XCTAssertNil(rows[k]?["rank_L0"], "no rank outside a jump")
        }
        let row = try XCTUnwrap(rows[m])
        XCTAssertEqual(row["jump"], 1)
        XCTAssertEqual(row["snapshots_held"], 0, "buffers cleared after the jump")
        XCTAssertEqual(row["rank_L0"], 7)
        XCTAssertEqual(row["rank_L1"], 4)
        XCTAssertEqual(row["s_used"], 50)
        XCTAssertEqual(row["max_abs_eig_L0"]!, 0.99, accuracy: 1e-10)
        XCTAssertEqual(row["max_abs_eig_L1"]!, 0.98, accuracy: 1e-10)
        XCTAssertEqual(row["train_mse_before"], 1)   // the stand-in's loss is the constant 1
        XCTAssertEqual(row["test_mse_after"], 2)
        XCTAssertEqual(row["dmd_failures"], 0)
        for column in ["snapshot_seconds", "dmd_seconds", "assign_seconds", "jump_loss_seconds"] {
            XCTAssertGreaterThanOrEqual(try XCTUnwrap(row[column]), 0)
        }

        // Eigenvalue files (r × 2: Re, Im), sorted by decreasing modulus, against D's eigenvalues.
        for l in 0..<2 {
            let file = try Npy.read(Double.self, from: folder.appendingPathComponent(DMDAccelerator.eigenvalueFileName(jump: 1, layer: l)))
            let truth = dynamics[l].eigenvalues
            XCTAssertEqual(file.shape, [truth.count, 2])
            for (re, im) in truth {
                let nearest = (0..<file.shape[0]).map { i in hypot(file.values[2 * i] - re, file.values[2 * i + 1] - im) }.min()!
                XCTAssertLessThan(nearest, 1e-10, "layer \(l): eigenvalue \(re) + \(im)i not recovered")
            }
            let moduli = (0..<file.shape[0]).map { hypot(file.values[2 * $0], file.values[2 * $0 + 1]) }
            XCTAssertEqual(moduli, moduli.sorted(by: >))
        }
        XCTAssertEqual(hook.jumps.count, 1)
        XCTAssertEqual(hook.jumps[0].epoch, m)
        XCTAssertTrue(trainer.resets.isEmpty, "Adam moments kept by default")

        // The next m epochs make jump 2 from a fresh buffer: it lands on w_{2m+50}.
        _ = try drive(hook, trainer, epochs: (m + 1)...(2 * m))
        XCTAssertEqual(hook.jumps.count, 2)
        XCTAssertLessThan(relativeDifference(trainer.parameters[0], expected(Double(2 * m + 50))[0]), 1e-8)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("jump_2_layer_1.npy").path))
    }

    /// (b) relaxation ω = 0.5: w_m + ω (w_{m+s} − w_m); (d) annealing over E = 20 epochs: the jump at
    /// epoch 10 (progress ½) uses s/2 (linear: s (1 − ½); cosine: s (1 + cos π/2)/2), i.e. lands on
    /// w_{m+25}; Adam moments reset when asked.
    func testRelaxationAnnealingAndMomentReset() throws {
        var settings = DMDTrainingSettings(snapshotCount: m, steps: 50, relaxation: 0.5)
        var hook = try DMDAccelerator(settings: settings, layout: layout)
        var trainer = LinearTrajectoryTrainer(layout: layout)
        _ = try drive(hook, trainer, epochs: 1...m)
        let wm = expected(Double(m)), ahead = expected(Double(m + 50))
        for l in 0..<2 {
            let relaxed = zip(wm[l], ahead[l]).map { $0 + 0.5 * ($1 - $0) }
            XCTAssertLessThan(relativeDifference(trainer.parameters[l], relaxed), 1e-8)
        }

        for schedule in [DMDTrainingSettings.Annealing.linear, .cosine] {
            settings = DMDTrainingSettings(snapshotCount: m, steps: 50, moments: .reset, annealing: schedule, annealingEpochs: 20)
            hook = try DMDAccelerator(settings: settings, layout: layout)
            trainer = LinearTrajectoryTrainer(layout: layout)
            let rows = try drive(hook, trainer, epochs: 1...m)
            XCTAssertEqual(rows[m]!["s_used"]!, 25, accuracy: 1e-12, "\(schedule)")
            XCTAssertLessThan(relativeDifference(trainer.parameters[0], expected(Double(m + 25))[0]), 1e-8, "\(schedule)")
            XCTAssertEqual(trainer.resets, [0, 1], "moments of both jumped layers reset")
        }
    }

    /// s annealed down to 0 (a jump at the planned last epoch) changes nothing: the parameters stay
    /// w_m bit for bit (not the rank-r fit Re(Φ b) that (F13) gives at s = 0), the DMD is still recorded.
    func testAnnealedToZeroWritesNothing() throws {
        let hook = try DMDAccelerator(settings: DMDTrainingSettings(snapshotCount: m, steps: 50, annealing: .linear, annealingEpochs: m),
                                      layout: layout)
        let trainer = LinearTrajectoryTrainer(layout: layout)
        let rows = try drive(hook, trainer, epochs: 1...m)
        XCTAssertEqual(trainer.parameters, expected(Double(m)))
        XCTAssertEqual(rows[m]?["s_used"], 0)
        XCTAssertEqual(rows[m]?["rank_L0"], 7)
        XCTAssertEqual(hook.jumps.first?.trainMSEAfter, hook.jumps.first?.trainMSEBefore)
    }

    /// (c) the guarded jump picks the candidate s·f with the lowest training loss: with the loss
    /// ‖w − w_{m+2s}‖² the factor 2 wins and the parameters land on w_{m+2s}; with the loss
    /// ‖w − w_m‖² (already 0 at w_m) nothing beats the current loss, the jump is rejected and the
    /// parameters are w_m bit for bit, Adam untouched.
    func testGuardedJumpChoosesTheBestCandidateOrRejects() throws {
        let s = 20.0
        let settings = DMDTrainingSettings(snapshotCount: m, steps: s, moments: .reset, guarded: true, guardFactors: [0.25, 0.5, 1, 2])
        let target = expected(Double(m) + 2 * s)
        var hook = try DMDAccelerator(settings: settings, layout: layout)
        var trainer = LinearTrajectoryTrainer(layout: layout)
        trainer.loss = { squaredDistance($0, target) }
        var rows = try drive(hook, trainer, epochs: 1...m)
        var jump = try XCTUnwrap(hook.jumps.first)
        XCTAssertTrue(jump.accepted)
        XCTAssertEqual(jump.guardFactor, 2)
        XCTAssertEqual(jump.usedSteps, 2 * s)
        XCTAssertEqual(jump.candidateTrainMSE.count, 4)
        XCTAssertEqual(jump.candidateTrainMSE.firstIndex(of: jump.candidateTrainMSE.min()!), 3)
        XCTAssertLessThan(relativeDifference(trainer.parameters[0], target[0]), 1e-8)
        XCTAssertLessThan(try XCTUnwrap(jump.trainMSEAfter), try XCTUnwrap(jump.trainMSEBefore))
        XCTAssertEqual(rows[m]?["guard_factor"], 2)
        XCTAssertEqual(rows[m]?["jump_accepted"], 1)
        XCTAssertEqual(trainer.resets, [0, 1])

        hook = try DMDAccelerator(settings: settings, layout: layout)
        trainer = LinearTrajectoryTrainer(layout: layout)
        let wm = expected(Double(m))
        trainer.loss = { squaredDistance($0, wm) }
        rows = try drive(hook, trainer, epochs: 1...m)
        jump = try XCTUnwrap(hook.jumps.first)
        XCTAssertFalse(jump.accepted)
        XCTAssertEqual(jump.usedSteps, 0)
        XCTAssertNil(jump.guardFactor)
        XCTAssertEqual(trainer.parameters, wm, "rejected: w_m restored bit for bit")
        XCTAssertEqual(jump.trainMSEAfter, 0)
        XCTAssertEqual(rows[m]?["jump_accepted"], 0)
        XCTAssertEqual(rows[m]?["jump"], 1, "a rejected jump is still a jump row (relative error 1)")
        XCTAssertTrue(trainer.resets.isEmpty, "a rejected jump leaves Adam alone")
    }

    /// Only the layers of `dmd.layers` are snapshotted and extrapolated; the others keep their values.
    func testLayerSelection() throws {
        let hook = try DMDAccelerator(settings: DMDTrainingSettings(snapshotCount: m, steps: 50, layers: [1]), layout: layout)
        XCTAssertEqual(hook.selectedLayers, [1])
        XCTAssertTrue(hook.historyColumns.contains("rank_L1"))
        XCTAssertFalse(hook.historyColumns.contains("rank_L0"))
        let trainer = LinearTrajectoryTrainer(layout: layout)
        _ = try drive(hook, trainer, epochs: 1...m)
        XCTAssertEqual(trainer.parameters[0], expected(Double(m))[0], "layer 0 not selected: untouched")
        XCTAssertLessThan(relativeDifference(trainer.parameters[1], expected(Double(m + 50))[1]), 1e-8)
    }
}

/// The two variants beyond the paper on the same exactly linear (and affine) trajectories.
final class DMDVariantTests: XCTestCase {
    let layout = try! NetworkLayout(widths: [20, 10, 5], activation: .softsign)
    lazy var dynamics = [
        LinearTrajectoryTrainer.dynamics(n: 210, blocks: [(0.95 * cos(0.3), 0.95 * sin(0.3)), (0.9 * cos(0.7), 0.9 * sin(0.7)),
                                                          (0.99, 0), (-0.8, 0), (0.5, 0)], seed: 1),
        LinearTrajectoryTrainer.dynamics(n: 55, blocks: [(0.97 * cos(0.2), 0.97 * sin(0.2)), (0.98, 0), (0.6, 0)], seed: 2),
    ]
    /// A constant part per layer: w_k = c_ℓ + B D^k c₀ is an affine iteration with fixed point c_ℓ.
    lazy var offsets: [[Double]] = (0..<2).map { l in (0..<layout.parameterCount(ofLayer: l)).map { 0.2 + cos(Double($0 + 31 * l)) } }

    func expected(_ k: Double, affine: Bool) -> [[Double]] {
        (0..<2).map { l in
            let w = dynamics[l].parameters(k, n: layout.parameterCount(ofLayer: l))
            return affine ? zip(w, offsets[l]).map { $0 + $1 } : w
        }
    }

    func drive(_ hook: DMDAccelerator, _ trainer: LinearTrajectoryTrainer, epochs: ClosedRange<Int>, affine: Bool) throws -> [Int: [String: Double]] {
        try hook.trainingWillStart(trainer)
        var rows: [Int: [String: Double]] = [:]
        for k in epochs {
            for (l, w) in expected(Double(k), affine: affine).enumerated() { trainer.set(layer: l, w) }
            trainer.completedEpochs = k
            rows[k] = try hook.afterEpoch(trainer)
        }
        return rows
    }

    /// `scope = network`: one DMD of the 265 parameters of both layers. The concatenated trajectory has
    /// the union of the layers' 7 + 4 eigenvalues, so m = 13 snapshots (12 columns of X ≥ 11) resolve
    /// it: the jump lands on both layers' w_{m+s}, one rank and one eigenvalue file are reported. The
    /// union is worse conditioned than either layer (11 modes in 12 columns, the weakest decayed by
    /// 0.5^13): measured 1.0e-8 on the landing and 3e-10 on max |λ|, asserted 1e-6 and 1e-7.
    func testNetworkScopeIsOneDMDWithTheUnionOfTheEigenvalues() throws {
        let folder = try temporaryDirectory("network-scope")
        defer { try? FileManager.default.removeItem(at: folder) }
        let m = 13
        let hook = try DMDAccelerator(settings: DMDTrainingSettings(snapshotCount: m, steps: 50, scope: .network), layout: layout,
                                      eigenvalueDirectory: folder)
        XCTAssertTrue(hook.historyColumns.contains("rank_all") && hook.historyColumns.contains("max_abs_eig_all"))
        XCTAssertFalse(hook.historyColumns.contains("rank_L0"))
        let trainer = LinearTrajectoryTrainer(layout: layout)
        let rows = try drive(hook, trainer, epochs: 1...m, affine: false)
        for (l, target) in expected(Double(m + 50), affine: false).enumerated() {
            XCTAssertLessThan(relativeDifference(trainer.parameters[l], target), 1e-6, "layer \(l)")
        }
        XCTAssertEqual(rows[m]?["rank_all"], 11)
        XCTAssertEqual(rows[m]?["max_abs_eig_all"] ?? 0, 0.99, accuracy: 1e-7)
        XCTAssertEqual(hook.jumps.first?.layers.count, 1)
        XCTAssertEqual(hook.jumps.first?.layers.first?.block, "all")
        let file = try Npy.read(Double.self, from: folder.appendingPathComponent(DMDAccelerator.networkEigenvalueFileName(jump: 1)))
        XCTAssertEqual(file.shape, [11, 2])
        XCTAssertTrue(DMDJump.csv(hook.jumps).contains(",all,11,"), DMDJump.csv(hook.jumps))
    }

    /// `snapshot_kind = updates` on an affine trajectory: the updates follow D exactly, so each layer's
    /// rank is its own mode count (the offset needs no eigenvalue 1) and the jump lands on
    /// c + B D^{m+s} c₀; a very long horizon lands on the fixed point c. The weights' DMD of the same
    /// snapshots needs one more mode for the offset (rank 8 and 5).
    func testUpdatesLandOnTheAffineTrajectoryAndItsFixedPoint() throws {
        let m = 10
        for (steps, target) in [(50.0, expected(Double(m + 50), affine: true)), (1e6, offsets)] {
            let hook = try DMDAccelerator(settings: DMDTrainingSettings(snapshotCount: m, steps: steps, snapshotKind: .updates), layout: layout)
            let trainer = LinearTrajectoryTrainer(layout: layout)
            let rows = try drive(hook, trainer, epochs: 1...m, affine: true)
            for l in 0..<2 {
                XCTAssertLessThan(relativeDifference(trainer.parameters[l], target[l]), 1e-8, "s = \(steps), layer \(l)")
            }
            XCTAssertEqual(rows[m]?["rank_L0"], 7)
            XCTAssertEqual(rows[m]?["rank_L1"], 4)
            // The next window starts from the jumped parameters, not from the differences.
            XCTAssertEqual(rows[m]?["snapshots_held"], 0)
        }
        let weights = try DMDAccelerator(settings: DMDTrainingSettings(snapshotCount: m, steps: 50), layout: layout)
        let rows = try drive(weights, LinearTrajectoryTrainer(layout: layout), epochs: 1...m, affine: true)
        XCTAssertEqual(rows[m]?["rank_L0"], 8)
        XCTAssertEqual(rows[m]?["rank_L1"], 5)
    }

    /// A non-finite parameter stops the training with the layer and the layer's own index named, also
    /// when one DMD covers all layers (the block's entry is mapped back to its layer).
    func testNonFiniteParameterIsNamedByLayerInTheNetworkScope() throws {
        let hook = try DMDAccelerator(settings: DMDTrainingSettings(snapshotCount: 5, scope: .network), layout: layout)
        let trainer = LinearTrajectoryTrainer(layout: layout)
        _ = try drive(hook, trainer, epochs: 1...2, affine: false)
        var bad = expected(3, affine: false)[1]
        bad[5] = .nan
        trainer.set(layer: 1, bad)
        XCTAssertThrowsError(try hook.afterEpoch(trainer)) { error in
            XCTAssertTrue(error is DMDDivergenceError, "\(error)")
            XCTAssertTrue("\(error)".contains("layer 1's parameter 5 is nan"), "\(error)")
        }
    }

    /// The conversion's own finiteness check, split over two threads (a layer above the threshold):
    /// a NaN in the second half, a +∞ in the first, and a clean copy, in both precisions.
    func testParameterCopyReportsNonFiniteValuesFromEitherThread() {
        let n = ParameterCopy.parallelThreshold + 7
        let out = UnsafeMutableBufferPointer<Double>.allocate(capacity: n)
        defer { out.deallocate() }
        for bad in [nil, n - 1, 3] as [Int?] {
            var floats = (0..<n).map { Float($0 % 97) - 40 }
            var doubles = floats.map(Double.init)
            if let bad { floats[bad] = bad == 3 ? .infinity : .nan; doubles[bad] = bad == 3 ? .infinity : .nan }
            floats.withUnsafeMutableBufferPointer { p in
                XCTAssertEqual(ParameterCopy.widen(.float32(p), into: out, threads: 2), bad == nil, "float32, bad entry \(String(describing: bad))")
                if bad == nil { XCTAssertEqual(Array(out), doubles) }
            }
            doubles.withUnsafeMutableBufferPointer { p in
                XCTAssertEqual(ParameterCopy.widen(.float64(p), into: out, threads: 2), bad == nil, "float64, bad entry \(String(describing: bad))")
            }
        }
    }

    /// The guard works on a DMD of the updates too: a candidate is w_m + Σ d, and a rejected jump puts
    /// w_m back bit for bit.
    func testGuardedUpdatesRollBackBitForBit() throws {
        let m = 10
        var settings = DMDTrainingSettings(snapshotCount: m, steps: 50, guarded: true, snapshotKind: .updates)
        settings.guardFactors = [1]
        let hook = try DMDAccelerator(settings: settings, layout: layout)
        let trainer = LinearTrajectoryTrainer(layout: layout)
        trainer.loss = { _ in 1 }   // no candidate beats w_m's loss (equal is not better)
        _ = try drive(hook, trainer, epochs: 1...m, affine: true)
        XCTAssertEqual(hook.jumps.first?.accepted, false)
        let wm = expected(Double(m), affine: true)
        for l in 0..<2 { XCTAssertEqual(trainer.parameters[l], wm[l], "layer \(l) restored exactly") }
    }
}

/// Σ over layers of ‖a_ℓ − b_ℓ‖².
func squaredDistance(_ a: [[Double]], _ b: [[Double]]) -> Double {
    var sum = 0.0
    for (x, y) in zip(a, b) { for (u, v) in zip(x, y) { sum += (u - v) * (u - v) } }
    return sum
}
