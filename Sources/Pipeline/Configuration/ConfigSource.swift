import Foundation
import TOMLKit
import NumericalFoundations

/// A configuration problem, naming the file, the key and what was expected.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let key: String?
    public let message: String
    public init(file: String, key: String?, _ message: String) { self.file = file; self.key = key; self.message = message }
    public var description: String {
        if let key { return "\(file): key '\(key)': \(message)" }
        return "\(file): \(message)"
    }
}

/// A configuration value after TOML parsing (dates and times are not used by this project).
public indirect enum ConfigValue: Equatable, Sendable {
    case int(Int), double(Double), string(String), bool(Bool), array([ConfigValue]), table([String: ConfigValue])

    var typeName: String {
        switch self {
        case .int: return "an integer"
        case .double: return "a float"
        case .string: return "a string"
        case .bool: return "a boolean"
        case .array: return "an array"
        case .table: return "a table"
        }
    }

    var json: JSONValue {
        switch self {
        case .int(let i): return .number(Double(i))
        case .double(let d): return .number(d)
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        case .array(let a): return .array(a.map(\.json))
        case .table(let t): return .object(t.mapValues(\.json))
        }
    }
}

/// A parsed TOML configuration flattened to dotted keys ("fem.nx"), which remembers which keys the
/// typed sections have read, so that a misspelt or unknown key is reported instead of ignored.
public final class ConfigSource {
    public let file: String
    private(set) var values: [String: ConfigValue] = [:]
    private var consumed: Set<String> = []
    /// Values as the program used them, defaults included: the "resolved config" of a manifest.
    private(set) var resolved: [String: [String: JSONValue]] = [:]
    /// Keys set by an override, with the override as the user wrote it (named by errors about the key).
    private var origins: [String: String] = [:]
    /// Keys the file itself set (before any override).
    public private(set) var fileKeyCount = 0

