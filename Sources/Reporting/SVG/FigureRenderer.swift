import NumericalFoundations
import Foundation

/// Sizes of the figure furniture, in px.
enum Style {
    static let fontFamily = "DejaVu Sans, Helvetica, Arial, sans-serif"
    static let tickFont = 11.0
    static let labelFont = 12.5
    static let titleFont = 13.5
    static let figureTitleFont = 15.5
    static let padding = 10.0
    static let tickLength = 5.0
    static let minorTickLength = 3.0
    static let frameColor = "#333333"
    static let gridColor = "#e6e6e6"
    static let minorGridColor = "#f4f4f4"
    static let textColor = "#222222"
    static let colorBarWidth = 14.0
    static let colorBarGap = 12.0
}

extension Figure {
    /// The figure as an SVG document (UTF-8 text). Throws a `ReportingError` naming the panel when
    /// its data are inconsistent (lengths that differ, a log range that is not positive, …).
    public func svg() throws -> String {
        guard !name.isEmpty, name.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_" }),
              name.unicodeScalars.allSatisfy({ $0.isASCII }) else {
            throw ReportingError("figure name '\(name)' must be non-empty ASCII letters, digits, '-' or '_' (it names the file and the SVG ids)")
        }
        guard !panels.isEmpty else { throw ReportingError("figure \(name): no panels") }
        guard panelWidth >= 120, panelHeight >= 100, panelWidth.isFinite, panelHeight.isFinite else {
            throw ReportingError("figure \(name): panels of \(panelWidth) × \(panelHeight) px are too small (at least 120 × 100)")
        }
        let rows = (panels.count + columns - 1) / columns
        let titleHeight = title == nil ? 0 : Style.figureTitleFont + 14
        let width = Double(min(columns, panels.count)) * panelWidth
        let height = titleHeight + Double(rows) * panelHeight

        var w = SVGWriter()
        w.element("svg", [("xmlns", "http://www.w3.org/2000/svg"), ("width", px(width)), ("height", px(height)),
                          ("viewBox", "0 0 \(px(width)) \(px(height))"), ("font-family", Style.fontFamily),
                          ("fill", Style.textColor), ("class", "figure"), ("id", "f-\(name)")], close: false)
        w.raw("\n")
        // The <title> child gives the figure an accessible name; the visible title is drawn below.
        w.raw("<title>" + xmlEscape(title ?? name) + "</title>\n")
        w.element("rect", [("width", px(width)), ("height", px(height)), ("fill", "#ffffff")])
        if let title {
            w.textElement(title, [("x", px(width / 2)), ("y", px(Style.figureTitleFont + 6)), ("text-anchor", "middle"),
                                  ("font-size", px(Style.figureTitleFont)), ("font-weight", "bold"), ("class", "figure-title")])
        }
        for (index, panel) in panels.enumerated() {
            let box = PanelBox(x: Double(index % columns) * panelWidth, y: titleHeight + Double(index / columns) * panelHeight,
                               width: panelWidth, height: panelHeight, id: "f-\(name)-p\(index)")
            let context = "figure \(name), panel \(index + 1)" + (panel.title.map { " (\($0))" } ?? "")
            w.element("g", [("class", "panel"), ("id", box.id)], close: false)
            w.raw("\n")
            switch panel.content {
            case .xy(let plot): try renderXY(plot, title: panel.title, box: box, context: context, into: &w)
            case .heatmap(let map): try renderHeatmap(map, title: panel.title, box: box, context: context, into: &w)
            case .field(let field): try renderField(field, title: panel.title, box: box, context: context, into: &w)
            case .bars(let bars): try renderBars(bars, title: panel.title, box: box, context: context, into: &w)
            case .blank: break
            }
            w.end("g")
        }
        w.end("svg")
        return w.text
    }

    /// Renders and writes the SVG atomically (never a half-written file).
    public func write(to url: URL) throws {
        try AtomicFile.write(try svg(), to: url)
    }
}

struct PanelBox {
    var x: Double, y: Double, width: Double, height: Double
    var id: String
}

