import Foundation
import XCTest
@testable import Reporting

final class SVGTests: XCTestCase {
    /// Coordinates are written with two decimals, so a mapped point is within 0.005 px of the exact
    /// value; 0.011 px allows for the rounding of both the point and the frame it is compared with.
    let pixelTolerance = 0.011

    func frame(_ elements: [XMLElementRecord]) throws -> (left: Double, top: Double, right: Double, bottom: Double) {
        let rect = try XCTUnwrap(elements.named("rect").withClass("frame").first)
        let x = try XCTUnwrap(rect.number("x")), y = try XCTUnwrap(rect.number("y"))
        return (x, y, x + rect.number("width")!, y + rect.number("height")!)
    }

    func points(_ polyline: XMLElementRecord) -> [(Double, Double)] {
        (polyline.attributes["points"] ?? "").split(separator: " ").map { pair in
            let xy = pair.split(separator: ",").map { Double($0)! }
            return (xy[0], xy[1])
        }
    }

    func testLinearMappingOfKnownPoints() throws {
        let plot = XYPlot(xAxis: Axis("x", range: 0...10), yAxis: Axis("y", range: 0...100),
                          series: [.line(LineSeries("a", x: [0, 10, 5, 2.5], y: [0, 100, 50, 75]))], legend: .none)
        let svg = try Figure(name: "mapping", panels: [Panel(nil, .xy(plot))], panelWidth: 400, panelHeight: 300).svg()
        let elements = try parseXML(svg)
        let f = try frame(elements)
        let line = try XCTUnwrap(elements.named("polyline").first)
        let p = points(line)
        XCTAssertEqual(p.count, 4)
        // (0, 0) at the bottom-left corner of the frame, (10, 100) at the top-right, (5, 50) at the
        // centre, (2.5, 75) a quarter across and a quarter down.
        let expected = [(f.left, f.bottom), (f.right, f.top), ((f.left + f.right) / 2, (f.top + f.bottom) / 2),
                        (f.left + (f.right - f.left) / 4, f.top + (f.bottom - f.top) / 4)]
        for (got, want) in zip(p, expected) {
            XCTAssertEqual(got.0, want.0, accuracy: pixelTolerance)
            XCTAssertEqual(got.1, want.1, accuracy: pixelTolerance)
        }
        // Nice ticks for 0…10 on ~300 px: 0, 2, 4, …, 10 (step 2), labelled as integers.
        let xTicks = elements.named("line").withClass("x-tick").compactMap { $0.number("data-value") }
        XCTAssertEqual(xTicks, [0, 2, 4, 6, 8, 10])
        let labels = elements.named("text").inside(classToken: "x-tick-labels").map(\.text)
        XCTAssertEqual(labels, ["0", "2", "4", "6", "8", "10"])
    }

    func testLogAxisTicksAtPowersOfTenEquallySpaced() throws {
        let plot = XYPlot(xAxis: Axis("epoch"), yAxis: Axis("MSE", scale: .log10),
                          series: [.line(LineSeries("loss", x: [1, 2, 3, 4], y: [0.5, 0.05, 0.004, 0.0012]))])
        let elements = try parseXML(try Figure(name: "log", panels: [Panel(nil, .xy(plot))]).svg())
        let major = elements.named("line").withClass("y-tick").filter { $0.attributes["class"]!.contains("major") }
        // Data in [1.2e-3, 0.5] → the axis spans the enclosing decades 1e-3 … 1.
        XCTAssertEqual(major.compactMap { $0.number("data-value") }, [0.001, 0.01, 0.1, 1])
        let positions = major.compactMap { $0.number("y1") }
        let spacing = positions[0] - positions[1]
        XCTAssertGreaterThan(spacing, 10)
        for k in 1..<positions.count - 1 {
            XCTAssertEqual(positions[k] - positions[k + 1], spacing, accuracy: 2 * pixelTolerance)   // equal per decade
        }
        let f = try frame(elements)
        XCTAssertEqual(positions.first!, f.bottom, accuracy: pixelTolerance)
        XCTAssertEqual(positions.last!, f.top, accuracy: pixelTolerance)
        // 0.05 sits log10(5) of a decade above 0.01.
        let p = points(try XCTUnwrap(elements.named("polyline").first))
        XCTAssertEqual(p[1].1, positions[1] - log10(5) * spacing, accuracy: 2 * pixelTolerance)
        // Labels are 10 with a raised exponent −3 … 0; minor ticks at 2…9 × 10^k.
        let labels = elements.named("text").inside(classToken: "y-tick-labels")
        XCTAssertEqual(labels.map(\.text), ["10−3", "10−2", "10−1", "100"])
        XCTAssertEqual(elements.named("tspan").count, 4)
        XCTAssertEqual(elements.named("line").withClass("y-tick").filter { $0.attributes["class"]!.contains("minor") }.count, 8 * 3)
    }

