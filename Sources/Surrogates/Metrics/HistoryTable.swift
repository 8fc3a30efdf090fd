import Foundation

/// A malformed `history.csv`: names the file, the 1-based line and the column (when known).
public struct HistoryParseError: Error, CustomStringConvertible, Equatable, Sendable {
    public let path: String
    public let line: Int?
    public let column: String?
    public let message: String

    public init(path: String, line: Int?, column: String?, _ message: String) {
        self.path = path; self.line = line; self.column = column; self.message = message
    }

    public var description: String {
        var location = path
        if let line { location += ":\(line)" }
        if let column { location += " (column \(column))" }
        return "\(location): \(message)"
    }
}

/// One column of a history file: numbers (an empty cell is `nil`) or, for an extra column that is
/// not numeric, the raw text.
public enum HistoryColumn: Sendable, Equatable {
    case numbers([Double?])
    case text([String])
}

/// The per-epoch record of one training run, read from `history.csv`.
///
/// Format: comma-separated, one header row naming the columns, then one row per recorded epoch.
/// - Required: `epoch` (integer ≥ 0, strictly increasing; the number of epochs completed, an
///   optional epoch-0 row records the initial state), `train_mse`, `test_mse` (scaled units, ≥ 0;
///   `nan`/`inf` are accepted as the record of a diverged run), `wall_seconds` (cumulative wall time
///   since training started, finite, ≥ 0, non-decreasing).
/// - Optional DMD columns: `jump` (0/1), `train_mse_before`, `train_mse_after`, `test_mse_before`,
///   `test_mse_after` (required on jump rows when the column exists), `rank_L<k>` (integer ≥ 0),
///   `max_abs_eig_L<k>`, `snapshot_seconds`, `dmd_seconds`, `assign_seconds`, `backprop_seconds`
///   (time spent in that epoch, ≥ 0). Empty cells mean "not recorded".
/// - Any other column is kept by name: as numbers when every non-empty cell is a number, else as text.
/// Cells may be surrounded by spaces; a cell may be double-quoted (RFC 4180, `""` inside quotes).
public struct HistoryTable: Sendable {
    /// Where the history came from (for messages).
    public let source: String
    /// Column names in file order.
    public let columnNames: [String]
    public let epochs: [Int]
    public let trainMSE: [Double]
    public let testMSE: [Double]
    public let wallSeconds: [Double]
    /// Every column by name, including the required ones (as numbers).
    public let columns: [String: HistoryColumn]


    /// A numeric column by name (`nil` if absent or text).
    public func numbers(_ name: String) -> [Double?]? {
        if case .numbers(let values)? = columns[name] { return values }
        return nil
    }

    /// A text column by name (`nil` if absent or numeric).
    public func text(_ name: String) -> [String]? {
        if case .text(let values)? = columns[name] { return values }
        return nil
    }

    /// True when the file records DMD jumps (has a `jump` column).
    public var hasJumpColumn: Bool { columns["jump"] != nil }

    /// The per-layer columns with a prefix such as `rank_L` or `max_abs_eig_L`, ordered by layer number.
    public func layerColumns(prefix: String) -> [(layer: Int, values: [Double?])] {
        columnNames.compactMap { name -> (Int, [Double?])? in
            guard name.hasPrefix(prefix), let layer = Int(name.dropFirst(prefix.count)),
                  let values = numbers(name) else { return nil }
            return (layer, values)
        }.sorted { $0.0 < $1.0 }.map { (layer: $0.0, values: $0.1) }
    }

    /// The DMD jumps recorded in the file: rows with `jump` = 1, in order.
    public var jumps: [JumpRecord] {
        guard let jump = numbers("jump") else { return [] }
        let trainBefore = numbers("train_mse_before"), trainAfter = numbers("train_mse_after")
        let testBefore = numbers("test_mse_before"), testAfter = numbers("test_mse_after")
        return jump.indices.compactMap { row in
            guard jump[row] == 1 else { return nil }
            return JumpRecord(epoch: epochs[row],
                              trainBefore: trainBefore?[row] ?? nil, trainAfter: trainAfter?[row] ?? nil,
                              testBefore: testBefore?[row] ?? nil, testAfter: testAfter?[row] ?? nil)
        }
    }

    /// Mean wall time per epoch: the final cumulative wall time over the final epoch count.
    /// `nil` when the last recorded epoch is 0 (no training done).
    public var meanSecondsPerEpoch: Double? {
        guard let lastEpoch = epochs.last, lastEpoch > 0, let lastWall = wallSeconds.last else { return nil }
        return lastWall / Double(lastEpoch)
    }

