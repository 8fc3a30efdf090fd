import Foundation
import XCTest
@testable import Reporting

final class ReportTests: XCTestCase {
    func sampleFigure(_ name: String) -> Figure {
        Figure(name: name, panels: [Panel("p", .xy(XYPlot(xAxis: Axis("epoch"), yAxis: Axis("MSE", scale: .log10),
                                                           series: [.line(LineSeries("run", x: [1, 2, 3], y: [1, 0.1, 0.01]))])))])
    }

    func sampleDocument() -> ReportDocument {
        ReportDocument(title: "DMD | surrogate <report>", blocks: [
            .heading(2, "Setup"),
            .paragraph(RichText([.text("Config "), .code("configs/paper.toml"), .text(", "), .strong("3000"), .text(" epochs; a*b_c "),
                                 .link("formulation", url: "../docs/formulation.md")])),
            .bulletList(["first", RichText([.emphasis("second")])]),
            .table(ReportTable(header: ["quantity", "paper", "this run"],
                               rows: [["MSE ratio | 3000 epochs", "1e-2", "3.1e-2"], ["m, s", "14, 55", "14, 55"]],
                               alignments: [.left, .right, .right], caption: "Paper vs this run")),
            .figure(ReportFigure(sampleFigure("loss"), caption: "Loss & curves")),
            .figure(ReportFigure(sampleFigure("other"), relativePath: "figures/sub/other.svg", caption: "Second")),
            .code("./pipeline.sh configs/paper.toml\n", language: "sh"),
        ])
    }

    func testMarkdownHasTablesLinksAndFences() throws {
        let md = try sampleDocument().markdown()
        XCTAssertTrue(md.hasPrefix("# DMD \\| surrogate \\<report\\>\n"))
        XCTAssertTrue(md.contains("\n## Setup\n"))
        XCTAssertTrue(md.contains("Config `configs/paper.toml`, **3000** epochs; a\\*b\\_c [formulation](../docs/formulation.md)"))
        XCTAssertTrue(md.contains("- first\n- *second*\n"))
        XCTAssertTrue(md.contains("*Paper vs this run*\n\n| quantity | paper | this run |\n| --- | ---: | ---: |\n"))
        XCTAssertTrue(md.contains("| MSE ratio \\| 3000 epochs | 1e-2 | 3.1e-2 |\n"))
        XCTAssertTrue(md.contains("![Figure 1. Loss \\& curves](figures/loss.svg)"))
        XCTAssertTrue(md.contains("![Figure 2. Second](figures/sub/other.svg)"))
        XCTAssertTrue(md.contains("```sh\n./pipeline.sh configs/paper.toml\n```\n"))
        // Text that would start a list is escaped.
        let listy = try ReportDocument(title: "t", blocks: [.paragraph("- not a list"), .paragraph("1. not a list either"),
                                                            .bulletList(["2) item"])]).markdown()
        XCTAssertTrue(listy.contains("\n\\- not a list\n"))
        XCTAssertTrue(listy.contains("\n1\\. not a list either\n"))
        XCTAssertTrue(listy.contains("\n- 2\\) item\n"))
        // A code block containing a fence gets a longer fence.
        let fenced = try ReportDocument(title: "t", blocks: [.code("```\nx\n```")]).markdown()
        XCTAssertTrue(fenced.contains("````\n```\nx\n```\n````\n"))
    }

    func testHTMLIsSelfContainedWithInlineSVGs() throws {
        let document = sampleDocument()
        let html = try document.html()
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertEqual(html.components(separatedBy: "<svg xmlns=\"http://www.w3.org/2000/svg\"").count - 1, 2)
        XCTAssertFalse(html.contains("<img"))                 // nothing loaded from elsewhere
        XCTAssertFalse(html.contains("<link"))
        XCTAssertFalse(html.contains("<script"))
        XCTAssertTrue(html.contains("<title>DMD | surrogate &lt;report&gt;</title>"))
        XCTAssertTrue(html.contains("<code>configs/paper.toml</code>"))
        XCTAssertTrue(html.contains("<td class=\"right\">3.1e-2</td>"))
        XCTAssertTrue(html.contains("<figcaption>Figure 1. Loss &amp; curves"))
        XCTAssertTrue(html.contains("<pre><code class=\"language-sh\">./pipeline.sh configs/paper.toml\n</code></pre>"))
        // The page (made XML-compatible by closing the two void elements) parses, holds both
        // figures' SVG trees, and every id on the page is unique.
        let xml = html.replacingOccurrences(of: "<!DOCTYPE html>\n", with: "")
            .replacingOccurrences(of: "<meta charset=\"utf-8\">", with: "<meta charset=\"utf-8\"/>")
            .replacingOccurrences(of: "initial-scale=1\">", with: "initial-scale=1\"/>")
        let elements = try parseXML(xml)
        XCTAssertEqual(elements.named("svg").map { $0.attributes["id"] }, ["f-loss", "f-other"])
        XCTAssertEqual(elements.named("polyline").count, 2)
        let ids = elements.compactMap { $0.attributes["id"] }
        XCTAssertEqual(Set(ids).count, ids.count, "duplicate ids: \(ids)")
    }