    public init(text: String, file: String) throws {
        self.file = file
        try Self.checkTableHeaders(text, file: file)
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw ConfigError(file: file, key: nil, "malformed TOML at line \(error.source.begin.line), column \(error.source.begin.column): \(error.description)")
        }
        try flatten(table, prefix: "")
        fileKeyCount = values.count
    }

    /// The TOML parser underneath (toml++, through TOMLKit) stops the process on an assertion when a
    /// table header starts with a character no key can start with (`[:a]`, `[[é]]`) instead of reporting
    /// an error; such a header is refused here first, with its line and column. The scan follows the
    /// text as TOML does (strings, multi-line strings, comments, arrays spanning lines) so that only
    /// real headers are looked at.
    static func checkTableHeaders(_ text: String, file: String) throws {
        var scanner = TOMLLineScanner()
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let startsOutside = scanner.isAtTopLevel
            if let column = scanner.consume(line) {
                throw ConfigError(file: file, key: nil, "malformed TOML at line \(number + 1), column \(column): this bracket does not close the one opened before it")
            }
            guard startsOutside else { continue }
            let body = line.drop { $0 == " " || $0 == "\t" || $0 == "\u{FEFF}" }
            guard body.first == "[" else { continue }
            let afterBrackets = body.dropFirst(body.hasPrefix("[[") ? 2 : 1).drop { $0 == " " || $0 == "\t" }
            let first = afterBrackets.first
            let startsKey = first.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") } ?? false
            if !(startsKey || first == "\"" || first == "'" || first == "]") {
                let column = line.distance(from: line.startIndex, to: afterBrackets.startIndex) + 1
                throw ConfigError(file: file, key: nil, "malformed TOML at line \(number + 1), column \(column): a table header must start with a key "
                                  + "(letters, digits, '_' or '-', or a quoted string) on its own line, found "
                                  + (first.map { "'\($0)'" } ?? "the end of the line"))
            }
        }
    }

    public convenience init(contentsOf url: URL) throws {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw ConfigError(file: url.path, key: nil, "cannot be read (missing file?); expected a TOML configuration")
        }
        try self.init(text: text, file: url.path)
    }

    private func flatten(_ table: TOMLTable, prefix: String) throws {
        for (key, value) in table {
            let full = prefix.isEmpty ? key : prefix + "." + key
            if let sub = value.table, prefix.isEmpty {
                try flatten(sub, prefix: full)
            } else {
                values[full] = try convert(value, key: full)
            }
        }
    }

    private func convert(_ value: TOMLValueConvertible, key: String) throws -> ConfigValue {
        switch value.type {
        case .int: return .int(value.int!)
        case .double: return .double(value.double!)
        case .string: return .string(value.string!)
        case .bool: return .bool(value.bool!)
        case .array: return .array(try value.array!.map { try convert($0, key: key) })
        case .table:
            var out: [String: ConfigValue] = [:]
            for (k, v) in value.table! { out[k] = try convert(v, key: key + "." + k) }
            return .table(out)
        default:
            throw ConfigError(file: file, key: key, "dates and times are not valid values here")
        }
    }

    /// Applies a command-line override `section.key=value`, where value is written as in TOML
    /// (`fem.nx=40`, `wind.no_solution="clamp"`, `sampling.n_samples=20`). A bare word is taken as a string.
    public func applyOverride(_ assignment: String, origin: String? = nil) throws {
        guard let eq = assignment.firstIndex(of: "=") else {
            throw ConfigError(file: "--set", key: nil, "override '\(assignment)' is not of the form section.key=value")
        }
        let key = assignment[..<eq].trimmingCharacters(in: .whitespaces)
        let raw = assignment[assignment.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        guard key.split(separator: ".").count == 2 else {
            throw ConfigError(file: "--set", key: key, "expected section.key (for example fem.nx)")
        }
        origins[key] = origin ?? "--set \(assignment)"
        let parsed: ConfigValue
        if let t = try? TOMLTable(string: "v = \(raw)"), let v = t["v"] {
            parsed = try convert(v, key: key)
        } else {
            parsed = .string(raw)
        }
        values[key] = parsed
    }

    public func section(_ name: String) -> SectionReader { SectionReader(source: self, section: name) }

    /// Where the value of `key` came from: the override that set it, else the file.
    func origin(of key: String) -> String { origins[key] ?? file }

    func take(_ key: String) -> ConfigValue? {
        consumed.insert(key)
        return values[key]
    }

    func record(_ key: String, _ value: JSONValue) {
        let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
        resolved[parts[0], default: [:]][parts[1]] = value
    }

    /// Every key that no section read: unknown keys are errors, with the known keys of that section listed.
    public func checkNoUnknownKeys() throws {
        let unknown = values.keys.filter { !consumed.contains($0) }.sorted()
        guard let first = unknown.first else { return }
        let section = first.split(separator: ".").first.map(String.init) ?? first
        let known = consumed.filter { $0.hasPrefix(section + ".") }.map { String($0.dropFirst(section.count + 1)) }.sorted()
        if first.contains("."), !known.isEmpty {
            throw ConfigError(file: origin(of: first), key: first, "unknown key (known keys of [\(section)]: \(known.joined(separator: ", ")))")
        }
        throw ConfigError(file: origin(of: first), key: first, "unknown key or section")
    }

    /// The configuration as used, defaults included, as JSON (for manifests).
    public var resolvedJSON: JSONValue {
        .object(resolved.mapValues { .object($0) })
    }
}

/// Typed, validated access to one `[section]` of the configuration.
public struct SectionReader {
    let source: ConfigSource
    public let section: String

    public var file: String { source.file }

    /// An error about `key`, blamed on where its value came from (the file, or the override that set it).
    public func error(_ key: String, _ message: String) -> ConfigError {
        ConfigError(file: source.origin(of: section + "." + key), key: section + "." + key, message)
    }

    public func double(_ key: String, default def: Double, in range: ClosedRange<Double>? = nil) throws -> Double {
        let full = section + "." + key
        let value: Double
        switch source.take(full) {
        case nil: value = def
        case .int(let i)?: value = Double(i)
        case .double(let d)?: value = d
        case let other?: throw error(key, "expected a number, found \(other.typeName)")
        }
        guard value.isFinite else { throw error(key, "expected a finite number, found \(value)") }
        if let range, !range.contains(value) {
            throw error(key, "value \(value) is out of range; expected \(range.lowerBound) ≤ value ≤ \(range.upperBound)")
        }
        source.record(full, .number(value))
        return value
    }

