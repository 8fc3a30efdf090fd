import XCTest
import _TestSupport
import Foundation
import NumericalFoundations
@testable import Surrogates
import Numerics
#if canImport(Glibc)
import Glibc
#endif

/// Rank truncation, degenerate and invalid input, and the O(n m²) / no-n×n shape guarantee.
final class DMDRankAndEdgeCaseTests: XCTestCase {
    /// [X, w_m] with X = U diag(σ) Vᵀ exactly (U: n × p orthonormal, V: p × p orthogonal).
    func snapshotsWithSingularValues(_ sigma: [Double], n: Int, seed: UInt64) throws -> ColumnMajorMatrix {
        var generator = SeededGenerator(seed: seed, stream: 11)
        let p = sigma.count
        var gaussian = ColumnMajorMatrix(rows: n, columns: p + 1)
        for j in 0...p { for i in 0..<n { gaussian[i, j] = generator.nextGaussian() } }
        let u = try HouseholderQR(gaussian.submatrix(rows: 0..<n, columns: 0..<p)).thinQ()
        var small = ColumnMajorMatrix(rows: p, columns: p)
        for j in 0..<p { for i in 0..<p { small[i, j] = generator.nextGaussian() } }
        let v = try HouseholderQR(small).thinQ()
        let x = try u.multiplied(by: ColumnMajorMatrix.diagonal(sigma)).multiplied(by: v, transposingOther: true)
        return try ColumnMajorMatrix(columns: (0..<p).map { x.column($0) } + [gaussian.column(p)])
    }

    func testTruncationRuleIsStrictlyGreaterThanTolerance() {
        // Powers of two: the ratios 1, 0.5, 0.25, 0.125 are exact, so "> tol" is tested exactly.
        let sigma: [Double] = [4, 2, 1, 0.5]
        XCTAssertEqual(DMD.truncationRank(singularValues: sigma, tolerance: 0.25), 2)
        XCTAssertEqual(DMD.truncationRank(singularValues: sigma, tolerance: 0.2499999), 3)
        XCTAssertEqual(DMD.truncationRank(singularValues: sigma, tolerance: 0), 4)
        XCTAssertEqual(DMD.truncationRank(singularValues: sigma, tolerance: 0, maximumRank: 2), 2)
        XCTAssertEqual(DMD.truncationRank(singularValues: [0, 0], tolerance: 0), 0)
        XCTAssertEqual(DMD.truncationRank(singularValues: [], tolerance: 0.1), 0)
    }

    /// Prescribed σ = 1, 1e-1, …, 1e-6. The QR path reproduces each σ_i to ε σ_0 (absolute; 1e-14
    /// allows for the size), so a tolerance 1e-6 relative below or above σ_i keeps or drops exactly
    /// that value. The method of snapshots has an absolute error ≈ ε σ_0² / σ_i, i.e. relative
    /// 1e-8 at σ_i = 1e-4, so it is checked with the same margin only down to 1e-4.
    func testRankTruncationFollowsToleranceOnBothPaths() throws {
        let sigma = (0..<7).map { pow(10.0, -Double($0)) }
        let snapshots = try snapshotsWithSingularValues(sigma, n: 400, seed: 5)
        let qr = try DMD.decompose(snapshots, options: DMDOptions(tolerance: 1e-10))
        XCTAssertEqual(qr.singularValues.count, 7)
        for (computed, exact) in zip(qr.singularValues, sigma) { XCTAssertEqual(computed, exact, accuracy: 1e-14) }
        for method in DMDOptions.SVDMethod.allCases {
            let checked = method == .householderQR ? 0..<7 : 0..<5
            for i in checked {
                for (factor, expectedRank) in [(1 - 1e-6, i + 1), (1 + 1e-6, i)] {
                    let options = DMDOptions(svdMethod: method, tolerance: sigma[i] * factor)
                    guard options.tolerance < 1 else { continue }
                    let model = try DMD.decompose(snapshots, options: options)
                    XCTAssertEqual(model.rank, expectedRank, "\(method) tol = \(options.tolerance)")
                    XCTAssertEqual(model.eigenvalues.count, expectedRank)
                    XCTAssertEqual(model.reducedOperator.rows, expectedRank)
                }
            }
        }
        let capped = try DMD.decompose(snapshots, options: DMDOptions(tolerance: 1e-10, maximumRank: 3))
        XCTAssertEqual(capped.rank, 3)
    }