    // MARK: Reading

    public static func load(from url: URL) throws -> HistoryTable {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw HistoryParseError(path: url.path, line: nil, column: nil, "cannot read: \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw HistoryParseError(path: url.path, line: nil, column: nil, "not UTF-8 text")
        }
        return try parse(text, source: url.path)
    }

    static let requiredColumns = ["epoch", "train_mse", "test_mse", "wall_seconds"]
    static let jumpValueColumns = ["train_mse_before", "train_mse_after", "test_mse_before", "test_mse_after"]
    static let timingColumns = ["snapshot_seconds", "dmd_seconds", "assign_seconds", "backprop_seconds"]

    /// Parses the text of a history file; `source` names it in error messages.
    public static func parse(_ text: String, source: String) throws -> HistoryTable {
        let parser = HistoryParser(source: source)
        let lines = nonBlankLines(text)
        guard let headerLine = lines.first else { throw parser.fail(nil, nil, "empty file; expected a header row") }
        let header = try parser.header(headerLine)
        let rows = lines.dropFirst()
        guard !rows.isEmpty else { throw parser.fail(headerLine.number, nil, "no data rows after the header") }
        let (cells, lineNumbers) = try parser.cellsByColumn(rows, columnCount: header.count)
        let columns = try parser.typedColumns(header: header, cells: cells, lineNumbers: lineNumbers)
        let table = try parser.validatedRows(header: header, cells: cells, lineNumbers: lineNumbers, columns: columns)
        try parser.checkJumpColumnPairs(columns, headerLine: headerLine.number)
        return HistoryTable(source: source, columnNames: header, epochs: table.epochs, trainMSE: table.trainMSE,
                            testMSE: table.testMSE, wallSeconds: table.wallSeconds, columns: columns)
    }

    /// Lines with their 1-based numbers; blank lines are skipped (a trailing newline is normal).
    private static func nonBlankLines(_ text: String) -> [(number: Int, text: Substring)] {
        var lines: [(number: Int, text: Substring)] = []
        // "\r\n" is one Character in Swift, so split on it explicitly (CRLF files are common).
        let rawLines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
        for (index, line) in rawLines.enumerated() {
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            lines.append((index + 1, line))
        }
        return lines
    }

    /// The steps of `parse`, each throwing a `HistoryParseError` that names the source.
    private struct HistoryParser {
        let source: String

        func fail(_ line: Int?, _ column: String?, _ message: String) -> HistoryParseError {
            HistoryParseError(path: source, line: line, column: column, message)
        }

        /// The column names: non-empty, unique, and including the required ones.
        func header(_ headerLine: (number: Int, text: Substring)) throws -> [String] {
            let header = try splitCells(headerLine.text).get(orThrow: { fail(headerLine.number, nil, $0) })
            var seen = Set<String>()
            for (position, name) in header.enumerated() {
                if name.isEmpty { throw fail(headerLine.number, "\(position + 1)", "empty column name in the header") }
                if !seen.insert(name).inserted { throw fail(headerLine.number, name, "column name appears twice") }
            }
            for name in requiredColumns where !seen.contains(name) {
                throw fail(headerLine.number, name, "required column missing; the header must name \(requiredColumns.joined(separator: ", "))")
            }
            return header
        }

        /// Cells by column, with the line of each row kept for messages.
        func cellsByColumn(_ rows: ArraySlice<(number: Int, text: Substring)>, columnCount: Int) throws -> (cells: [[String]], lineNumbers: [Int]) {
            var cells = Array(repeating: [String](), count: columnCount)
            var lineNumbers: [Int] = []
            for row in rows {
                let values = try splitCells(row.text).get(orThrow: { fail(row.number, nil, $0) })
                guard values.count == columnCount else {
                    throw fail(row.number, nil, "\(values.count) cells; the header has \(columnCount) columns")
                }
                for (c, v) in values.enumerated() { cells[c].append(v) }
                lineNumbers.append(row.number)
            }
            return (cells, lineNumbers)
        }

