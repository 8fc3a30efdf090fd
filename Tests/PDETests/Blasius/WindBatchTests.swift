import XCTest
@testable import PDE

/// The batch of `blasius-solve`: validation of params.npy's table and the `wind.no_solution` policies.
final class WindBatchTests: XCTestCase {
    let box: [ClosedRange<Double>] = [1...20, 0...10, 0.01...0.5, 0.01...2.0, -0.2...0.2, -0.2...0.2]
    let nu = 1e-5

    /// Three samples (K12, K3, D, U0, u_h, u_v): solvable; blow-off (λ < 0 with strong blowing);
    /// beyond the fold (λ = −0.5 without transpiration: λ_c(0) = −0.354).
    let rows: [Double] = [5, 1, 0.1, 1.0, 0.1, -0.001,
                          5, 1, 0.1, 1.0, -0.1, 0.01,
                          5, 1, 0.1, 0.2, -0.1, 0.0]

    func testMapsParametersByF3() throws {
        let p = try WindBatch.similarityParameters(table: rows, shape: [3, 6], box: box, nu: nu, source: "params.npy")
        XCTAssertEqual(p[0].lambda, 0.1, accuracy: 1e-15)
        XCTAssertEqual(p[0].fw, 2 * 0.001 / (nu * 1.0).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(p[1].fw, -2 * 0.01 / (nu * 1.0).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(p[2].lambda, -0.5, accuracy: 1e-15)
        XCTAssertEqual(SimilarityParameters.transpirationVelocity(fw: p[1].fw, U0: 1, nu: nu), 0.01, accuracy: 1e-16)
    }

    func testBadTablesGiveClearErrors() {
        func message(_ table: [Double], _ shape: [Int], nu: Double = 1e-5) -> String {
            do {
                _ = try WindBatch.similarityParameters(table: table, shape: shape, box: box, nu: nu, source: "data/samples/params.npy")
                return "no error"
            } catch { return "\(error)" }
        }
        // Wrong shape: names the file, the expected columns and the shape found.
        let wrongShape = message([Double](repeating: 1, count: 10), [2, 5])
        XCTAssertTrue(wrongShape.contains("data/samples/params.npy") && wrongShape.contains("[2, 5]") && wrongShape.contains("N × 6"), wrongShape)
        XCTAssertTrue(message([Double](repeating: 1, count: 6), [6]).contains("[6]"))
        // NaN: names the sample and the column.
        var withNaN = rows; withNaN[6 + 5] = .nan
        let nanMessage = message(withNaN, [3, 6])
        XCTAssertTrue(nanMessage.contains("sample 1") && nanMessage.contains("u_v") && nanMessage.contains("finite"), nanMessage)
        // Outside the box: names the sample, the value and the interval.
        var outside = rows; outside[12 + 4] = 0.35
        let boxMessage = message(outside, [3, 6])
        XCTAssertTrue(boxMessage.contains("sample 2") && boxMessage.contains("u_h = 0.35") && boxMessage.contains("[-0.2, 0.2]"), boxMessage)
        // A negative or zero viscosity.
        XCTAssertTrue(message(rows, [3, 6], nu: -1e-5).contains("ν"))
        XCTAssertTrue(message(rows, [3, 6], nu: 0).contains("positive"))
        // U0 ≤ 0 without a box (e.g. a hand-made table): still caught by (F3)'s mapping.
        var zeroWind = rows; zeroWind[3] = 0
        do {
            _ = try WindBatch.similarityParameters(table: zeroWind, shape: [3, 6], box: nil, nu: nu, source: "p.npy")
            XCTFail("U0 = 0 must be rejected")
        } catch { XCTAssertTrue("\(error)".contains("sample 0") && "\(error)".contains("U0"), "\(error)") }
        // The mapping itself.
        XCTAssertThrowsError(try SimilarityParameters(U0: 1, uh: .nan, uv: 0, nu: nu)) { XCTAssertTrue("\($0)".contains("u_h")) }
        XCTAssertThrowsError(try SimilarityParameters(U0: 1, uh: 0, uv: 0, nu: -1)) { XCTAssertTrue("\($0)".contains("ν")) }
        XCTAssertEqual(message([], [0, 6]), "no error")   // an empty table is valid (nothing to do)
    }

    func testSkipPolicy() throws {
        let p = try WindBatch.similarityParameters(table: rows, shape: [3, 6], box: box, nu: nu, source: "params.npy")
        let out = try WindBatch.solveAll(p, solver: BlasiusSolver(), policy: .skip)
        XCTAssertEqual(out.map(\.status), [.solved, .blowOff, .beyondFold])
        XCTAssertNotNil(out[0].solution)
        XCTAssertNil(out[1].solution); XCTAssertNil(out[2].solution)
        XCTAssertEqual(out[1].criticalLambda, 0)
        XCTAssertEqual(out[2].criticalLambda!, -0.354107878639, accuracy: 1e-9)
        XCTAssertTrue(out[2].reason!.contains("turning point"), out[2].reason!)
        XCTAssertTrue(out.allSatisfy { $0.shots > 0 || $0.status == .blowOff })
        XCTAssertEqual(out[1].effective, out[1].requested)
        XCTAssertTrue(try WindBatch.solveAll([], solver: BlasiusSolver(), policy: .skip).isEmpty)
    }

    /// `clamp` keeps λ and raises f_w to f_w,c(λ) + δ: the clamped samples solve, and f_w,c is the
    /// smallest admissible value (δ below it there is no solution).
    func testClampPolicy() throws {
        let p = try WindBatch.similarityParameters(table: rows, shape: [3, 6], box: box, nu: nu, source: "params.npy")
        let solver = BlasiusSolver()
        let margin = 1e-3
        let out = try WindBatch.solveAll(p, solver: solver, policy: .clamp(margin: margin))
        XCTAssertEqual(out.map(\.status), [.solved, .clamped, .clamped])
        for o in out[1...] {
            XCTAssertEqual(o.effective.lambda, o.requested.lambda)
            XCTAssertGreaterThan(o.effective.fw, o.requested.fw)
            XCTAssertEqual(o.solution?.fw, o.effective.fw)
            XCTAssertEqual(o.solution?.branch, .upper)
            guard case .value(let fwc) = solver.minimalSuction(lambda: o.requested.lambda) else { return XCTFail() }
            XCTAssertEqual(o.effective.fw, fwc + margin, accuracy: 1e-12)
            guard case .noSolution = solver.solve(lambda: o.requested.lambda, fw: fwc - margin) else {
                return XCTFail("below f_w,c there must be no solution")
            }
        }
        // λ = −0.1 near blow-off: f_w,c lies between f_w* and 0; λ = −0.5 needs suction, f_w,c > 0.
        XCTAssertGreaterThan(out[1].effective.fw, BlasiusSolver.blowOffSuction)
        XCTAssertLessThan(out[1].effective.fw, 0)
        XCTAssertGreaterThan(out[2].effective.fw, 0)
    }

    func testErrorPolicyNamesTheSample() throws {
        let p = try WindBatch.similarityParameters(table: rows, shape: [3, 6], box: box, nu: nu, source: "params.npy")
        XCTAssertThrowsError(try WindBatch.solveAll(p, solver: BlasiusSolver(), policy: .error)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("sample 1") && text.contains("no_solution_blow_off"), text)
        }
        XCTAssertNoThrow(try WindBatch.solveAll([p[0]], solver: BlasiusSolver(), policy: .error))
    }

    /// Status codes are a file format: they must never change meaning.
    func testStatusCodesAreStable() {
        XCTAssertEqual(WindStatus.allCases.map(\.rawValue), [0, 1, 2, 3, 4])
        XCTAssertEqual(WindStatus.allCases.filter(\.hasProfile), [.solved, .clamped])
    }
}