    /// A zero snapshot matrix has no dynamics: rank 0, the identity model, w_{m+s} = w_m = 0, no NaN
    /// (both paths, Double and Float outputs).
    func testZeroSnapshotsGiveTheIdentityModel() throws {
        for method in DMDOptions.SVDMethod.allCases {
            let model = try DMD.decompose(ColumnMajorMatrix(rows: 50, columns: 6), options: DMDOptions(svdMethod: method))
            XCTAssertEqual(model.rank, 0)
            XCTAssertTrue(model.isIdentity)
            XCTAssertEqual(model.eigenvalues, [])
            XCTAssertEqual(model.amplitudes, [])
            XCTAssertEqual(model.largestEigenvalueModulus, 0)
            XCTAssertEqual(model.singularValues, [Double](repeating: 0, count: 5))
            XCTAssertEqual(try model.extrapolated(steps: 55), [Double](repeating: 0, count: 50))
            var floats = [Float](repeating: 7, count: 50)
            try floats.withUnsafeMutableBufferPointer { try model.extrapolate(steps: 55, into: $0) }
            XCTAssertEqual(floats, [Float](repeating: 0, count: 50))
        }
    }

    /// X = 0 but a non-zero last snapshot: still rank 0, and the identity keeps w_m (QR path: Q R's
    /// last column, so to rounding; method of snapshots: w_m itself).
    func testRankZeroKeepsTheLastSnapshot() throws {
        var snapshots = ColumnMajorMatrix(rows: 30, columns: 4)
        let last = (0..<30).map { sin(Double($0)) + 2 }
        for i in 0..<30 { snapshots[i, 3] = last[i] }
        for method in DMDOptions.SVDMethod.allCases {
            let model = try DMD.decompose(snapshots, options: DMDOptions(svdMethod: method, relaxation: 0.3))
            XCTAssertEqual(model.rank, 0)
            XCTAssertLessThan(relativeError(try model.extrapolated(steps: 10), last), 1e-15)
        }
    }

    /// Constant snapshots w_k = w: X = w 1ᵀ has rank 1, Ã = [1], λ = 1, so every extrapolation is w.
    /// λ is 1 to a few ε; raised to s = 55 that is ≈ 55 ε ≈ 1.2e-14 relative, hence 1e-13.
    /// The method of snapshots sees X's zero singular values as noise of up to √ε σ_0 ≈ 1e-8 σ_0,
    /// possibly above tol = 1e-10, so it may keep spurious modes (with negligible amplitudes; whether
    /// it does depends on the BLAS kernel's rounding): its λ = 1 mode and its extrapolation are still
    /// right, but only the QR path is sure to report rank 1.
    func testConstantSnapshotsAreAFixedPoint() throws {
        let w = (0..<200).map { cos(0.3 * Double($0)) - 0.1 }
        let snapshots = try ColumnMajorMatrix(columns: [[Double]](repeating: w, count: 14))
        for method in DMDOptions.SVDMethod.allCases {
            for kind in DMDOptions.ModeKind.allCases {
                let model = try DMD.decompose(snapshots, options: DMDOptions(svdMethod: method, modes: kind))
                if method == .householderQR {
                    XCTAssertEqual(model.rank, 1, "\(kind)")
                    // Householder rounding: ≈ √m ε (measured 1e-16); bound 1e-13, far below tol.
                    XCTAssertLessThan(model.singularValues[1] / model.singularValues[0], 1e-13)
                } else {
                    XCTAssertGreaterThanOrEqual(model.rank, 1)
                }
                // The mode of the data (λ = 1), wherever the eigensolver lists it among spurious ones.
                let lead = try XCTUnwrap(model.eigenvalues.min { ($0 - Complex(1)).length < ($1 - Complex(1)).length })
                XCTAssertEqual(lead.real, 1, accuracy: 1e-14)
                XCTAssertEqual(lead.imaginary, 0, accuracy: 1e-14)
                // QR: λ = 1 to a few ε, ≈ 55 ε after s = 55 steps, hence 1e-13. Gram: its spurious modes
                // (amplitudes ≈ √ε) and its λ (accurate to ε κ²) depend on the kernel's rounding:
                // measured 5e-15 to 2.7e-13 over OpenBLAS kernels and thread counts; bound 1e-11.
                XCTAssertLessThan(relativeError(try model.extrapolated(steps: 55), w), method == .householderQR ? 1e-13 : 1e-11, "\(method) \(kind)")
            }
        }
    }

    func testNonFiniteInputIsRejected() throws {
        var snapshots = ColumnMajorMatrix(rows: 10, columns: 5)
        for j in 0..<5 { for i in 0..<10 { snapshots[i, j] = Double(i + j) } }
        for (bad, text) in [(Double.nan, "nan"), (.infinity, "inf"), (-.infinity, "-inf")] {
            var corrupted = snapshots
            corrupted[7, 3] = bad
            for method in DMDOptions.SVDMethod.allCases {
                XCTAssertThrowsError(try DMD.decompose(corrupted, options: DMDOptions(svdMethod: method))) { error in
                    XCTAssertEqual(error as? DMDError, .nonFiniteSnapshot(snapshot: 3, entry: 7, value: text))
                }
            }
        }
    }