/// The plot rectangle of a panel, in px.
struct PlotArea {
    var left: Double, top: Double, width: Double, height: Double
    var right: Double { left + width }
    var bottom: Double { top + height }
}

// MARK: - Shared pieces: axes, legend, colour bar

/// Margins around the plot area that the tick labels and axis labels need.
func bottomMargin(hasLabel: Bool) -> Double {
    Style.padding + Style.tickLength + 4 + Style.tickFont + (hasLabel ? 8 + Style.labelFont : 0)
}
func topMargin(hasTitle: Bool) -> Double {
    Style.padding + (hasTitle ? Style.titleFont + 10 : 4)
}
func leftMargin(yLabels: [TickLabel?], hasLabel: Bool) -> Double {
    let widest = yLabels.compactMap { $0?.width(fontSize: Style.tickFont) }.max() ?? 0
    return Style.padding + (hasLabel ? Style.labelFont + 10 : 0) + widest + 4 + Style.tickLength
}

/// Frame, ticks, tick labels, axis labels and the panel title around `area`.
func drawAxes(area: PlotArea, x: AxisMapping, xTicks: [Tick], xLabel: String, y: AxisMapping, yTicks: [Tick],
              yLabel: String, title: String?, box: PanelBox, into w: inout SVGWriter) {
    w.element("rect", [("x", px(area.left)), ("y", px(area.top)), ("width", px(area.width)), ("height", px(area.height)),
                       ("fill", "none"), ("stroke", Style.frameColor), ("stroke-width", "1"), ("class", "frame")])
    w.element("g", [("class", "x-axis"), ("stroke", Style.frameColor), ("stroke-width", "1")], close: false)
    for tick in xTicks {
        guard let p = x.pixel(tick.value), p >= area.left - 0.5, p <= area.right + 0.5 else { continue }
        let length = tick.label == nil ? Style.minorTickLength : Style.tickLength
        w.element("line", [("x1", px(p)), ("y1", px(area.bottom)), ("x2", px(p)), ("y2", px(area.bottom + length)),
                           ("class", tick.label == nil ? "x-tick minor" : "x-tick major"), ("data-value", "\(tick.value)")])
    }
    w.end("g")
    w.element("g", [("class", "x-tick-labels"), ("font-size", px(Style.tickFont)), ("text-anchor", "middle")], close: false)
    for tick in xTicks {
        guard let label = tick.label, let p = x.pixel(tick.value), p >= area.left - 0.5, p <= area.right + 0.5 else { continue }
        w.label(label, [("x", px(p)), ("y", px(area.bottom + Style.tickLength + 3 + Style.tickFont * 0.85))])
    }
    w.end("g")
    w.element("g", [("class", "y-axis"), ("stroke", Style.frameColor), ("stroke-width", "1")], close: false)
    for tick in yTicks {
        guard let p = y.pixel(tick.value), p >= area.top - 0.5, p <= area.bottom + 0.5 else { continue }
        let length = tick.label == nil ? Style.minorTickLength : Style.tickLength
        w.element("line", [("x1", px(area.left - length)), ("y1", px(p)), ("x2", px(area.left)), ("y2", px(p)),
                           ("class", tick.label == nil ? "y-tick minor" : "y-tick major"), ("data-value", "\(tick.value)")])
    }
    w.end("g")
    w.element("g", [("class", "y-tick-labels"), ("font-size", px(Style.tickFont)), ("text-anchor", "end")], close: false)
    for tick in yTicks {
        guard let label = tick.label, let p = y.pixel(tick.value), p >= area.top - 0.5, p <= area.bottom + 0.5 else { continue }
        w.label(label, [("x", px(area.left - Style.tickLength - 3)), ("y", px(p + Style.tickFont * 0.36))])
    }
    w.end("g")
    drawAxisLabels(area: area, xLabel: xLabel, yLabel: yLabel, title: title, box: box, into: &w)
}