        /// Each column as numbers or text: a known numeric column must hold numbers, any other is
        /// numeric when every non-empty cell is a number.
        func typedColumns(header: [String], cells: [[String]], lineNumbers: [Int]) throws -> [String: HistoryColumn] {
            func isKnownNumeric(_ name: String) -> Bool {
                requiredColumns.contains(name) || name == "jump" || jumpValueColumns.contains(name)
                    || timingColumns.contains(name) || isLayerColumn(name, prefix: "rank_L")
                    || isLayerColumn(name, prefix: "max_abs_eig_L")
            }
            var columns: [String: HistoryColumn] = [:]
            for (c, name) in header.enumerated() {
                let parsed = cells[c].map(parseNumber)
                if isKnownNumeric(name) {
                    var values: [Double?] = []
                    for (r, cell) in cells[c].enumerated() {
                        if cell.isEmpty { values.append(nil); continue }
                        guard let v = parsed[r] else {
                            throw fail(lineNumbers[r], name, "'\(cell)' is not a number")
                        }
                        values.append(v)
                    }
                    columns[name] = .numbers(values)
                } else if zip(cells[c], parsed).allSatisfy({ $0.0.isEmpty || $0.1 != nil }) {
                    columns[name] = .numbers(parsed)
                } else {
                    columns[name] = .text(cells[c])
                }
            }
            return columns
        }

        /// The required columns of the validated rows.
        struct RequiredColumns {
            var epochs: [Int] = [], trainMSE: [Double] = [], testMSE: [Double] = [], wallSeconds: [Double] = []
        }

        /// Validation of the known columns, row by row.
        func validatedRows(header: [String], cells: [[String]], lineNumbers: [Int],
                           columns: [String: HistoryColumn]) throws -> RequiredColumns {
            func column(_ name: String) -> [Double?]? {
                if case .numbers(let v)? = columns[name] { return v }
                return nil
            }
            var table = RequiredColumns()
            let jump = column("jump")
            for r in 0..<lineNumbers.count {
                let line = lineNumbers[r]
                try appendRequiredValues(row: r, line: line, column: column, to: &table)
                if let jump {
                    try validateJumpCells(row: r, line: line, jump: jump, jumpCells: cells[header.firstIndex(of: "jump")!], column: column)
                }
                try validateTimingAndLayerCells(row: r, line: line, header: header, column: column)
            }
            return table
        }

        /// epoch (integer ≥ 0, increasing), wall_seconds (finite, ≥ 0, non-decreasing) and the two MSEs (≥ 0) of one row.
        func appendRequiredValues(row r: Int, line: Int, column: (String) -> [Double?]?, to table: inout RequiredColumns) throws {
            func required(_ name: String) throws -> Double {
                guard let v = column(name)![r] else { throw fail(line, name, "empty cell in a required column") }
                return v
            }
            let epochValue = try required("epoch")
            guard epochValue.isFinite, epochValue >= 0, epochValue == epochValue.rounded(), epochValue < 1e15 else {
                throw fail(line, "epoch", "\(epochValue) is not an integer ≥ 0")
            }
            let epoch = Int(epochValue)
            if let previous = table.epochs.last, epoch <= previous {
                throw fail(line, "epoch", "epoch \(epoch) does not increase (previous row: \(previous))")
            }
            let seconds = try required("wall_seconds")
            guard seconds.isFinite, seconds >= 0 else {
                throw fail(line, "wall_seconds", "\(seconds) is not a finite time ≥ 0")
            }
            if let previous = table.wallSeconds.last, seconds < previous {
                throw fail(line, "wall_seconds", "\(seconds) is less than the previous row's \(previous); wall_seconds is cumulative")
            }
            for name in ["train_mse", "test_mse"] {
                let v = try required(name)
                if v < 0 { throw fail(line, name, "negative MSE \(v)") }
            }
            table.epochs.append(epoch); table.wallSeconds.append(seconds)
            table.trainMSE.append(try required("train_mse")); table.testMSE.append(try required("test_mse"))
        }

        /// The jump flag is 0 or 1; a jump row has the MSE before and after the jump (≥ 0) in each such column.
        func validateJumpCells(row r: Int, line: Int, jump: [Double?], jumpCells: [String], column: (String) -> [Double?]?) throws {
            // An empty cell means no jump (the trainer's epoch-0 row records the initial state only).
            let flag = jump[r] ?? 0
            guard flag == 0 || flag == 1 else {
                throw fail(line, "jump", "'\(jumpCells[r])' must be 0 or 1")
            }
            if flag == 1 {
                for name in jumpValueColumns where column(name) != nil {
                    guard let v = column(name)![r] else {
                        throw fail(line, name, "empty on a jump row; the MSE before and after each jump is needed")
                    }
                    if v < 0 { throw fail(line, name, "negative MSE \(v)") }
                }
            }
        }

