import XCTest
@testable import Surrogates

final class AdamTests: XCTestCase {
    /// Two Adam steps on two parameters, worked by hand (40-digit decimal arithmetic) with lr = 0.01,
    /// β1 = 0.9, β2 = 0.999, ε = 1e-7, w₀ = (0.5, −1), g₁ = (0.2, −3), g₂ = (−0.1, 0.5):
    ///
    ///   step 1: α₁ = 0.01·sqrt(1−0.999)/(1−0.9) = 0.003162277660168379332
    ///           m = (0.02, −0.3), v = (4e-5, 9e-3)
    ///           w₁ = w₀ − α₁ m/(sqrt v + ε) = (0.4900001581113830479, −0.9900000105409144228)
    ///   step 2: α₂ = 0.01·sqrt(1−0.999²)/(1−0.9²) = 0.002353167253274542853
    ///           m = 0.9 m + 0.1 g₂ = (0.008, −0.22), v = 0.999 v + 0.001 g₂² = (4.996e-5, 9.241e-3)
    ///           w₂ = (0.4873368253950666381, −0.9846146406237948039)
    ///
    /// Tolerance 1e-12: float64 round-off on these O(1) numbers is ~1e-16, so 1e-12 leaves room
    /// only for rounding, not for a wrong formula (a missing bias correction changes w₁ by 1e-2,
    /// ε inside instead of outside the correction changes it by ~1e-8).
    func testTwoStepsMatchHandComputation() throws {
        let layout = try NetworkLayout(widths: [1, 1], activation: .linear)   // w and b: two parameters
        let adam = AdamOptimizer<Double>(layout: layout, settings: AdamSettings(learningRate: 0.01))
        var w = [0.5, -1.0]
        adam.step(parameters: &w, gradient: [0.2, -3.0])
        XCTAssertEqual(w[0], 0.4900001581113830479, accuracy: 1e-12)
        XCTAssertEqual(w[1], -0.9900000105409144228, accuracy: 1e-12)
        XCTAssertEqual(adam.firstMoments[0], 0.02, accuracy: 1e-15)
        XCTAssertEqual(adam.secondMoments[1], 9e-3, accuracy: 1e-15)
        XCTAssertEqual(adam.stepSize(ofLayer: 0), 0.002353167253274542853, accuracy: 1e-15)
        adam.step(parameters: &w, gradient: [-0.1, 0.5])
        XCTAssertEqual(w[0], 0.4873368253950666381, accuracy: 1e-12)
        XCTAssertEqual(w[1], -0.9846146406237948039, accuracy: 1e-12)
        XCTAssertEqual(adam.stepCounts, [2])
    }

    /// Resetting a layer restarts its bias correction: the first step after a reset has size lr·sign(g)
    /// (up to ε), exactly like the very first step; the other layer's moments are untouched.
    func testResetRestartsOneLayer() throws {
        let layout = try NetworkLayout(widths: [1, 1, 1], activation: .linear)   // two layers, 2 parameters each
        let adam = AdamOptimizer<Double>(layout: layout, settings: AdamSettings(learningRate: 0.01))
        var w = [0.0, 0.0, 0.0, 0.0]
        for _ in 0..<5 { adam.step(parameters: &w, gradient: [1, 2, 3, 4]) }
        let momentsOfLayer1 = Array(adam.firstMoments[2...3])
        adam.resetMoments(ofLayer: 0)
        XCTAssertEqual(adam.stepCounts, [0, 5])
        XCTAssertEqual(Array(adam.firstMoments[0...1]), [0, 0])
        XCTAssertEqual(Array(adam.firstMoments[2...3]), momentsOfLayer1)
        let before = w
        adam.step(parameters: &w, gradient: [0.5, -2, 3, 4])
        // First step: α₁·(0.1 g)/(sqrt(0.001 g²) + ε) = lr·|g|/(|g| + ε/sqrt(0.001)) · sign(g).
        XCTAssertEqual(w[0] - before[0], -0.01 * 0.5 / (0.5 + 1e-7 / 0.001.squareRoot()), accuracy: 1e-15)
        XCTAssertEqual(w[1] - before[1], 0.01 * 2 / (2 + 1e-7 / 0.001.squareRoot()), accuracy: 1e-15)
    }
}
