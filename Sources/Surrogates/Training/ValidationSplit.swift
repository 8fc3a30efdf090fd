import NumericalFoundations

/// A validation split carved from the training samples: hyper-parameters and early
/// stopping are chosen on it, so that the test split is used once, for the final table.
public enum ValidationSplit {
    /// Splits `trainingRows` into (fit, validation): a seeded permutation, the first
    /// round(fraction · n) rows (at least 1, at most n − 1) to validation; both keep ascending order.
    public static func carve(_ trainingRows: [Int], fraction: Double, seed: UInt64) throws -> (fit: [Int], validation: [Int]) {
        let n = trainingRows.count
        guard n >= 2 else { throw NetworkError("a validation split needs at least 2 training samples, got \(n)") }
        guard fraction > 0 && fraction < 1 else { throw NetworkError("the validation fraction must lie in (0, 1), got \(fraction)") }
        var generator = SeededGenerator(seed: seed, stream: 7)
        let order = generator.permutation(n)
        let count = min(max(Int((fraction * Double(n)).rounded()), 1), n - 1)
        let validation = Set(order.prefix(count))
        var fit: [Int] = [], held: [Int] = []
        for (k, row) in trainingRows.enumerated() {
            if validation.contains(k) { held.append(row) } else { fit.append(row) }
        }
        return (fit, held)
    }
}
