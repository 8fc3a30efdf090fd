import XCTest
import Foundation
import Uncertainty

/// The paired bootstrap of a median ratio against closed forms.
final class BootstrapTests: XCTestCase {
    /// Every pair has the same ratio: every resample's median is that ratio, so the interval is the point.
    func testConstantRatiosGiveADegenerateInterval() throws {
        let costs = [3.0, 7.5, 1.25, 40, 9, 2, 11, 5.5, 6, 0.5]
        let interval = try XCTUnwrap(Bootstrap.pairedMedianRatio(numerators: costs.map { 2.5 * $0 }, denominators: costs,
                                                                 resamples: 500, confidence: 0.95, seed: 3))
        XCTAssertEqual(interval.estimate, 2.5, accuracy: 1e-15)
        XCTAssertEqual(interval.lower, 2.5, accuracy: 1e-15)
        XCTAssertEqual(interval.upper, 2.5, accuracy: 1e-15)
        XCTAssertEqual(interval.count, 10)
    }

    /// n = 11 distinct ratios x_(1) < … < x_(11). The median of a resample is x_(j) or below exactly when
    /// at least 6 of the 11 draws are ≤ x_(j): P = P(Binomial(11, j/11) ≥ 6), which is 0.0072 for j = 2,
    /// 0.0512 for j = 3, 0.9488 for j = 8 and 0.9928 for j = 9. The 2.5 % and 97.5 % quantiles of the
    /// bootstrap distribution are therefore x_(3) and x_(9); with 4000 resamples the Monte Carlo
    /// error of a tail fraction (≈ 0.0025) is far from the gaps (≥ 0.017) that would move them.
    func testMedianIntervalMatchesTheBinomialClosedForm() throws {
        func choose(_ n: Int, _ k: Int) -> Double {
            var c = 1.0
            for i in 0..<k { c = c * Double(n - i) / Double(i + 1) }
            return c
        }
        func atLeastSixOfEleven(_ j: Int) -> Double {
            let p = Double(j) / 11
            var sum = 0.0
            for k in 6...11 { sum += choose(11, k) * pow(p, Double(k)) * pow(1 - p, Double(11 - k)) }
            return sum
        }
        XCTAssertEqual(atLeastSixOfEleven(2), 0.0072, accuracy: 5e-5)
        XCTAssertEqual(atLeastSixOfEleven(3), 0.0512, accuracy: 5e-5)
        XCTAssertEqual(atLeastSixOfEleven(8), 0.9488, accuracy: 5e-5)
        XCTAssertEqual(atLeastSixOfEleven(9), 0.9928, accuracy: 5e-5)
        // Ratios 1…11 in a scrambled order, as numerator / denominator pairs.
        let order = [7, 2, 11, 5, 1, 9, 4, 10, 3, 8, 6].map(Double.init)
        let denominators = order.map { 0.3 * $0 + 1 }
        let numerators = zip(order, denominators).map { $0 * $1 }
        let interval = try XCTUnwrap(Bootstrap.pairedMedianRatio(numerators: numerators, denominators: denominators,
                                                                 resamples: 4000, confidence: 0.95, seed: 11))
        XCTAssertEqual(interval.estimate, 6, accuracy: 1e-12)
        XCTAssertEqual(interval.lower, 3, accuracy: 1e-12)
        XCTAssertEqual(interval.upper, 9, accuracy: 1e-12)
        // Seeded: the same call gives the same interval.
        XCTAssertEqual(Bootstrap.pairedMedianRatio(numerators: numerators, denominators: denominators, resamples: 4000, confidence: 0.95, seed: 11),
                       interval)
    }

    /// A target never reached is an infinite cost: the method's miss is a ratio 0, the baseline's an
    /// infinite ratio, and a pair where both missed has no ratio.
    func testUnreachedTargetsEnterAsZeroOrInfiniteRatios() throws {
        let interval = try XCTUnwrap(Bootstrap.pairedMedianRatio(numerators: [10, 10, .infinity, .infinity, 10],
                                                                 denominators: [5, .infinity, 5, .infinity, 2],
                                                                 resamples: 200, confidence: 0.9, seed: 1))
        XCTAssertEqual(interval.count, 4)
        // Ratios 2, 0, ∞, 5: the median averages 2 and 5.
        XCTAssertEqual(interval.estimate, 3.5, accuracy: 1e-15)
        // A resample's median is ∞ when 2 or more of its 4 draws are the ∞ pair: P = 1 − (3/4)^4 − (3/4)^3 = 0.26,
        // far above the 5 % tail, so the upper end is ∞; the lower end is a finite ratio.
        XCTAssertEqual(interval.upper, .infinity)
        XCTAssertTrue(interval.lower >= 0 && interval.lower < interval.estimate, "\(interval)")
        XCTAssertNil(Bootstrap.pairedMedianRatio(numerators: [.infinity], denominators: [.infinity], resamples: 10, confidence: 0.95, seed: 1))
    }
}