func drawAxisLabels(area: PlotArea, xLabel: String, yLabel: String, title: String?, box: PanelBox, into w: inout SVGWriter) {
    if !xLabel.isEmpty {
        w.textElement(xLabel, [("x", px(area.left + area.width / 2)),
                               ("y", px(area.bottom + Style.tickLength + 4 + Style.tickFont + 8 + Style.labelFont * 0.8)),
                               ("text-anchor", "middle"), ("font-size", px(Style.labelFont)), ("class", "x-label")])
    }
    if !yLabel.isEmpty {
        let lx = box.x + Style.padding + Style.labelFont * 0.8, ly = area.top + area.height / 2
        w.textElement(yLabel, [("x", px(lx)), ("y", px(ly)), ("text-anchor", "middle"), ("font-size", px(Style.labelFont)),
                               ("transform", "rotate(-90 \(px(lx)) \(px(ly)))"), ("class", "y-label")])
    }
    if let title {
        w.textElement(title, [("x", px(area.left + area.width / 2)), ("y", px(box.y + Style.padding + Style.titleFont * 0.85)),
                              ("text-anchor", "middle"), ("font-size", px(Style.titleFont)), ("font-weight", "bold"),
                              ("class", "panel-title")])
    }
}

/// Major (and log minor) grid lines inside the plot area.
func drawGrid(area: PlotArea, x: AxisMapping, xTicks: [Tick], y: AxisMapping, yTicks: [Tick], into w: inout SVGWriter) {
    w.element("g", [("class", "grid"), ("stroke-width", "1")], close: false)
    for tick in xTicks {
        guard let p = x.pixel(tick.value), p > area.left + 0.5, p < area.right - 0.5 else { continue }
        if tick.label == nil && x.scale != .log10 { continue }
        w.element("line", [("x1", px(p)), ("y1", px(area.top)), ("x2", px(p)), ("y2", px(area.bottom)),
                           ("stroke", tick.label == nil ? Style.minorGridColor : Style.gridColor)])
    }
    for tick in yTicks {
        guard let p = y.pixel(tick.value), p > area.top + 0.5, p < area.bottom - 0.5 else { continue }
        if tick.label == nil && y.scale != .log10 { continue }
        w.element("line", [("x1", px(area.left)), ("y1", px(p)), ("x2", px(area.right)), ("y2", px(p)),
                           ("stroke", tick.label == nil ? Style.minorGridColor : Style.gridColor)])
    }
    w.end("g")
}

/// What a legend entry shows next to its name.
enum LegendSwatch {
    case line(RGBColor, width: Double, dash: DashStyle)
    case marker(RGBColor, MarkerShape, size: Double)
    case box(RGBColor)
}

struct LegendEntry {
    var name: String
    var swatch: LegendSwatch
}

enum LegendLayout {
    static let rowHeight = 17.0
    static let swatchWidth = 24.0
    static func size(_ entries: [LegendEntry]) -> (width: Double, height: Double) {
        let text = entries.map { textWidth($0.name, fontSize: Style.tickFont) }.max() ?? 0
        return (8 + swatchWidth + 6 + text + 8, 6 + Double(entries.count) * rowHeight + 2)
    }
}

/// Draws the legend box with its top-left corner at (x, y).
func drawLegend(_ entries: [LegendEntry], x: Double, y: Double, into w: inout SVGWriter) {
    guard !entries.isEmpty else { return }
    let size = LegendLayout.size(entries)
    w.element("g", [("class", "legend"), ("font-size", px(Style.tickFont))], close: false)
    w.element("rect", [("x", px(x)), ("y", px(y)), ("width", px(size.width)), ("height", px(size.height)), ("rx", "3"),
                       ("fill", "#ffffff"), ("fill-opacity", "0.88"), ("stroke", "#bbbbbb"), ("stroke-width", "0.8")])
    for (i, entry) in entries.enumerated() {
        let cy = y + 6 + (Double(i) + 0.5) * LegendLayout.rowHeight
        let sx = x + 8
        switch entry.swatch {
        case .line(let color, let width, let dash):
            w.element("line", [("x1", px(sx)), ("y1", px(cy)), ("x2", px(sx + LegendLayout.swatchWidth)), ("y2", px(cy)),
                               ("stroke", color.hexString), ("stroke-width", px(width)), ("stroke-dasharray", dash.dashArray),
                               ("class", "legend-swatch")])
        case .marker(let color, let shape, let size):
            drawMarker(shape, x: sx + LegendLayout.swatchWidth / 2, y: cy, size: min(size, 10), color: color, opacity: 1,
                       className: "legend-swatch", into: &w)
        case .box(let color):
            w.element("rect", [("x", px(sx + 4)), ("y", px(cy - 5.5)), ("width", px(LegendLayout.swatchWidth - 8)),
                               ("height", "11"), ("fill", color.hexString), ("class", "legend-swatch")])
        }
        w.textElement(entry.name, [("x", px(sx + LegendLayout.swatchWidth + 6)), ("y", px(cy + Style.tickFont * 0.36))])
    }
    w.end("g")
}