    func testInvalidShapesAndOptionsAreRejected() throws {
        XCTAssertThrowsError(try DMD.decompose(ColumnMajorMatrix(rows: 10, columns: 1))) { error in
            XCTAssertEqual(error as? DMDError, .tooFewSnapshots(count: 1))
        }
        XCTAssertThrowsError(try DMD.decompose(ColumnMajorMatrix(rows: 0, columns: 3)))
        let snapshots = try ColumnMajorMatrix(columns: [[1, 2], [2, 3], [3, 5]])
        for options in [DMDOptions(tolerance: -1e-3), DMDOptions(tolerance: 1.5), DMDOptions(tolerance: .nan),
                        DMDOptions(maximumRank: 0), DMDOptions(relaxation: .infinity)] {
            XCTAssertThrowsError(try DMD.decompose(snapshots, options: options)) { error in
                guard case .invalidOption = error as? DMDError else { return XCTFail("\(error)") }
            }
        }
        // Tolerance 1 keeps no mode: the identity, a valid way to switch jumps off.
        let keepNothing = try DMD.decompose(snapshots, options: DMDOptions(tolerance: 1))
        XCTAssertEqual(keepNothing.rank, 0)
        XCTAssertLessThan(relativeError(try keepNothing.extrapolated(steps: 3), [3, 5]), 1e-15, "w_m, the last column (Q R e_m: rounding only)")
        let model = try DMD.decompose(snapshots)
        for steps in [-1.0, .nan, .infinity] {
            XCTAssertThrowsError(try model.extrapolated(steps: steps)) { error in
                guard case .invalidSteps = error as? DMDError else { return XCTFail("\(error)") }
            }
        }
        var short = [Double](repeating: 0, count: 1)
        XCTAssertThrowsError(try short.withUnsafeMutableBufferPointer { try model.extrapolate(steps: 1, into: $0) })
    }

    /// Snapshots from a growing mode (λ = 1.5) extrapolated far: |λ|^s overflows, which is reported
    /// as an error (the output is left untouched), never written as ∞ or NaN.
    func testOverflowingExtrapolationIsAnError() throws {
        let snapshots = try ColumnMajorMatrix(columns: (0..<4).map { k in [pow(1.5, Double(k)), 2 * pow(1.5, Double(k))] })
        let model = try DMD.decompose(snapshots)
        XCTAssertEqual(model.eigenvalues[0].real, 1.5, accuracy: 1e-14)
        var output = [Double](repeating: 42, count: 2)
        XCTAssertThrowsError(try output.withUnsafeMutableBufferPointer { try model.extrapolate(steps: 5000, into: $0) }) { error in
            guard case .extrapolationOverflow = error as? DMDError else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(output, [42, 42])
    }

    /// O(n m²) and no n × n matrix: with n = 10⁶ an n × n float64 matrix would need 8 TB, more than
    /// this machine can allocate, so a successful run already rules one out. Beyond that, the peak
    /// resident memory during the test may exceed the memory in use at its start by at most a few
    /// copies of the n × m snapshots (here: the input matrix, the buffer each decomposition copies it
    /// into, the n-vector outputs; measured ≈ 2 copies), and every small object of the model has a
    /// size bounded by m.
    func testNoMatrixOfSizeNByNIsAllocated() throws {
        let n = 1_000_000, m = 6
        let residentAtStart = currentResidentBytes()
        var snapshots = ColumnMajorMatrix(rows: n, columns: m)
        snapshots.withUnsafeMutableBufferPointer { values in
            for j in 0..<m { for i in 0..<n { values[i + j * n] = sin(0.001 * Double(i) + 0.3 * Double(j)) * pow(0.97, Double(j)) } }
        }
        for method in DMDOptions.SVDMethod.allCases {
            let model = try DMD.decompose(snapshots, options: DMDOptions(svdMethod: method))
            XCTAssertLessThanOrEqual(model.singularValues.count, m - 1)
            XCTAssertLessThanOrEqual(model.reducedOperator.rows, m - 1)
            XCTAssertEqual(model.reducedOperator.rows, model.reducedOperator.columns)
            XCTAssertLessThanOrEqual(model.eigenvectors.rows, m - 1)
            XCTAssertLessThanOrEqual(model.projectedCoordinates.rows, m)
            XCTAssertLessThanOrEqual(model.exactCoordinates.rows, m)
            let w = try model.extrapolated(steps: 10)
            XCTAssertEqual(w.count, n)
            XCTAssertTrue(w.allSatisfy(\.isFinite))
        }
        let growth = peakResidentBytes() - residentAtStart
        let snapshotBytes = n * m * 8
        XCTAssertLessThan(growth, 5 * snapshotBytes, "peak memory exceeded the starting level by \(growth) bytes; the snapshots are \(snapshotBytes)")
    }

    /// Highest resident set size of the process so far (getrusage).
    func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024  // kilobytes on Linux
    }

    /// Resident set size now (/proc/self/statm, second field, in pages).
    func currentResidentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
    }
}