        /// Timings are finite and ≥ 0, ranks integers ≥ 0, eigenvalue moduli ≥ 0.
        func validateTimingAndLayerCells(row r: Int, line: Int, header: [String], column: (String) -> [Double?]?) throws {
            for name in timingColumns {
                if let v = column(name)?[r] ?? nil, !(v.isFinite && v >= 0) {
                    throw fail(line, name, "\(v) is not a finite time ≥ 0")
                }
            }
            for name in header where isLayerColumn(name, prefix: "rank_L") {
                if let v = column(name)![r], !(v.isFinite && v >= 0 && v == v.rounded()) {
                    throw fail(line, name, "\(v) is not an integer rank ≥ 0")
                }
            }
            for name in header where isLayerColumn(name, prefix: "max_abs_eig_L") {
                if let v = column(name)![r], !(v >= 0) {
                    throw fail(line, name, "\(v) is not a modulus ≥ 0")
                }
            }
        }

        /// With a jump column, the before and after columns of each MSE come as a pair.
        func checkJumpColumnPairs(_ columns: [String: HistoryColumn], headerLine: Int) throws {
            func has(_ name: String) -> Bool {
                if case .numbers? = columns[name] { return true }
                return false
            }
            guard has("jump") else { return }
            let hasBefore = has("train_mse_before"), hasAfter = has("train_mse_after")
            if hasBefore != hasAfter {
                throw fail(headerLine, hasBefore ? "train_mse_after" : "train_mse_before",
                           "train_mse_before and train_mse_after come together")
            }
            let hasTestBefore = has("test_mse_before"), hasTestAfter = has("test_mse_after")
            if hasTestBefore != hasTestAfter {
                throw fail(headerLine, hasTestBefore ? "test_mse_after" : "test_mse_before",
                           "test_mse_before and test_mse_after come together")
            }
        }
    }

    static func isLayerColumn(_ name: String, prefix: String) -> Bool {
        name.hasPrefix(prefix) && Int(name.dropFirst(prefix.count)) != nil
    }

    /// A number cell: decimal or scientific notation, or nan/inf (any case). Not hexadecimal floats.
    static func parseNumber(_ cell: String) -> Double? {
        if cell.isEmpty { return nil }
        switch cell.lowercased() {
        case "nan": return .nan
        case "inf", "+inf", "infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        default: break
        }
        guard cell.allSatisfy({ "0123456789+-.eE".contains($0) }) else { return nil }
        return Double(cell)
    }

    /// Splits one CSV line into trimmed cells; double-quoted cells may contain commas and `""`.
    static func splitCells(_ line: Substring) -> Result<[String], CSVLineError> {
        var cells: [String] = []
        var current = ""
        var inQuotes = false, wasQuoted = false
        var iterator = line.makeIterator()
        var pending: Character? = nil
        while let ch = pending ?? iterator.next() {
            pending = nil
            if inQuotes {
                if ch == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { current.append("\"") } else { inQuotes = false; pending = next }
                    } else { inQuotes = false }
                } else { current.append(ch) }
            } else if ch == "," {
                cells.append(wasQuoted ? current : current.trimmingCharacters(in: .whitespaces))
                current = ""; wasQuoted = false
            } else if ch == "\"" && current.trimmingCharacters(in: .whitespaces).isEmpty && !wasQuoted {
                inQuotes = true; wasQuoted = true; current = ""
            } else if wasQuoted {
                if ch != " " && ch != "\t" { return .failure(CSVLineError("text after a closing quote")) }
            } else { current.append(ch) }
        }
        if inQuotes { return .failure(CSVLineError("unterminated quoted cell")) }
        cells.append(wasQuoted ? current : current.trimmingCharacters(in: .whitespaces))
        return .success(cells)
    }

    struct CSVLineError: Error { let message: String; init(_ m: String) { message = m } }
}

extension Result where Failure == HistoryTable.CSVLineError {
    func get(orThrow make: (String) -> HistoryParseError) throws -> Success {
        switch self {
        case .success(let v): return v
        case .failure(let e): throw make(e.message)
        }
    }
}

/// One DMD jump: the MSE just before and just after it (formulation §5).
public struct JumpRecord: Sendable, Equatable {
    public let epoch: Int
    public let trainBefore: Double?
    public let trainAfter: Double?
    public let testBefore: Double?
    public let testAfter: Double?

    /// MSE after / MSE before on the training set (< 1: the jump helped). `nil` when not recorded
    /// or when the MSE before is 0 or not finite (ratio undefined); +∞ when the MSE after the jump
    /// is NaN or infinite (the jump diverged).
    public var trainRatio: Double? { Metrics.jumpRelativeError(after: trainAfter, before: trainBefore) }
    public var testRatio: Double? { Metrics.jumpRelativeError(after: testAfter, before: testBefore) }
}
