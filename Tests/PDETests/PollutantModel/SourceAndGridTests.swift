import XCTest
import Foundation
@testable import PDE

final class SourceAndGridTests: XCTestCase {
    /// Adaptive Simpson on [a, b], for independent 1-D reference integrals.
    func simpson(_ f: (Double) -> Double, _ a: Double, _ b: Double, tol: Double = 1e-13, depth: Int = 40) -> Double {
        func s(_ a: Double, _ b: Double, _ fa: Double, _ fm: Double, _ fb: Double) -> Double { (b - a) / 6 * (fa + 4 * fm + fb) }
        func rec(_ a: Double, _ b: Double, _ fa: Double, _ fm: Double, _ fb: Double, _ whole: Double, _ tol: Double, _ d: Int) -> Double {
            let m = 0.5 * (a + b), lm = 0.5 * (a + m), rm = 0.5 * (m + b)
            let flm = f(lm), frm = f(rm)
            let left = s(a, m, fa, flm, fm), right = s(m, b, fm, frm, fb)
            if d <= 0 || abs(left + right - whole) <= 15 * tol { return left + right + (left + right - whole) / 15 }
            return rec(a, m, fa, flm, fm, left, tol / 2, d - 1) + rec(m, b, fm, frm, fb, right, tol / 2, d - 1)
        }
        let fa = f(a), fb = f(b), fm = f(0.5 * (a + b))
        return rec(a, b, fa, fm, fb, s(a, b, fa, fm, fb), tol, depth)
    }

    func testTriangleInsideDiskGivesExactP1Integrals() {
        let disk = Disk(centerX: 0.1, centerY: 0.1, radius: 0.5)
        let (a, b, c) = disk.basisIntegrals((0, 0), (0.2, 0), (0, 0.2))
        // ∫_T φ_i = |T|/3 exactly.
        for v in [a, b, c] { XCTAssertEqual(v, 0.02 / 3, accuracy: 1e-16) }
    }

    func testDiskInsideTriangleGivesFullAreaAndCentroid() {
        let disk = Disk(centerX: 0.1, centerY: 0.1, radius: 0.5)
        let m = disk.moments((-10, -10), (10, -10), (0, 10))
        XCTAssertEqual(m.area, Double.pi * 0.25, accuracy: 1e-14)
        XCTAssertEqual(m.firstX / m.area, 0.1, accuracy: 1e-14)
        XCTAssertEqual(m.firstY / m.area, 0.1, accuracy: 1e-14)
    }

    /// Summing over a triangulated unit square reproduces the area and first moment of the disk
    /// clipped to the square, computed independently by 1-D adaptive quadrature of chord lengths;
    /// and the three basis integrals of every triangle add up to its intersection area.
    func testMeshSumMatchesIndependentQuadrature() {
        let disk = Disk(centerX: 0.1, centerY: 0.1, radius: 0.5)
        var area = 0.0, mx = 0.0, partition = 0.0
        let n = 23
        for i in 0..<n { for j in 0..<n {
            let x0 = Double(i) / Double(n), x1 = Double(i + 1) / Double(n), y0 = Double(j) / Double(n), y1 = Double(j + 1) / Double(n)
            for t in [((x0, y0), (x1, y0), (x1, y1)), ((x0, y0), (x1, y1), (x0, y1))] {
                let m = disk.moments(t.0, t.1, t.2)
                area += m.area; mx += m.firstX
                let b = disk.basisIntegrals(t.0, t.1, t.2)
                partition = max(partition, abs(b.0 + b.1 + b.2 - m.area))
            }
        } }
        func chord(_ x: Double) -> Double {
            let h2 = 0.25 - (x - 0.1) * (x - 0.1)
            guard h2 > 0 else { return 0 }
            let h = h2.squareRoot()
            return max(0, min(1, 0.1 + h) - max(0, 0.1 - h))
        }
        // Split at the kinks of the chord length so Simpson sees smooth pieces.
        let kink = 0.1 + 0.24.squareRoot()
        let refArea = simpson(chord, 0, kink) + simpson(chord, kink, 0.6)
        let refMx = simpson({ $0 * chord($0) }, 0, kink) + simpson({ $0 * chord($0) }, kink, 0.6)
        XCTAssertEqual(area, refArea, accuracy: 1e-11)
        XCTAssertEqual(mx, refMx, accuracy: 1e-11)
        XCTAssertLessThan(partition, 1e-15)
    }

    func testOrientationDoesNotMatter() {
        let disk = Disk(centerX: 0.1, centerY: 0.3, radius: 0.5)
        let a = disk.basisIntegrals((0.3, 0.3), (0.9, 0.2), (0.5, 0.8))
        let b = disk.basisIntegrals((0.3, 0.3), (0.5, 0.8), (0.9, 0.2))
        XCTAssertEqual(a.0, b.0, accuracy: 1e-15); XCTAssertEqual(a.1, b.2, accuracy: 1e-15); XCTAssertEqual(a.2, b.1, accuracy: 1e-15)
    }

    func testObservationGridShapeOrderAndGrading() {
        let g = ObservationGrid(nx: 89, ny: 30, lx: 1, ly: 1, gradingX: 1.5, gradingY: 1.5)
        XCTAssertEqual(g.count, 2670); XCTAssertEqual(g.points.count, 5340)
        // k = j·nx + i: x varies fastest.
        XCTAssertEqual(g.point(0).y, g.point(88).y); XCTAssertLessThan(g.point(0).x, g.point(1).x)
        XCTAssertEqual(g.point(0).x, pow(0.5 / 89, 1.5), accuracy: 1e-15)
        // Graded: spacing grows away from the source corner; every point strictly inside.
        XCTAssertLessThan(g.point(1).x - g.point(0).x, g.point(88).x - g.point(87).x)
        for k in 0..<g.count { let p = g.point(k); XCTAssert(p.x > 0 && p.x < 1 && p.y > 0 && p.y < 1) }
        // Terrain-following: heights measured from the ground.
        let hill = ObservationGrid(nx: 4, ny: 3, lx: 1, ly: 1, gradingX: 1, gradingY: 1, ground: { _ in 0.2 })
        XCTAssertEqual(hill.point(0).y, 0.2 + 0.8 / 6, accuracy: 1e-15)
    }
}