    func testShortLogRangeGetsOneTwoFiveLabels() {
        let ticks = Ticks.log(0.1...1, maxLabels: 8)
        XCTAssertEqual(ticks.filter { $0.label != nil }.map(\.value), [0.1, 0.2, 0.5, 1])
        XCTAssertEqual(ticks.filter { $0.label != nil }.map(\.label), [.plain("0.1"), .plain("0.2"), .plain("0.5"), .plain("1")])
        // Many decades: every other decade labelled so labels never crowd.
        let wide = Ticks.log(1e-12...1, maxLabels: 6)
        XCTAssertEqual(wide.filter { $0.label != nil }.map(\.value), [1e-12, 1e-9, 1e-6, 1e-3, 1])
    }

    func testShortLogDataGetsOneTwoFiveEnds() {
        // Under two decades of data: the enclosing 1, 2, 5 × 10^k, not the enclosing decades.
        XCTAssertEqual(Ticks.autoLogRange(150, 2400), 100...5000)
        XCTAssertEqual(Ticks.autoLogRange(0.0018, 0.0081), 0.001...0.01)
        XCTAssertEqual(Ticks.autoLogRange(0.0148, 0.041), 0.01...0.05)
        let upper = Ticks.autoLogRange(2.000000000001, 19.99999999)   // a rounding from 2 and 20 is 2 and 20
        XCTAssertEqual(upper.lowerBound, 2, accuracy: 1e-12)
        XCTAssertEqual(upper.upperBound, 20, accuracy: 1e-12)
        XCTAssertEqual(Ticks.autoLogRange(3, 3), 2...5, "a constant: the 1, 2, 5 steps around it")
        XCTAssertEqual(Ticks.autoLogRange(10, 10), 1...100, "a power of ten: one decade each side")
        // Two decades or more: the enclosing decades, as before.
        XCTAssertEqual(Ticks.autoLogRange(0.0012, 0.5), 0.001...1)
        // The short axis is labelled 1, 2, 5 × 10^k from end to end.
        let ticks = Ticks.log(Ticks.autoLogRange(150, 2400), maxLabels: 8)
        XCTAssertEqual(ticks.filter { $0.label != nil }.map(\.value), [100, 200, 500, 1000, 2000, 5000])
    }

    func testNiceLinearTicksAndLabels() {
        XCTAssertEqual(Ticks.linear(0...1, target: 5).map(\.value), [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1])
        XCTAssertEqual(Ticks.linear(0...1, target: 5).map(\.label), ["0", "0.2", "0.4", "0.6", "0.8", "1.0"].map { .plain($0) })
        // Span 0.074 / 5 = 0.0148 → step 0.01 → widened to the enclosing multiples 0.01 … 0.09.
        let range = Ticks.autoLinearRange(0.013, 0.087, target: 5)
        XCTAssertEqual(range.lowerBound, 0.01, accuracy: 1e-15)
        XCTAssertEqual(range.upperBound, 0.09, accuracy: 1e-15)
        // A constant is widened around itself by 10 % (4.5 … 5.5), then to multiples of the step 0.2.
        let constant = Ticks.autoLinearRange(5, 5, target: 5)
        XCTAssertEqual(constant.lowerBound, 4.4, accuracy: 1e-14)
        XCTAssertEqual(constant.upperBound, 5.6, accuracy: 1e-14)
        XCTAssertEqual(Ticks.linear(-2...2, target: 4).compactMap(\.label), ["−2", "−1", "0", "1", "2"].map { .plain($0) })
        XCTAssertEqual(Ticks.label(2.5e-4, step: 5e-5), .power(mantissa: "2.5", exponent: -4))
        XCTAssertEqual(Ticks.label(3e6, step: 1e6), .power(mantissa: "3", exponent: 6))
    }

