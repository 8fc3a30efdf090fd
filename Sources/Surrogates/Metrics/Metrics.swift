import NumericalFoundations

/// Accuracy metrics of the surrogate against the FEM truth.
///
/// Arrays are `samples × outputs` in row-major order (an `NDArray<Double>` of shape `[N, P]`, as
/// `predictions_test.npy` and the FEM c3 values are stored). Every function checks shapes and
/// finiteness and throws a `MetricsError` naming the offending sample and output rather than
/// returning NaN.
public enum Metrics {

    /// Mean squared error over all entries, in the units of the arrays (physical units when the
    /// arrays hold physical c3): (1/(N P)) Σ_{i,j} (pred_ij − truth_ij)².
    public static func meanSquaredError(predicted: NDArray<Double>, truth: NDArray<Double>) throws -> Double {
        let (samples, outputs) = try checkedShape(predicted: predicted, truth: truth)
        var sum = 0.0
        for k in 0..<(samples * outputs) {
            let d = predicted.values[k] - truth.values[k]
            sum += d * d
        }
        return sum / Double(samples * outputs)
    }

    /// Mean squared error in the network's scaled units (formulation §4: outputs standardised per
    /// output from the training set, z = (c − μ_j)/σ_j). The means cancel in the difference, so
    /// MSE_scaled = (1/(N P)) Σ_{i,j} ((pred_ij − truth_ij) / σ_j)². This is the loss the paper plots.
    /// - Parameter outputScale: σ_j for each output j (P values, each finite and > 0).
    public static func scaledMeanSquaredError(predicted: NDArray<Double>, truth: NDArray<Double>,
                                              outputScale: [Double]) throws -> Double {
        let (samples, outputs) = try checkedShape(predicted: predicted, truth: truth)
        guard outputScale.count == outputs else {
            throw MetricsError("scaled MSE: \(outputScale.count) output scales given for \(outputs) outputs")
        }
        for (j, sigma) in outputScale.enumerated() where !(sigma.isFinite && sigma > 0) {
            throw MetricsError("scaled MSE: the scale of output \(j) is \(sigma); expected a finite value > 0")
        }
        let inverseScale = outputScale.map { 1 / $0 }
        var sum = 0.0
        for i in 0..<samples {
            let base = i * outputs
            for j in 0..<outputs {
                let d = (predicted.values[base + j] - truth.values[base + j]) * inverseScale[j]
                sum += d * d
            }
        }
        return sum / Double(samples * outputs)
    }

    /// Relative L2 error of each sample (row): ‖pred_i − truth_i‖₂ / ‖truth_i‖₂, the plain ℓ2 over the
    /// outputs (the paper's error). Maps of statistics over the domain are compared in the quadrature
    /// norm instead (`Quadrature.relativeWeightedL2`, UncertaintyQuantification).
    ///
    /// Zero truth: when ‖truth_i‖₂ = 0 the ratio is undefined and the entry is `nil`; such samples are
    /// left out of the median and percentiles and counted separately (see `RelativeErrorSummary`).
    /// The norms are computed with scaling by the largest magnitude so that tiny or huge
    /// concentrations neither underflow nor overflow.
    public static func relativeL2Errors(predicted: NDArray<Double>, truth: NDArray<Double>) throws -> [Double?] {
        let (samples, outputs) = try checkedShape(predicted: predicted, truth: truth)
        var result: [Double?] = []
        result.reserveCapacity(samples)
        for i in 0..<samples {
            let range = (i * outputs)..<((i + 1) * outputs)
            var truthMax = 0.0, diffMax = 0.0
            for k in range {
                truthMax = max(truthMax, abs(truth.values[k]))
                diffMax = max(diffMax, abs(predicted.values[k] - truth.values[k]))
            }
            if truthMax == 0 { result.append(nil); continue }
            if diffMax == 0 { result.append(0); continue }
            var truthSum = 0.0, diffSum = 0.0
            for k in range {
                let t = truth.values[k] / truthMax
                let d = (predicted.values[k] - truth.values[k]) / diffMax
                truthSum += t * t
                diffSum += d * d
            }
            result.append((diffMax * diffSum.squareRoot()) / (truthMax * truthSum.squareRoot()))
        }
        return result
    }

    /// The p-th percentile (0 ≤ p ≤ 100) by linear interpolation between order statistics — NumPy's
    /// default (`method="linear"`): sort x ascending, h = (n − 1) p / 100, result
    /// x[⌊h⌋] + (h − ⌊h⌋)(x[⌊h⌋+1] − x[⌊h⌋]). n = 1 gives x₀ for every p; n = 2 gives
    /// x₀ + (p/100)(x₁ − x₀). Values must be finite and non-empty.
    public static func percentile(_ values: [Double], _ p: Double) throws -> Double {
        guard p.isFinite, p >= 0, p <= 100 else {
            throw MetricsError("percentile: p = \(p); expected a number in [0, 100]")
        }
        guard !values.isEmpty else { throw MetricsError("percentile: no values") }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw MetricsError("percentile: value \(bad) is \(values[bad]); expected finite values")
        }
        let sorted = values.sorted()
        let h = Double(sorted.count - 1) * p / 100
        let lower = Int(h.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        let fraction = h - Double(lower)
        return sorted[lower] + fraction * (sorted[upper] - sorted[lower])
    }

