/// A problem with an uncertainty-quantification request: a bad distribution, a model that returns
/// the wrong number of values, a region without feasible points. The message names what was expected.
public struct UQError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ message: String) { description = message }
}

/// A model evaluated on a batch: `inputs` holds `rows` parameter sets (row-major, rows × d); the
/// result holds rows × outputs values (row-major).
public typealias BatchModel = (_ inputs: [Double], _ rows: Int) throws -> [Double]

/// Whether one parameter set (d values) lies in the region where the model is defined.
public typealias FeasibilityIndicator = (_ row: ArraySlice<Double>) -> Bool

/// Thrown by a `BatchModel` that evaluated some rows of a batch but not others — a model that solves
/// a PDE whose solve failed for one parameter set, say. `values` holds rows × outputs values (those
/// of the failed rows unspecified); `failures` maps a failed row's index in the batch to why.
public struct ModelRowFailures: Error, Sendable {
    public var values: [Double]
    public var failures: [Int: String]
    public init(values: [Double], failures: [Int: String]) { self.values = values; self.failures = failures }
}

/// The rows a model could not evaluate: kept out of the statistics (which are then those of the
/// inputs conditioned on the rows it could evaluate, as for an infeasible region) and reported.
public struct EvaluationFailures: Sendable, Equatable {
    /// Failed model evaluations.
    public var count = 0
    /// The first few reasons, for the report.
    public var examples: [String] = []
    public init() {}

    mutating func record(_ failures: [Int: String]) {
        count += failures.count
        for key in failures.keys.sorted() where examples.count < 5 { examples.append(failures[key]!) }
    }

    /// The error once more than `fraction` × `budget` evaluations failed.
    func check(fraction: Double, budget: Int, what: String) throws {
        guard Double(count) > fraction * Double(budget) else { return }
        throw UQError("the model could not evaluate \(count) rows of the \(what), more than the \(fraction * 100) % of \(budget) it may skip; "
                      + "the first: \(examples.first ?? "?")")
    }

    /// `model` on `count` rows: the values and the rows it could not evaluate (empty when it evaluated
    /// all). The values of every evaluated row are checked for their number and finiteness.
    static func evaluate(_ model: BatchModel, rows inputs: [Double], count: Int, outputs: Int) throws -> (values: [Double], failed: [Int: String]) {
        var values: [Double], failed: [Int: String] = [:]
        do { values = try model(inputs, count) } catch let partial as ModelRowFailures {
            values = partial.values; failed = partial.failures
        }
        guard values.count == count * outputs else {
            throw UQError("the model returned \(values.count) values for \(count) rows; expected \(count * outputs) (\(outputs) outputs per row)")
        }
        for r in 0..<count where failed[r] == nil {
            if let bad = values[(r * outputs)..<((r + 1) * outputs)].firstIndex(where: { !$0.isFinite }) {
                throw UQError("the model returned \(values[bad]) at output \(bad % outputs) of a row")
            }
        }
        return (values, failed)
    }
}