    public func int(_ key: String, default def: Int, in range: ClosedRange<Int>? = nil) throws -> Int {
        let full = section + "." + key
        let value: Int
        switch source.take(full) {
        case nil: value = def
        case .int(let i)?: value = i
        case let other?: throw error(key, "expected an integer, found \(other.typeName)")
        }
        if let range, !range.contains(value) {
            throw error(key, "value \(value) is out of range; expected \(range.lowerBound) ≤ value ≤ \(range.upperBound)")
        }
        source.record(full, .number(Double(value)))
        return value
    }

    public func bool(_ key: String, default def: Bool) throws -> Bool {
        let full = section + "." + key
        let value: Bool
        switch source.take(full) {
        case nil: value = def
        case .bool(let b)?: value = b
        case let other?: throw error(key, "expected true or false, found \(other.typeName)")
        }
        source.record(full, .bool(value))
        return value
    }

    public func string(_ key: String, default def: String, allowed: [String]? = nil) throws -> String {
        let full = section + "." + key
        let value: String
        switch source.take(full) {
        case nil: value = def
        case .string(let s)?: value = s
        case let other?: throw error(key, "expected a string, found \(other.typeName)")
        }
        if let allowed, !allowed.contains(value) {
            throw error(key, "value \"\(value)\" is not allowed; expected one of \(allowed.map { "\"\($0)\"" }.joined(separator: ", "))")
        }
        source.record(full, .string(value))
        return value
    }

    /// An enum-valued key: the allowed strings are the enum's raw values.
    public func choice<E: RawRepresentable & CaseIterable>(_ key: String, default def: E) throws -> E where E.RawValue == String {
        let s = try string(key, default: def.rawValue, allowed: E.allCases.map(\.rawValue))
        return E(rawValue: s)!
    }

    public func doubles(_ key: String, default def: [Double], count: Int? = nil,
                        each range: ClosedRange<Double>? = nil) throws -> [Double] {
        let full = section + "." + key
        var value = def
        if let v = source.take(full) {
            guard case .array(let items) = v else { throw error(key, "expected an array of numbers, found \(v.typeName)") }
            value = try items.map {
                switch $0 {
                case .int(let i): return Double(i)
                case .double(let d): return d
                default: throw error(key, "expected an array of numbers, found an element that is \($0.typeName)")
                }
            }
        }
        if let count, value.count != count { throw error(key, "expected \(count) numbers, found \(value.count)") }
        for x in value {
            guard x.isFinite else { throw error(key, "expected finite numbers, found \(x)") }
            if let range, !range.contains(x) {
                throw error(key, "element \(x) is out of range; expected \(range.lowerBound) ≤ value ≤ \(range.upperBound)")
            }
        }
        source.record(full, .array(value.map { .number($0) }))
        return value
    }

    public func ints(_ key: String, default def: [Int], each range: ClosedRange<Int>? = nil) throws -> [Int] {
        let full = section + "." + key
        var value = def
        if let v = source.take(full) {
            guard case .array(let items) = v else { throw error(key, "expected an array of integers, found \(v.typeName)") }
            value = try items.map {
                guard case .int(let i) = $0 else { throw error(key, "expected an array of integers, found an element that is \($0.typeName)") }
                return i
            }
        }
        if let range, let bad = value.first(where: { !range.contains($0) }) {
            throw error(key, "element \(bad) is out of range; expected \(range.lowerBound) ≤ value ≤ \(range.upperBound)")
        }
        source.record(full, .array(value.map { .number(Double($0)) }))
        return value
    }

    public func strings(_ key: String, default def: [String], allowed: [String]? = nil) throws -> [String] {
        let full = section + "." + key
        var value = def
        if let v = source.take(full) {
            guard case .array(let items) = v else { throw error(key, "expected an array of strings, found \(v.typeName)") }
            value = try items.map {
                guard case .string(let s) = $0 else { throw error(key, "expected an array of strings, found an element that is \($0.typeName)") }
                return s
            }
        }
        if let allowed, let bad = value.first(where: { !allowed.contains($0) }) {
            throw error(key, "element \"\(bad)\" is not allowed; expected one of \(allowed.joined(separator: ", "))")
        }
        source.record(full, .array(value.map { .string($0) }))
        return value
    }

    /// A closed interval written as `[low, high]` with low < high.
    public func interval(_ key: String, default def: ClosedRange<Double>) throws -> ClosedRange<Double> {
        let v = try doubles(key, default: [def.lowerBound, def.upperBound], count: 2)
        guard v[0] < v[1] else { throw error(key, "expected [low, high] with low < high, found [\(v[0]), \(v[1])]") }
        return v[0]...v[1]
    }

    /// An array of inline tables (e.g. terrain bumps), each with the given numeric fields, all required.
    public func records(_ key: String, fields: [String], default def: [[String: Double]] = []) throws -> [[String: Double]] {
        let full = section + "." + key
        guard let v = source.take(full) else {
            source.record(full, .array(def.map { .object($0.mapValues { .number($0) }) }))
            return def
        }
        guard case .array(let items) = v else { throw error(key, "expected an array of tables {\(fields.joined(separator: ", "))}") }
        var out: [[String: Double]] = []
        for (i, item) in items.enumerated() {
            guard case .table(let t) = item else { throw error(key, "element \(i) is \(item.typeName), expected a table {\(fields.joined(separator: ", "))}") }
            var rec: [String: Double] = [:]
            for (k, value) in t {
                guard fields.contains(k) else { throw error(key, "element \(i) has unknown field '\(k)' (expected \(fields.joined(separator: ", ")))") }
                switch value {
                case .int(let n): rec[k] = Double(n)
                case .double(let d) where d.isFinite: rec[k] = d
                default: throw error(key, "element \(i) field '\(k)' must be a finite number")
                }
            }
            for f in fields where rec[f] == nil { throw error(key, "element \(i) lacks field '\(f)'") }
            out.append(rec)
        }
        source.record(full, .array(out.map { .object($0.mapValues { .number($0) }) }))
        return out
    }
}

