import Foundation
import XCTest
@testable import Surrogates
@testable import Reporting

/// Renders every catalogue figure from synthetic data, writes a whole report folder and checks that
/// every file is well-formed. Set REPORTING_GALLERY=/some/folder to keep the output for viewing.
final class GalleryTests: XCTestCase {
    func testCatalogueFiguresRenderAndReportIsWritten() throws {
        let folder: URL
        let keep = ProcessInfo.processInfo.environment["REPORTING_GALLERY"]
        if let keep { folder = URL(fileURLWithPath: keep) } else {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("reporting-gallery-\(UUID().uuidString)")
        }
        defer { if keep == nil { try? FileManager.default.removeItem(at: folder) } }

        let plain = try HistoryTable.parse(Synthetic.historyCSV(epochs: 3000, dmd: false, secondsPerEpoch: 0.2), source: "plain/history.csv")
        let dmd = try HistoryTable.parse(Synthetic.historyCSV(epochs: 3000, dmd: true, secondsPerEpoch: 0.2), source: "dmd/history.csv")
        let mValues = Array(stride(from: 2, through: 20, by: 2)), sValues = Array(stride(from: 5, through: 100, by: 5))
        func study(_ offset: Double) -> [[Double]] {
            mValues.map { m in sValues.map { s in
                let a = Double(m), b = Double(s)
                return 0.05 + offset + 0.6 * exp(-a / 6) + pow((b - 55) / 60, 2) * (1.5 - a / 20)
            } }
        }
        var training = study(0), test = study(0.02)
        training[0][3] = .nan   // a pair that was not run: left empty
        let truth = Synthetic.plume(strength: 0.05, spread: 0.02, tilt: 0.2)
        let plainPrediction = Synthetic.plume(strength: 0.047, spread: 0.024, tilt: 0.17)
        let dmdPrediction = Synthetic.plume(strength: 0.0495, spread: 0.021, tilt: 0.195)
        var noise = Synthetic.Noise(state: 11)
        func eigen(_ n: Int, radius: Double) -> FigureCatalogue.ComplexPoints {
            var re: [Double] = [], im: [Double] = []
            for k in 0..<n {
                let angle = Double(k) * 0.35 * (k % 2 == 0 ? 1 : -1)
                let r = radius * (1 + 0.03 * noise.next())
                re.append(r * cos(angle)); im.append(r * sin(angle))
            }
            return FigureCatalogue.ComplexPoints("", real: re, imaginary: im)
        }
        var layers = [eigen(13, radius: 0.99), eigen(13, radius: 0.95), eigen(12, radius: 0.9), eigen(13, radius: 1.0)]
        for i in layers.indices { layers[i].label = "layer \(i + 1)" }

        var document = ReportDocument(title: "Gallery <synthetic> & checks")
        document.append(.heading(2, "Figures"))
        document.append(.paragraph(RichText([.text("Synthetic data; "), .code("history.csv"), .text(" columns.")])))
        document.append(.figure(ReportFigure(FigureCatalogue.lossCurves([.init("plain Adam", plain), .init("DMD m=14, s=55", dmd)]),
                                             caption: "Loss curves")))
        document.append(.figure(ReportFigure(FigureCatalogue.jumpRatios(dmd), caption: "Jump ratios")))
        document.append(.figure(ReportFigure(FigureCatalogue.stepStudy(mValues: mValues, sValues: sValues, training: training, test: test,
                                                                       chosen: (14, 55)), caption: "(m, s) study")))
        document.append(.figure(ReportFigure(FigureCatalogue.fieldComparison(x: Synthetic.gridX, y: Synthetic.gridY, truth: truth,
                                                                             predictions: [("plain", plainPrediction), ("DMD", dmdPrediction)],
                                                                             sampleLabel: "test sample 17", name: "field_sample_17"),
                                             caption: "c3 fields")))
        document.append(.figure(ReportFigure(FigureCatalogue.eigenvalues([("jump 1 (epoch 14)", layers), ("jump 100 (epoch 1400)", Array(layers.prefix(2)))]),
                                             caption: "Eigenvalues")))
        document.append(.figure(ReportFigure(FigureCatalogue.timePerEpoch([("plain", try TimeBreakdown(history: plain)),
                                                                           ("DMD m=14", try TimeBreakdown(history: dmd))]),
                                             caption: "Time per epoch")))
        // Edge cases of the axis machinery, in one figure to look at.
        let tiny = XYPlot(xAxis: Axis("x"), yAxis: Axis("tiny values"), series: [
            .line(LineSeries("3e-5 sin", x: (0...50).map { Double($0) / 5 }, y: (0...50).map { 3e-5 * sin(Double($0) / 5) }, dash: .dashed)),
            .scatter(ScatterSeries("markers", x: [1, 3, 5, 7], y: [1e-5, -2e-5, 2.5e-5, 0], marker: .diamond, size: 8)),
        ], referenceLines: [ReferenceLine(.vertical, at: 6, label: "x = 6")], legend: .outside)
        let shortLog = XYPlot(xAxis: Axis("epoch", scale: .log10), yAxis: Axis("MSE", scale: .log10),
                              series: [.line(LineSeries("loss", x: (1...300).map(Double.init), y: (1...300).map { 0.02 + 0.05 / Double($0) }))])
        let annotated = Heatmap(rowLabels: ["2", "4", "6"], columnLabels: ["5", "10", "15", "20"],
                                values: [[0.9, 0.5, 0.4, 0.7], [0.6, 0.3, 0.2, 0.5], [0.5, 0.25, 0.12, 0.4]],
                                rowAxisLabel: "m", columnAxisLabel: "s", colorBarLabel: "ratio", annotate: true, highlighted: [(2, 2)])
        let scattered = FieldMap(geometry: .scattered(x: Synthetic.gridX.map { $0 * 2 }, y: Synthetic.gridX.map { sin($0 * 6) }, markerSize: 7),
                                 values: Synthetic.gridX.map { $0 * $0 }, colorScale: ColorScale(scale: .log10), colorBarLabel: "x² (log)",
                                 equalAspect: false)
        document.append(.figure(ReportFigure(Figure(name: "edge_cases", title: "Axis edge cases",
                                                    panels: [Panel("power labels, outside legend", .xy(tiny)), Panel("log–log, short range", .xy(shortLog)),
                                                             Panel("annotated heatmap", .heatmap(annotated)), Panel("scattered field, log colours", .field(scattered))],
                                                    columns: 2), caption: "Edge cases")))
        let output = try ReportWriter.write(document, to: folder)
        XCTAssertEqual(output.svgFiles.count, 7)
        for url in output.svgFiles {
            let elements = try parseXML(String(contentsOf: url, encoding: .utf8))
            XCTAssertEqual(elements.first?.name, "svg", url.lastPathComponent)
        }
        XCTAssertEqual(output.pngConverterRan, PNGConverter.converterPath() != nil)
        XCTAssertEqual(output.pngFiles.count, output.pngConverterRan ? 7 : 0)
        for url in output.pngFiles {
            let data = try Data(contentsOf: url)
            XCTAssertEqual(Array(data.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "PNG signature of \(url.lastPathComponent)")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: output.markdown.path))
        XCTAssertEqual(try parseXML(String(contentsOf: output.html, encoding: .utf8)
                                    .replacingOccurrences(of: "<!DOCTYPE html>\n", with: "")
                                    .replacingOccurrences(of: "<meta charset=\"utf-8\">", with: "<meta charset=\"utf-8\"/>")
                                    .replacingOccurrences(of: "initial-scale=1\">", with: "initial-scale=1\"/>")).named("svg").count, 7)
    }
}