/// A marker centred at (x, y): `<circle>` for circles, `<rect>` for squares, `<path>` otherwise.
func drawMarker(_ shape: MarkerShape, x: Double, y: Double, size: Double, color: RGBColor, opacity: Double,
                className: String, into w: inout SVGWriter) {
    let r = size / 2
    let fill = color.hexString
    let fillOpacity = opacity < 1 ? px(opacity) : nil
    switch shape {
    case .circle:
        w.element("circle", [("cx", px(x)), ("cy", px(y)), ("r", px(r)), ("fill", fill), ("fill-opacity", fillOpacity), ("class", className)])
    case .square:
        let s = r * 0.9
        w.element("rect", [("x", px(x - s)), ("y", px(y - s)), ("width", px(2 * s)), ("height", px(2 * s)), ("fill", fill),
                           ("fill-opacity", fillOpacity), ("class", className)])
    case .diamond:
        w.element("path", [("d", "M\(px(x)) \(px(y - r * 1.2))L\(px(x + r)) \(px(y))L\(px(x)) \(px(y + r * 1.2))L\(px(x - r)) \(px(y))Z"),
                           ("fill", fill), ("fill-opacity", fillOpacity), ("class", className)])
    case .triangle:
        w.element("path", [("d", "M\(px(x)) \(px(y - r * 1.15))L\(px(x + r)) \(px(y + r * 0.75))L\(px(x - r)) \(px(y + r * 0.75))Z"),
                           ("fill", fill), ("fill-opacity", fillOpacity), ("class", className)])
    case .cross:
        w.element("path", [("d", "M\(px(x - r)) \(px(y - r))L\(px(x + r)) \(px(y + r))M\(px(x - r)) \(px(y + r))L\(px(x + r)) \(px(y - r))"),
                           ("stroke", fill), ("stroke-width", "1.6"), ("fill", "none"), ("class", className)])
    }
}

/// A colour scale with its range fixed from the data.
struct ResolvedColorScale {
    let scale: ColorScale
    let range: ClosedRange<Double>

    init(_ scale: ColorScale, values: [Double], context: String) throws {
        self.scale = scale
        if let given = scale.range {
            guard given.lowerBound.isFinite, given.upperBound.isFinite, given.upperBound > given.lowerBound else {
                throw ReportingError("\(context): colour range \(given) must be finite with lower < upper")
            }
            if scale.scale == .log10 && given.lowerBound <= 0 {
                throw ReportingError("\(context): a log colour scale needs a range > 0, not \(given)")
            }
            range = given
            return
        }
        let usable = values.filter { $0.isFinite && (scale.scale == .linear || $0 > 0) }
        guard var lo = usable.min(), var hi = usable.max() else {
            range = scale.scale == .log10 ? 1...10 : 0...1
            return
        }
        if lo == hi {
            if scale.scale == .log10 { lo /= 10.0.squareRoot(); hi *= 10.0.squareRoot() }
            else { let d = lo == 0 ? 1 : abs(lo) * 0.1; lo -= d; hi += d }
        }
        range = lo...hi
    }