    func testNonFiniteValuesAreSkippedAndBreakLines() throws {
        let plot = XYPlot(xAxis: Axis("x"), yAxis: Axis("y", scale: .log10), series: [
            .line(LineSeries("gap", x: [1, 2, 3, 4, 5, 6], y: [1, 2, .nan, 4, 5, 6])),
            .line(LineSeries("log zero", x: [1, 2, 3, 4], y: [1, 0, 3, 4])),
            .scatter(ScatterSeries("points", x: [1, .infinity, 3, 4], y: [1, 2, -.infinity, 2])),
        ])
        let svg = try Figure(name: "gaps", panels: [Panel(nil, .xy(plot))]).svg()
        let elements = try parseXML(svg)
        // "gap": two runs (1–2, 4–6); "log zero": the single point 1 is dropped, run 3–4 remains.
        let lines = elements.named("polyline")
        XCTAssertEqual(lines.withClass("s0").map { points($0).count }, [2, 3])
        XCTAssertEqual(lines.withClass("s1").map { points($0).count }, [2])
        XCTAssertEqual(elements.named("circle").withClass("marker").count, 2)
        XCTAssertFalse(svg.lowercased().contains("nan"))
        XCTAssertFalse(svg.lowercased().contains("inf"))
        XCTAssertEqual(elements.named("g").withClass("legend").count, 1)
        XCTAssertEqual(elements.inside(classToken: "legend").named("text").map(\.text), ["gap", "log zero", "points"])
    }

    /// Automatic legend placement counts the lines, not only their vertices: a line that cuts the
    /// top-right corner between two vertices outside it (and the bottom-left one on its way up) sends
    /// the legend to the top left, the one corner it leaves free.
    func testAutomaticLegendAvoidsACornerALineCutsBetweenVertices() throws {
        let plot = XYPlot(xAxis: Axis("x"), yAxis: Axis("y"), series: [.line(LineSeries("crossing", x: [0, 8.5, 10], y: [0, 10, 9.5]))])
        let elements = try parseXML(try Figure(name: "legend", panels: [Panel(nil, .xy(plot))]).svg())
        let area = try XCTUnwrap(elements.named("rect").withClass("plot-background").first)
        let legend = try XCTUnwrap(elements.inside(classToken: "legend").named("rect").first)
        let (left, top, width, height) = (area.number("x")!, area.number("y")!, area.number("width")!, area.number("height")!)
        XCTAssertLessThan(legend.number("x")! + legend.number("width")!, left + width / 2, "the legend is in the left half")
        XCTAssertLessThan(legend.number("y")! + legend.number("height")!, top + height / 2, "the legend is in the top half")
    }

    /// With every corner crossed (two diagonals), the automatic legend goes to the right of the plot area.
    func testAutomaticLegendLeavesThePlotWhenEveryCornerIsCrossed() throws {
        let plot = XYPlot(xAxis: Axis("x"), yAxis: Axis("y"), series: [.line(LineSeries("rising", x: [0, 10], y: [0, 10])),
                                                                         .line(LineSeries("falling", x: [0, 10], y: [10, 0]))])
        let elements = try parseXML(try Figure(name: "legend", panels: [Panel(nil, .xy(plot))]).svg())
        let area = try XCTUnwrap(elements.named("rect").withClass("plot-background").first)
        let legend = try XCTUnwrap(elements.inside(classToken: "legend").named("rect").first)
        XCTAssertGreaterThan(legend.number("x")!, area.number("x")! + area.number("width")!, "the legend is right of the plot area")
    }

    func testTextIsEscaped() throws {
        let title = "a < b & c > \"d\" 'e'\u{1}"
        let plot = XYPlot(xAxis: Axis("x & y"), yAxis: Axis("<y>"), series: [.line(LineSeries("</text>", x: [0, 1], y: [0, 1]))])
        let svg = try Figure(name: "escape", title: title, panels: [Panel("p&q", .xy(plot))]).svg()
        let elements = try parseXML(svg)
        XCTAssertEqual(elements.named("title").first?.text, "a < b & c > \"d\" 'e'")   // control character dropped
        XCTAssertEqual(elements.withClass("figure-title").first?.text, "a < b & c > \"d\" 'e'")
        XCTAssertEqual(elements.withClass("x-label").first?.text, "x & y")
        XCTAssertEqual(elements.withClass("panel-title").first?.text, "p&q")
        XCTAssertTrue(elements.named("text").contains { $0.text == "</text>" })
    }

