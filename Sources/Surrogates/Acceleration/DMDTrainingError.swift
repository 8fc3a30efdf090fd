/// Bad settings, a hook attached to the wrong network, or a damaged hook state in a checkpoint: the
/// errors of this library's accelerators and of the (m, s) sweep. (A training that diverges under a
/// jump throws `DMDDivergenceError` instead, which the trainer treats as a divergence.)
public struct DMDTrainingError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ message: String) { description = message }
}