    /// Position in [0, 1] along the map, or nil when the value cannot be shown.
    func fraction(_ v: Double) -> Double? {
        guard v.isFinite else { return nil }
        if scale.scale == .log10 {
            guard v > 0 else { return nil }
            return (log10(v) - log10(range.lowerBound)) / (log10(range.upperBound) - log10(range.lowerBound))
        }
        return (v - range.lowerBound) / (range.upperBound - range.lowerBound)
    }

    func color(_ v: Double) -> RGBColor? { fraction(v).map { scale.map.color(at: $0) } }

    func ticks(length: Double) -> [Tick] {
        scale.scale == .log10
            ? Ticks.log(range, maxLabels: max(2, Int(length / 26)))
            : Ticks.linear(range, target: max(2, Int(length / 40)))
    }

    /// Width the colour bar needs (gap, bar, ticks, labels, rotated title).
    func width(length: Double, label: String) -> Double {
        let widest = ticks(length: length).compactMap { $0.label?.width(fontSize: Style.tickFont) }.max() ?? 0
        return Style.colorBarGap + Style.colorBarWidth + Style.tickLength + 3 + widest + (label.isEmpty ? 0 : 8 + Style.labelFont)
    }
}

/// A vertical colour bar at (x, top) of the given height, with ticks and a rotated label on its right.
func drawColorBar(_ scale: ResolvedColorScale, x: Double, top: Double, height: Double, label: String, id: String,
                  into w: inout SVGWriter) {
    let anchors = scale.scale.map.anchors
    w.element("g", [("class", "colorbar")], close: false)
    w.element("defs", [], close: false)
    w.element("linearGradient", [("id", id), ("x1", "0"), ("y1", "1"), ("x2", "0"), ("y2", "0")], close: false)
    for (i, color) in anchors.enumerated() {
        w.element("stop", [("offset", px(Double(i) / Double(anchors.count - 1))), ("stop-color", color.hexString)])
    }
    w.end("linearGradient")
    w.end("defs")
    w.element("rect", [("x", px(x)), ("y", px(top)), ("width", px(Style.colorBarWidth)), ("height", px(height)),
                       ("fill", "url(#\(id))"), ("stroke", Style.frameColor), ("stroke-width", "0.8"), ("class", "colorbar-bar")])
    let mapping = AxisMapping(scale: scale.scale.scale, range: scale.range, start: top + height, end: top)
    var widest = 0.0
    w.element("g", [("font-size", px(Style.tickFont)), ("stroke", Style.frameColor)], close: false)
    for tick in scale.ticks(length: height) {
        guard let p = mapping.pixel(tick.value), p >= top - 0.5, p <= top + height + 0.5 else { continue }
        let length = tick.label == nil ? Style.minorTickLength : Style.tickLength
        w.element("line", [("x1", px(x + Style.colorBarWidth)), ("y1", px(p)), ("x2", px(x + Style.colorBarWidth + length)),
                           ("y2", px(p)), ("class", tick.label == nil ? "colorbar-tick minor" : "colorbar-tick major"),
                           ("data-value", "\(tick.value)")])
        if let l = tick.label {
            widest = max(widest, l.width(fontSize: Style.tickFont))
            w.label(l, [("x", px(x + Style.colorBarWidth + Style.tickLength + 3)), ("y", px(p + Style.tickFont * 0.36)),
                        ("stroke", "none")])
        }
    }
    w.end("g")
    if !label.isEmpty {
        let lx = x + Style.colorBarWidth + Style.tickLength + 3 + widest + 8 + Style.labelFont * 0.3
        let ly = top + height / 2
        w.textElement(label, [("x", px(lx)), ("y", px(ly)), ("text-anchor", "middle"), ("font-size", px(Style.labelFont)),
                              ("transform", "rotate(90 \(px(lx)) \(px(ly)))"), ("class", "colorbar-label")])
    }
    w.end("g")
}

func drawNoData(area: PlotArea, into w: inout SVGWriter) {
    w.textElement("no finite data", [("x", px(area.left + area.width / 2)), ("y", px(area.top + area.height / 2)),
                                     ("text-anchor", "middle"), ("font-size", px(Style.labelFont)), ("fill", "#888888"),
                                     ("class", "no-data")])
}