    func testScatterMarkersAndComplexPlane() throws {
        let eigen = [ScatterSeries("layer 1", x: [1, 0, -0.5], y: [0, 1, 0.5]),
                     ScatterSeries("layer 2", x: [0.9, 1.5], y: [0.1, 0], marker: .square)]
        let elements = try parseXML(try Figure(name: "eig", panels: [Panel("jump 1", .xy(.complexPlane(eigen)))]).svg())
        XCTAssertEqual(elements.inside(classToken: "s0").named("circle").count, 3)
        XCTAssertEqual(elements.inside(classToken: "s1").named("rect").count, 2)
        let circle = try XCTUnwrap(elements.named("ellipse").withClass("unit-circle").first)
        let rx = try XCTUnwrap(circle.number("rx")), ry = try XCTUnwrap(circle.number("ry"))
        XCTAssertEqual(rx, ry, accuracy: pixelTolerance)          // equal aspect: a circle, not an ellipse
        // λ = 1 lies on the circle: the first marker of layer 1 is rx to the right of the centre.
        let first = elements.inside(classToken: "s0").named("circle")[0]
        XCTAssertEqual(first.number("cx")! - circle.number("cx")!, rx, accuracy: 2 * pixelTolerance)
        XCTAssertEqual(first.number("cy")!, circle.number("cy")!, accuracy: 2 * pixelTolerance)
        // λ = 1.5 (outside the circle) is still inside the plot.
        let f = try frame(elements)
        let outer = elements.inside(classToken: "s1").named("rect")[1]
        XCTAssertLessThan(outer.number("x")!, f.right)
    }

    func testHeatmapCellsColoursAndHighlight() throws {
        let values: [[Double]] = [[1, 2, 3], [4, .nan, 6]]
        let map = Heatmap(rowLabels: ["2", "4"], columnLabels: ["5", "10", "15"], values: values, rowAxisLabel: "m",
                          columnAxisLabel: "s", colorBarLabel: "mean relative error", annotate: true, highlighted: [(1, 2)])
        let elements = try parseXML(try Figure(name: "heat", panels: [Panel(nil, .heatmap(map))]).svg())
        let cells = elements.named("rect").withClass("cell")
        XCTAssertEqual(cells.count, 5)                          // the NaN cell is not drawn
        XCTAssertEqual(cells.first?.attributes["fill"], ColorMap.viridis.anchors.first!.hexString)   // minimum → viridis(0)
        XCTAssertEqual(cells.last?.attributes["fill"], ColorMap.viridis.anchors.last!.hexString)     // maximum → viridis(1)
        // Row 0 is drawn below row 1 (m grows upward).
        XCTAssertGreaterThan(cells[0].number("y")!, cells[3].number("y")!)
        let highlight = try XCTUnwrap(elements.named("rect").withClass("highlight").first)
        XCTAssertEqual(highlight.number("x")!, cells[4].number("x")!, accuracy: pixelTolerance)
        XCTAssertEqual(highlight.number("y")!, cells[4].number("y")!, accuracy: pixelTolerance)
        XCTAssertEqual(elements.inside(classToken: "annotations").named("text").map(\.text), ["1.0", "2.0", "3.0", "4.0", "6.0"])
        XCTAssertEqual(elements.withClass("colorbar-label").first?.text, "mean relative error")
        XCTAssertEqual(elements.named("linearGradient").count, 1)
        XCTAssertEqual(elements.named("stop").count, ColorMap.viridis.anchors.count)
        XCTAssertEqual(elements.inside(classToken: "x-tick-labels").named("text").map(\.text), ["5", "10", "15"])
    }

