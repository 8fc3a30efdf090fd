import XCTest
@testable import Surrogates

/// The chain rule through the output transform against central differences of `apply`.
final class OutputTransformDerivativeTests: XCTestCase {
    func testDerivativeMatchesCentralDifferencesOfApply() {
        // y(θ) = a + b θ + c θ² at θ = 0.3: dy/dθ = b + 2cθ.
        let a = 2e-3, b = -4e-3, c = 1e-2, theta = 0.3, h = 1e-6
        func y(_ t: Double) -> Double { a + b * t + c * t * t }
        let dy = b + 2 * c * theta
        for transform in [OutputTransform.identity, .logarithm(offset: 1e-4), .logarithm(offset: 0.5)] {
            let fd = (transform.apply(y(theta + h)) - transform.apply(y(theta - h))) / (2 * h)
            XCTAssertEqual(transform.derivative(at: y(theta), dy), fd, accuracy: 1e-7 * abs(fd), "\(transform.name)")
        }
        // d log c3/dθ = (dc3/dθ)/c3 as δ → 0.
        XCTAssertEqual(OutputTransform.logarithm(offset: 1e-300).derivative(at: 0.25, 0.5), 2, accuracy: 1e-15)
        // Below the floor apply is constant: derivative 0.
        XCTAssertEqual(OutputTransform.logarithm(offset: 1e-3).derivative(at: -2e-3, 1), 0)
    }

    func testRowsOfOneSample() {
        let t = OutputTransform.logarithm(offset: 0.1)
        let values = [0.9, 0.4], derivatives = [1.0, 2, 3, 4, 5, 6]   // 2 outputs × 3 parameters
        XCTAssertEqual(t.derivatives(at: values, derivatives, parameterCount: 3), [1, 2, 3, 8, 10, 12])
    }
}
