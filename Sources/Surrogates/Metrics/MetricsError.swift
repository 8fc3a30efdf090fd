/// Bad input to a metric (mismatched shapes, an empty set, a malformed history file's values): the
/// message names what was wrong and what was expected.
public struct MetricsError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