    func testFieldMapCellsSpanMidpointsOfAGradedGrid() throws {
        // x = 0, 0.2, 1 → cell edges 0, 0.1, 0.6, 1; y = 0, 1 → edges 0, 0.5, 1.
        let field = FieldMap(geometry: .grid(x: [0, 0.2, 1], y: [0, 1]), values: [1, 2, 3, 4, 5, .nan],
                             colorScale: ColorScale(range: 0...10), colorBarLabel: "c₃")
        let elements = try parseXML(try Figure(name: "field", panels: [Panel(nil, .field(field))]).svg())
        let f = try frame(elements)
        let cells = elements.inside(classToken: "cells").named("rect")
        XCTAssertEqual(cells.count, 5)
        let width = f.right - f.left, height = f.bottom - f.top
        XCTAssertEqual(width, height, accuracy: pixelTolerance)   // equal aspect on a unit square
        let overlap = 0.4   // each cell reaches 0.4 px into its neighbour to avoid seams
        for (k, (x0, x1)) in [(0.0, 0.1), (0.1, 0.6), (0.6, 1.0)].enumerated() {
            XCTAssertEqual(cells[k].number("x")!, f.left + x0 * width, accuracy: pixelTolerance)
            XCTAssertEqual(cells[k].number("width")!, (x1 - x0) * width + overlap, accuracy: 2 * pixelTolerance)
            XCTAssertEqual(cells[k].number("height")!, 0.5 * height + overlap, accuracy: 2 * pixelTolerance)
        }
        // Value 5 of 0…10 is the middle of viridis.
        XCTAssertEqual(cells[4].attributes["fill"], ColorMap.viridis.color(at: 0.5).hexString)
        XCTAssertEqual(elements.withClass("colorbar-label").first?.text, "c₃")
        // Equal neighbours in a row share one rectangle spanning their cells.
        let flat = FieldMap(geometry: .grid(x: [0, 0.2, 1], y: [0, 1]), values: [7, 7, 7, 1, 7, 7], colorScale: ColorScale(range: 0...10))
        let flatElements = try parseXML(try Figure(name: "flat", panels: [Panel(nil, .field(flat))]).svg())
        let flatFrame = try frame(flatElements)
        let merged = flatElements.inside(classToken: "cells").named("rect")
        XCTAssertEqual(merged.count, 3)
        XCTAssertEqual(merged[0].number("width")!, flatFrame.right - flatFrame.left + overlap, accuracy: 2 * pixelTolerance)
        XCTAssertEqual(merged[2].number("x")!, flatFrame.left + 0.1 * width, accuracy: pixelTolerance)
        let barTicks = elements.named("line").withClass("colorbar-tick").compactMap { $0.number("data-value") }
        XCTAssertEqual(barTicks, [0, 2, 4, 6, 8, 10])
    }

    func testScatteredFieldDrawsOneDotPerFinitePoint() throws {
        let field = FieldMap(geometry: .scattered(x: [0, 1, 2, 3], y: [0, 1, 0, .nan], markerSize: 4), values: [1, 2, .nan, 4])
        let elements = try parseXML(try Figure(name: "scatter_field", panels: [Panel(nil, .field(field))]).svg())
        XCTAssertEqual(elements.inside(classToken: "points").named("circle").count, 2)
    }

    func testStackedBarsHeightsAreProportional() throws {
        let bars = StackedBars(categories: ["plain", "DMD"], components: [
            .init("backprop", values: [1.0, 1.0]), .init("snapshot", values: [0, 0.1]), .init("DMD", values: [0, 0.3]),
        ], valueAxis: Axis("seconds per epoch"))
        let elements = try parseXML(try Figure(name: "bars", panels: [Panel(nil, .bars(bars))]).svg())
        let segments = elements.named("rect").withClass("bar-segment")
        XCTAssertEqual(segments.count, 4)                         // zero-height segments are not drawn
        let heights = segments.map { $0.number("height")! }
        XCTAssertEqual(heights[2] / heights[0], 0.1, accuracy: 1e-3)   // 0.1 s vs 1 s (2-decimal px rounding)
        XCTAssertEqual(heights[3] / heights[0], 0.3, accuracy: 1e-3)
        // The DMD bar's segments stack: each starts where the previous ends.
        XCTAssertEqual(segments[2].number("y")! + heights[2], segments[1].number("y")!, accuracy: pixelTolerance)
        XCTAssertEqual(elements.inside(classToken: "bar-totals").named("text").map(\.text), ["1.00", "1.40"])
        XCTAssertEqual(elements.inside(classToken: "legend").named("text").map(\.text), ["DMD", "snapshot", "backprop"])
    }