    func testInvalidDocumentsAreRejected() {
        func message(_ blocks: [ReportBlock]) -> String {
            do { _ = try ReportDocument(title: "t", blocks: blocks).markdown(); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(message([.figure(ReportFigure(sampleFigure("a"), caption: "")), .figure(ReportFigure(sampleFigure("a"), relativePath: "x/a.svg", caption: ""))])
            .contains("two figures are named 'a'"))
        XCTAssertTrue(message([.figure(ReportFigure(sampleFigure("a"), relativePath: "../a.svg", caption: ""))]).contains("inside the report folder"))
        XCTAssertTrue(message([.figure(ReportFigure(sampleFigure("a"), relativePath: "/tmp/a.svg", caption: ""))]).contains("inside the report folder"))
        XCTAssertTrue(message([.table(ReportTable(header: ["a", "b"], rows: [["1"]]))]).contains("row 1 has 1 cells for 2 columns"))
        XCTAssertTrue(message([.heading(7, "x")]).contains("heading level 7"))
    }

    func testWriterWritesEverythingAndReportsPNGConversion() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = try ReportWriter.write(sampleDocument(), to: folder)
        XCTAssertEqual(output.svgFiles.map(\.lastPathComponent), ["loss.svg", "other.svg"])
        for url in output.svgFiles + [output.markdown, output.html] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: url.path), url.path)
        }
        // The SVG file and the inline copy are the same rendering.
        let svg = try String(contentsOf: output.svgFiles[0], encoding: .utf8)
        XCTAssertTrue(try String(contentsOf: output.html, encoding: .utf8).contains(svg))
        _ = try parseXML(svg)
        let converterInstalled = PNGConverter.converterPath() != nil
        XCTAssertEqual(output.pngConverterRan, converterInstalled)
        XCTAssertEqual(output.pngFiles.map(\.lastPathComponent), converterInstalled ? ["loss.png", "other.png"] : [])
        // No temporary files are left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("figures").path)
            .filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [])
    }

    func testPNGConversionIsSkippedWithoutConverter() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("png-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let svgURL = folder.appendingPathComponent("a.svg"), pngURL = folder.appendingPathComponent("a.png")
        try sampleFigure("a").write(to: svgURL)
        XCTAssertNil(PNGConverter.converterPath(environment: ["PATH": "/nonexistent"]))
        XCTAssertEqual(try PNGConverter.convert(svg: svgURL, to: pngURL, environment: ["PATH": "/nonexistent"]), .converterMissing)
        XCTAssertFalse(FileManager.default.fileExists(atPath: pngURL.path))
    }

    func testPNGConversionRunsWhenInstalled() throws {
        guard PNGConverter.converterPath() != nil else { throw XCTSkip("rsvg-convert is not installed") }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("png-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let svgURL = folder.appendingPathComponent("a.svg"), pngURL = folder.appendingPathComponent("a.png")
        try sampleFigure("a").write(to: svgURL)
        XCTAssertEqual(try PNGConverter.convert(svg: svgURL, to: pngURL, zoom: 1), .converted)
        let png = try Data(contentsOf: pngURL)
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        // IHDR width and height (big-endian at bytes 16…23) equal the SVG size at zoom 1: 460 × 340.
        let width = png[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = png[20..<24].reduce(0) { $0 << 8 | Int($1) }
        XCTAssertEqual([width, height], [460, 340])
        // A broken SVG gives an error naming the file, not a silent success.
        let broken = folder.appendingPathComponent("broken.svg")
        try "<svg".write(to: broken, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try PNGConverter.convert(svg: broken, to: folder.appendingPathComponent("broken.png"))) {
            XCTAssertTrue("\($0)".contains("broken.svg"))
        }
    }
}
