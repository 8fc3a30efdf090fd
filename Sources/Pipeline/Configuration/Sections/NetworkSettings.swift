/// `[network]`: the surrogate MLP of formulation.md §4.
public struct NetworkSettings: Sendable, Equatable {
    public enum Activation: String, CaseIterable, Sendable { case softsign, tanh, relu, linear }
    public enum Precision: String, CaseIterable, Sendable { case float32, float64 }

    /// Hidden layer widths; input (6) and output (the observation count) come from the data.
    public var hidden: [Int]
    public var activation: Activation
    public var precision: Precision
    public var seed: UInt64
    /// Output standard deviations below this fraction of the largest are raised to it (docs/train.md).
    public var outputStdFloor: Double

    public init(_ r: SectionReader) throws {
        hidden = try r.ints("hidden", default: [40, 200, 1000], each: 1...1_000_000)
        activation = try r.choice("activation", default: Activation.softsign)
        precision = try r.choice("precision", default: Precision.float32)
        seed = UInt64(try r.int("seed", default: 1, in: 0...Int.max))
        outputStdFloor = try r.double("output_std_floor", default: 1e-6, in: 0...1)
    }
}
