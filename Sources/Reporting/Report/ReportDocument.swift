/// A report as a list of blocks, written as Markdown (`report.md`, figures linked) and as a
/// self-contained HTML page (`report.html`, figures inline).

/// A piece of running text.
public enum Inline: Sendable, Equatable {
    case text(String)
    /// Monospaced (file names, commands, config keys).
    case code(String)
    case strong(String)
    case emphasis(String)
    /// A link; `url` is written as given (relative paths stay relative).
    case link(String, url: String)
}

/// Running text: a sequence of inline pieces. A string literal is plain text.
public struct RichText: Sendable, Equatable, ExpressibleByStringLiteral {
    public var parts: [Inline]
    public init(_ parts: [Inline]) { self.parts = parts }
    public init(_ text: String) { parts = [.text(text)] }
    public init(stringLiteral value: String) { parts = [.text(value)] }
}

public enum ColumnAlignment: Sendable, Equatable { case left, right, center }

public struct ReportTable: Sendable, Equatable {
    public var header: [String]
    public var rows: [[String]]
    /// One per column; missing entries are `.left`.
    public var alignments: [ColumnAlignment]
    public var caption: String?

    public init(header: [String], rows: [[String]], alignments: [ColumnAlignment] = [], caption: String? = nil) {
        self.header = header; self.rows = rows; self.alignments = alignments; self.caption = caption
    }
}

/// A figure of the report: rendered to `relativePath` (an `.svg` path inside the report folder,
/// e.g. `figures/loss_curves.svg`), linked from the Markdown and inlined into the HTML.
public struct ReportFigure: Sendable, Equatable {
    public var figure: Figure
    public var relativePath: String
    public var caption: String

    public init(_ figure: Figure, relativePath: String? = nil, caption: String) {
        self.figure = figure
        self.relativePath = relativePath ?? "figures/\(figure.name).svg"
        self.caption = caption
    }
}

public enum ReportBlock: Sendable, Equatable {
    /// Level 1…6; the document title is level 1, sections should start at 2.
    case heading(Int, String)
    case paragraph(RichText)
    case bulletList([RichText])
    case table(ReportTable)
    case figure(ReportFigure)
    /// A block of code shown verbatim (e.g. the commands that reproduce the report).
    case code(String, language: String? = nil)
}

public struct ReportDocument: Sendable, Equatable {
    public var title: String
    public var blocks: [ReportBlock]

    public init(title: String, blocks: [ReportBlock] = []) { self.title = title; self.blocks = blocks }

    public mutating func append(_ block: ReportBlock) { blocks.append(block) }

    /// The figures in order.
    public var figures: [ReportFigure] {
        blocks.compactMap { if case .figure(let f) = $0 { return f }; return nil }
    }

    /// Checks what would make a broken report: figure paths that leave the report folder or are
    /// not `.svg`, two figures with one name or path (their SVG ids would clash in the HTML),
    /// ragged tables, heading levels outside 1…6.
    public func validate() throws {
        var names = Set<String>(), paths = Set<String>()
        for block in blocks {
            switch block {
            case .figure(let f):
                let path = f.relativePath
                guard !path.isEmpty, !path.hasPrefix("/"), !path.split(separator: "/").contains(".."), path.hasSuffix(".svg") else {
                    throw ReportingError("report figure \(f.figure.name): path '\(path)' must be a relative .svg path inside the report folder")
                }
                guard names.insert(f.figure.name).inserted else {
                    throw ReportingError("report: two figures are named '\(f.figure.name)'; names must be unique")
                }
                guard paths.insert(path).inserted else { throw ReportingError("report: two figures are written to '\(path)'") }
            case .table(let t):
                guard !t.header.isEmpty else { throw ReportingError("report table \(t.caption ?? ""): no columns") }
                for (i, row) in t.rows.enumerated() where row.count != t.header.count {
                    throw ReportingError("report table \(t.caption ?? t.header.joined(separator: ", ")): row \(i + 1) has \(row.count) cells for \(t.header.count) columns")
                }
            case .heading(let level, _):
                guard (1...6).contains(level) else { throw ReportingError("report: heading level \(level) outside 1…6") }
            default: break
            }
        }
    }
}
