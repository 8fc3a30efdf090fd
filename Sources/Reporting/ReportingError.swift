/// An error of the reporting library: bad input to a metric, an inconsistent figure, a report
/// that cannot be written. The message names what was wrong and what was expected.
public struct ReportingError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
