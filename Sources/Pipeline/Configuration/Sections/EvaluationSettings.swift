/// `[evaluate]`: what the report shows.
public struct EvaluationSettings: Sendable, Equatable {
    /// How many test samples get c3 field figures.
    public var fieldSamples: Int
    /// How many DMD jumps get eigenvalue figures.
    public var eigenvalueJumps: Int

    public init(_ r: SectionReader) throws {
        fieldSamples = try r.int("field_samples", default: 3, in: 0...100)
        eigenvalueJumps = try r.int("eigenvalue_jumps", default: 3, in: 0...1000)
    }
}