    func testMultiPanelLayoutAndUniqueIDs() throws {
        let line = Panel("a", .xy(XYPlot(xAxis: Axis(), yAxis: Axis(), series: [.line(LineSeries(nil, x: [0, 1], y: [0, 1]))])))
        let figure = Figure(name: "grid", title: "Four", panels: [line, line, line, .init(nil, .blank)], columns: 2,
                            panelWidth: 300, panelHeight: 200)
        let elements = try parseXML(try figure.svg())
        let svg = try XCTUnwrap(elements.first)
        XCTAssertEqual(svg.number("width"), 600)
        XCTAssertEqual(svg.number("height"), 2 * 200 + 15.5 + 14)
        XCTAssertEqual(elements.named("g").withClass("panel").count, 4)
        let ids = elements.compactMap { $0.attributes["id"] }
        XCTAssertEqual(Set(ids).count, ids.count)
        XCTAssertTrue(ids.allSatisfy { $0.hasPrefix("f-grid") })
    }

    func testInconsistentFiguresAreRejectedWithTheirPanel() {
        func message(_ figure: Figure) -> String {
            do { _ = try figure.svg(); return "" } catch { return "\(error)" }
        }
        let bad = XYPlot(xAxis: Axis(), yAxis: Axis(), series: [.line(LineSeries("loss", x: [1, 2], y: [1]))])
        XCTAssertEqual(message(Figure(name: "f", panels: [Panel("train", .xy(bad))])),
                       "figure f, panel 1 (train): series 1 (loss) has 2 x values and 1 y values")
        XCTAssertTrue(message(Figure(name: "bad name", panels: [Panel(nil, .blank)])).contains("must be non-empty ASCII"))
        let logRange = XYPlot(xAxis: Axis(), yAxis: Axis("y", scale: .log10, range: 0...1), series: [])
        XCTAssertTrue(message(Figure(name: "f", panels: [Panel(nil, .xy(logRange))])).contains("must be > 0"))
        let ragged = Heatmap(rowLabels: ["1", "2"], columnLabels: ["a"], values: [[1], [1, 2]], rowAxisLabel: "", columnAxisLabel: "")
        XCTAssertTrue(message(Figure(name: "f", panels: [Panel(nil, .heatmap(ragged))])).contains("row 1 (2) has 2 values for 1 column labels"))
        let field = FieldMap(geometry: .grid(x: [0, 1, 0.5], y: [0]), values: [1, 2, 3])
        XCTAssertTrue(message(Figure(name: "f", panels: [Panel(nil, .field(field))])).contains("must increase strictly"))
        let negative = StackedBars(categories: ["a"], components: [.init("t", values: [-1])], valueAxis: Axis())
        XCTAssertTrue(message(Figure(name: "f", panels: [Panel(nil, .bars(negative))])).contains("negative value"))
    }

    func testEmptyDataGivesAnAnnotatedPanelNotACrash() throws {
        let plot = XYPlot(xAxis: Axis(), yAxis: Axis("y", scale: .log10), series: [.line(LineSeries("x", x: [1, 2], y: [.nan, -1]))])
        let elements = try parseXML(try Figure(name: "empty", panels: [Panel(nil, .xy(plot))]).svg())
        XCTAssertEqual(elements.withClass("no-data").count, 1)
        XCTAssertEqual(elements.named("polyline").count, 0)
    }

    func testViridisTableRisesInLuminanceAndHitsItsEnds() {
        // Viridis is built so that lightness increases monotonically; a mistyped anchor would break it.
        let map = ColorMap.viridis
        let luminances = (0...100).map { map.color(at: Double($0) / 100).luminance }
        for k in 1..<luminances.count { XCTAssertGreaterThan(luminances[k], luminances[k - 1], "at \(k)%") }
        XCTAssertEqual(map.color(at: 0).hexString, "#440154")
        XCTAssertEqual(map.color(at: 1).hexString, "#fde725")
        XCTAssertEqual(map.color(at: -1), map.color(at: 0))     // clamped
        // The diverging map is grey in the middle and symmetric in luminance at its ends (±10 %).
        let cw = ColorMap.coolWarm
        XCTAssertEqual(cw.color(at: 0.5).hexString, "#dddddd")
        XCTAssertEqual(cw.color(at: 0).luminance, cw.color(at: 1).luminance, accuracy: 0.1 * cw.color(at: 0).luminance)
    }
}
