import NumericalFoundations
import Foundation

// MARK: - Markdown

extension ReportDocument {
    /// The report as CommonMark/GitHub Markdown; figures are image links to their SVG files.
    public func markdown() throws -> String {
        try validate()
        var out = "# " + markdownEscape(title) + "\n"
        var figureNumber = 0
        for block in blocks {
            out += "\n"
            switch block {
            case .heading(let level, let text):
                out += String(repeating: "#", count: level) + " " + markdownEscape(text) + "\n"
            case .paragraph(let text):
                out += markdownInline(text) + "\n"
            case .bulletList(let items):
                for item in items { out += "- " + markdownInline(item) + "\n" }
            case .table(let table):
                if let caption = table.caption { out += "*" + markdownEscape(caption) + "*\n\n" }
                out += "| " + table.header.map(markdownCell).joined(separator: " | ") + " |\n"
                out += "|" + table.header.indices.map { i -> String in
                    switch i < table.alignments.count ? table.alignments[i] : .left {
                    case .left: return " --- "
                    case .right: return " ---: "
                    case .center: return " :---: "
                    }
                }.joined(separator: "|") + "|\n"
                for row in table.rows { out += "| " + row.map(markdownCell).joined(separator: " | ") + " |\n" }
            case .figure(let figure):
                figureNumber += 1
                let caption = "Figure \(figureNumber). " + figure.caption
                out += "![" + markdownEscape(caption) + "](" + markdownURL(figure.relativePath) + ")\n\n"
                out += "*" + markdownEscape(caption) + "*\n"
            case .code(let code, let language):
                // A fence longer than any backtick run inside the code.
                let longest = code.split(separator: "\n", omittingEmptySubsequences: false)
                    .map { line in line.reduce((0, 0)) { acc, ch in ch == "`" ? (acc.0 + 1, max(acc.1, acc.0 + 1)) : (0, acc.1) }.1 }
                    .max() ?? 0
                let fence = String(repeating: "`", count: max(3, longest + 1))
                out += fence + (language ?? "") + "\n" + code + (code.hasSuffix("\n") ? "" : "\n") + fence + "\n"
            }
        }
        return out
    }
}

/// Backslash-escapes the characters Markdown would read as markup (CommonMark allows a backslash
/// before any ASCII punctuation); line breaks become spaces.
func markdownEscape(_ s: String) -> String {
    var out = ""
    for ch in s {
        if "\\`*_[]<>#|!~&".contains(ch) { out.append("\\") }
        out.append(ch == "\n" || ch == "\r" ? " " : ch)
    }
    return out
}

func markdownCell(_ s: String) -> String { s.isEmpty ? " " : markdownEscape(s) }

func markdownURL(_ url: String) -> String {
    url.replacingOccurrences(of: " ", with: "%20").replacingOccurrences(of: "(", with: "%28").replacingOccurrences(of: ")", with: "%29")
}

/// Inline text; a leading "-", "+", "=" or "1." / "1)" would start a list or underline a heading,
/// so it is escaped too.
func markdownInline(_ text: RichText) -> String {
    var rendered = markdownInlineParts(text)
    if let first = rendered.first, "-+=".contains(first) {
        rendered = "\\" + rendered
    } else if let end = rendered.firstIndex(where: { !$0.isASCII || !$0.isNumber }), end != rendered.startIndex,
              rendered[end] == "." || rendered[end] == ")" {
        rendered.insert("\\", at: end)
    }
    return rendered
}

func markdownInlineParts(_ text: RichText) -> String {
    text.parts.map { part -> String in
        switch part {
        case .text(let s): return markdownEscape(s)
        case .strong(let s): return "**" + markdownEscape(s) + "**"
        case .emphasis(let s): return "*" + markdownEscape(s) + "*"
        case .link(let s, let url): return "[" + markdownEscape(s) + "](" + markdownURL(url) + ")"
        case .code(let s):
            let flat = s.replacingOccurrences(of: "\n", with: " ")
            let ticks = flat.contains("`") ? "``" : "`"
            let pad = flat.hasPrefix("`") || flat.hasSuffix("`") ? " " : ""
            return ticks + pad + flat + pad + ticks
        }
    }.joined()
}

// MARK: - HTML

extension ReportDocument {
    /// The report as one self-contained HTML page: styles in the head, every figure's SVG inline.
    public func html() throws -> String {
        try validate()
        var svgs: [String: String] = [:]
        for figure in figures { svgs[figure.figure.name] = try figure.figure.svg() }
        return html(svgs: svgs)
    }