/// Where a TOML text is at the end of each line: inside a multi-line string, or inside brackets
/// (an array or inline table spanning lines), or at the top level where a line may be a table header.
/// A closing bracket that does not match the open one (`[1, }`) is reported here: the parser
/// underneath stops the process on it.
struct TOMLLineScanner {
    private var multilineQuote: String?
    private var open: [Character] = []

    var isAtTopLevel: Bool { multilineQuote == nil && open.isEmpty }

    /// Follows one line; returns the column (1-based) of a mismatched closing bracket, if any.
    mutating func consume(_ line: Substring) -> Int? {
        var rest = line[...]
        while let c = rest.first {
            if let quote = multilineQuote {
                if rest.hasPrefix(quote) { multilineQuote = nil; rest = rest.dropFirst(3); continue }
                rest = rest.dropFirst(quote == "\"\"\"" && c == "\\" ? 2 : 1)
                continue
            }
            if rest.hasPrefix("\"\"\"") || rest.hasPrefix("'''") { multilineQuote = String(rest.prefix(3)); rest = rest.dropFirst(3); continue }
            switch c {
            case "#":
                rest = rest.dropFirst(rest.count)
            case "\"", "'":
                // A one-line string: skip to its closing quote (escapes only in basic strings).
                rest = rest.dropFirst()
                while let d = rest.first, d != c {
                    rest = rest.dropFirst(c == "\"" && d == "\\" ? 2 : 1)
                }
                rest = rest.dropFirst()
            case "[", "{":
                open.append(c)
                rest = rest.dropFirst()
            case "]", "}":
                if let top = open.last {
                    guard (top == "[") == (c == "]") else { return line.distance(from: line.startIndex, to: rest.startIndex) + 1 }
                    open.removeLast()
                }
                rest = rest.dropFirst()
            default:
                rest = rest.dropFirst()
            }
        }
        // A table header closes its brackets on its own line; an unclosed one is the parser's to report.
        if !open.isEmpty, line.drop(while: { $0 == " " || $0 == "\t" }).first == "[", !line.contains("=") { open.removeAll() }
        return nil
    }
}
