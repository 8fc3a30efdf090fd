/// A failure reported to the user as its message alone: one line, non-zero exit, no stack trace.
/// Every library that checks a user's input or files throws it when the message needs no other context.
public struct StageError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}