    func html(svgs: [String: String]) -> String {
        var out = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(htmlEscape(title))</title>
        <style>
        body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; color: #222; margin: 0; background: #fafafa; }
        main { max-width: 1200px; margin: 0 auto; padding: 1.5em 2em 4em; background: #fff; }
        h1, h2, h3 { font-weight: 600; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; margin-top: 1.8em; }
        table { border-collapse: collapse; margin: 1em 0; font-size: .95em; }
        caption { caption-side: top; text-align: left; font-style: italic; padding-bottom: .3em; }
        th, td { border: 1px solid #ccc; padding: .3em .7em; } th { background: #f0f0f0; }
        td.right { text-align: right; font-variant-numeric: tabular-nums; } td.center { text-align: center; }
        pre { background: #f4f4f4; border: 1px solid #ddd; padding: .8em 1em; overflow-x: auto; }
        code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .92em; }
        figure { margin: 1.5em 0; } figure svg { max-width: 100%; height: auto; display: block; }
        figcaption { font-size: .95em; color: #444; margin-top: .4em; }
        </style>
        </head>
        <body>
        <main>
        <h1>\(htmlEscape(title))</h1>

        """
        var figureNumber = 0
        for block in blocks {
            switch block {
            case .heading(let level, let text):
                out += "<h\(level)>" + htmlEscape(text) + "</h\(level)>\n"
            case .paragraph(let text):
                out += "<p>" + htmlInline(text) + "</p>\n"
            case .bulletList(let items):
                out += "<ul>\n" + items.map { "<li>" + htmlInline($0) + "</li>\n" }.joined() + "</ul>\n"
            case .table(let table):
                out += "<table>\n"
                if let caption = table.caption { out += "<caption>" + htmlEscape(caption) + "</caption>\n" }
                out += "<thead><tr>" + table.header.map { "<th>" + htmlEscape($0) + "</th>" }.joined() + "</tr></thead>\n<tbody>\n"
                for row in table.rows {
                    out += "<tr>" + row.enumerated().map { i, cell -> String in
                        switch i < table.alignments.count ? table.alignments[i] : .left {
                        case .left: return "<td>" + htmlEscape(cell) + "</td>"
                        case .right: return "<td class=\"right\">" + htmlEscape(cell) + "</td>"
                        case .center: return "<td class=\"center\">" + htmlEscape(cell) + "</td>"
                        }
                    }.joined() + "</tr>\n"
                }
                out += "</tbody>\n</table>\n"
            case .figure(let figure):
                figureNumber += 1
                out += "<figure id=\"figure-\(htmlEscape(figure.figure.name))\">\n"
                out += svgs[figure.figure.name] ?? ""
                out += "<figcaption>Figure \(figureNumber). " + htmlEscape(figure.caption)
                    + " (<a href=\"" + htmlEscape(figure.relativePath) + "\">SVG</a>)</figcaption>\n</figure>\n"
            case .code(let code, let language):
                let languageClass = language.map { " class=\"language-" + htmlEscape($0) + "\"" } ?? ""
                out += "<pre><code\(languageClass)>" + htmlEscape(code) + "</code></pre>\n"
            }
        }
        out += "</main>\n</body>\n</html>\n"
        return out
    }
}

/// Escapes text for HTML content and attribute values (same rules as XML, control characters dropped).
func htmlEscape(_ s: String) -> String { xmlEscape(s) }

func htmlInline(_ text: RichText) -> String {
    text.parts.map { part -> String in
        switch part {
        case .text(let s): return htmlEscape(s)
        case .code(let s): return "<code>" + htmlEscape(s) + "</code>"
        case .strong(let s): return "<strong>" + htmlEscape(s) + "</strong>"
        case .emphasis(let s): return "<em>" + htmlEscape(s) + "</em>"
        case .link(let s, let url): return "<a href=\"" + htmlEscape(url) + "\">" + htmlEscape(s) + "</a>"
        }
    }.joined()
}

// MARK: - Writing a report folder

/// What `ReportWriter.write` produced.
public struct ReportOutput: Sendable, Equatable {
    public var markdown: URL
    public var html: URL
    public var svgFiles: [URL]
    public var pngFiles: [URL]
    /// True when `rsvg-convert` was found and made the PNGs; false when it is not installed.
    public var pngConverterRan: Bool
}

public enum ReportWriter {
    /// Writes every figure's SVG (and a PNG beside it when `rsvg-convert` is installed and `png` is
    /// true), then `report.md` and `report.html`, all atomically, into `directory`.
    /// Each figure is rendered once; the same SVG text goes into its file and into the HTML.
    public static func write(_ document: ReportDocument, to directory: URL, png: Bool = true,
                             markdownName: String = "report.md", htmlName: String = "report.html") throws -> ReportOutput {
        try document.validate()
        var svgs: [String: String] = [:]
        var svgFiles: [URL] = [], pngFiles: [URL] = []
        var converterRan = false
        for figure in document.figures {
            let svg = try figure.figure.svg()
            svgs[figure.figure.name] = svg
            let url = directory.appendingPathComponent(figure.relativePath)
            try AtomicFile.write(svg, to: url)
            svgFiles.append(url)
            if png {
                let pngURL = url.deletingPathExtension().appendingPathExtension("png")
                if try PNGConverter.convert(svg: url, to: pngURL) == .converted {
                    converterRan = true
                    pngFiles.append(pngURL)
                }
            }
        }
        let markdownURL = directory.appendingPathComponent(markdownName)
        let htmlURL = directory.appendingPathComponent(htmlName)
        try AtomicFile.write(try document.markdown(), to: markdownURL)
        try AtomicFile.write(document.html(svgs: svgs), to: htmlURL)
        return ReportOutput(markdown: markdownURL, html: htmlURL, svgFiles: svgFiles, pngFiles: pngFiles, pngConverterRan: converterRan)
    }
}