    /// The median: the 50th percentile with the same interpolation (mean of the two middle values
    /// for an even count).
    public static func median(_ values: [Double]) throws -> Double {
        try percentile(values, 50)
    }

    /// Shapes must agree and be `[N, P]` with N, P ≥ 1 (a rank-1 array is one sample); every value
    /// must be finite.
    static func checkedShape(predicted: NDArray<Double>, truth: NDArray<Double>) throws -> (Int, Int) {
        guard predicted.shape == truth.shape else {
            throw MetricsError("prediction shape \(predicted.shape) differs from truth shape \(truth.shape)")
        }
        let samples = truth.shape.count <= 1 ? 1 : truth.rows
        let outputs = truth.shape.count <= 1 ? truth.count : truth.rowLength
        guard samples > 0, outputs > 0 else {
            throw MetricsError("metrics need at least one sample and one output; shape is \(truth.shape)")
        }
        for (name, array) in [("prediction", predicted), ("truth", truth)] {
            if let k = array.values.firstIndex(where: { !$0.isFinite }) {
                throw MetricsError("\(name) of sample \(k / outputs), output \(k % outputs) is \(array.values[k]); expected a finite number")
            }
        }
        return (samples, outputs)
    }
}

/// Relative L2 errors of a set of samples with their summary statistics.
public struct RelativeErrorSummary: Sendable, Equatable {
    /// Per sample, in input order; `nil` where the truth is identically zero (undefined ratio).
    public let perSample: [Double?]
    /// Indices of the samples whose truth is identically zero (left out of the statistics).
    public let zeroTruthSamples: [Int]
    /// Median and 95th percentile (linear interpolation, as NumPy) over the defined samples;
    /// `nil` when no sample is defined.
    public let median: Double?
    public let percentile95: Double?
    public let mean: Double?
    public let maximum: Double?

    public init(perSample: [Double?]) throws {
        self.perSample = perSample
        zeroTruthSamples = perSample.indices.filter { perSample[$0] == nil }
        let defined = perSample.compactMap { $0 }
        if defined.isEmpty {
            median = nil; percentile95 = nil; mean = nil; maximum = nil
        } else {
            median = try Metrics.median(defined)
            percentile95 = try Metrics.percentile(defined, 95)
            mean = defined.reduce(0, +) / Double(defined.count)
            maximum = defined.max()
        }
    }

    public init(predicted: NDArray<Double>, truth: NDArray<Double>) throws {
        try self.init(perSample: Metrics.relativeL2Errors(predicted: predicted, truth: truth))
    }

    /// For `metrics.json`: the statistics, the per-sample values (null where undefined) and the
    /// indices of zero-truth samples.
    public var json: JSONValue {
        func number(_ v: Double?) -> JSONValue { v.map { .number($0) } ?? .null }
        return [
            "definition": "||pred - truth||_2 / ||truth||_2 per sample; undefined (null) when truth is all zero",
            "percentile_method": "linear interpolation between order statistics (numpy default)",
            "count": JSONValue(perSample.count),
            "zero_truth_samples": .array(zeroTruthSamples.map { JSONValue($0) }),
            "median": number(median),
            "p95": number(percentile95),
            "mean": number(mean),
            "max": number(maximum),
            "per_sample": .array(perSample.map(number)),
        ]
    }
}

/// The accuracy of one trained model for `metrics.json`: MSE on the training and test sets in
/// physical and in scaled units, and the relative L2 error of each test sample.
public struct ModelAccuracy: Sendable, Equatable {
    public let trainMSE: Double
    public let testMSE: Double
    public let trainScaledMSE: Double
    public let testScaledMSE: Double
    public let testRelativeL2: RelativeErrorSummary

    /// - Parameters: predictions and FEM truth in physical units (`[samples, outputs]`), and σⱼ of
    ///   the output standardisation (the scaled MSE is the loss the network reports).
    public init(trainPredicted: NDArray<Double>, trainTruth: NDArray<Double>,
                testPredicted: NDArray<Double>, testTruth: NDArray<Double>, outputScale: [Double]) throws {
        trainMSE = try Metrics.meanSquaredError(predicted: trainPredicted, truth: trainTruth)
        testMSE = try Metrics.meanSquaredError(predicted: testPredicted, truth: testTruth)
        trainScaledMSE = try Metrics.scaledMeanSquaredError(predicted: trainPredicted, truth: trainTruth, outputScale: outputScale)
        testScaledMSE = try Metrics.scaledMeanSquaredError(predicted: testPredicted, truth: testTruth, outputScale: outputScale)
        testRelativeL2 = try RelativeErrorSummary(predicted: testPredicted, truth: testTruth)
    }

    public var json: JSONValue {
        [
            "train_mse_physical": JSONValue(trainMSE), "test_mse_physical": JSONValue(testMSE),
            "train_mse_scaled": JSONValue(trainScaledMSE), "test_mse_scaled": JSONValue(testScaledMSE),
            "test_relative_l2": testRelativeL2.json,
        ]
    }
}
