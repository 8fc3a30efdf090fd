import Foundation

/// Whether `v` can be placed on an axis of this scale.
func drawable(_ v: Double, _ scale: AxisScale) -> Bool { v.isFinite && (scale == .linear || v > 0) }

/// The range an axis shows: the given one (checked), or one derived from the drawable values.
func resolveRange(_ axis: Axis, values: [Double], target: Int, name: String, context: String) throws -> ClosedRange<Double> {
    if let r = axis.range {
        guard r.lowerBound.isFinite, r.upperBound.isFinite, r.upperBound > r.lowerBound else {
            throw ReportingError("\(context): \(name) range \(r) must be finite with lower < upper")
        }
        if axis.scale == .log10 && r.lowerBound <= 0 {
            throw ReportingError("\(context): \(name) is logarithmic; its range \(r) must be > 0")
        }
        return r
    }
    let usable = values.filter { drawable($0, axis.scale) }
    guard let lo = usable.min(), let hi = usable.max() else { return axis.scale == .log10 ? 1...10 : 0...1 }
    return axis.scale == .log10 ? Ticks.autoLogRange(lo, hi) : Ticks.autoLinearRange(lo, hi, target: target)
}

func axisTicks(_ scale: AxisScale, _ range: ClosedRange<Double>, length: Double, spacing: Double) -> [Tick] {
    scale == .log10 ? Ticks.log(range, maxLabels: max(2, Int(length / (spacing * 0.6))))
                    : Ticks.linear(range, target: max(2, Int(length / spacing)))
}

/// x ticks whose labels do not collide: fewer ticks until the widest label fits between neighbours.
func fittedXTicks(_ scale: AxisScale, _ range: ClosedRange<Double>, length: Double) -> [Tick] {
    var spacing = 80.0
    var ticks = axisTicks(scale, range, length: length, spacing: spacing)
    for _ in 0..<6 {
        let labelled = ticks.filter { $0.label != nil }
        let widest = labelled.compactMap { $0.label?.width(fontSize: Style.tickFont) }.max() ?? 0
        if labelled.count < 2 || widest + 10 <= length / Double(labelled.count - 1) * 0.999 { break }
        spacing *= 1.5
        ticks = axisTicks(scale, range, length: length, spacing: spacing)
    }
    return ticks
}

extension Figure {
    func renderXY(_ plot: XYPlot, title: String?, box: PanelBox, context: String, into w: inout SVGWriter) throws {
        try validateXYPlot(plot, context: context)
        let extent = axisExtent(plot)
        let entries = legendEntries(plot)
        let legendSize = LegendLayout.size(entries)
        var outsideLegend = plot.legend == .outside && !entries.isEmpty
        var frame = try layoutXYFrame(plot, extent: extent, title: title, box: box, legendWidth: outsideLegend ? legendSize.width + 10 : 0,
                                      context: context)
        // Automatic: the corner no data crosses, else outside the plot (never over the data).
        var legendCorner: (x: Double, y: Double)?
        if plot.legend == .automatic, !entries.isEmpty {
            let best = leastCoveredCorner(size: legendSize, area: frame.area, points: legendAvoidancePoints(plot, x: frame.x, y: frame.y))
            if best.covered == 0 {
                legendCorner = best.origin
            } else {
                outsideLegend = true
                frame = try layoutXYFrame(plot, extent: extent, title: title, box: box, legendWidth: legendSize.width + 10, context: context)
            }
        }
        let area = frame.area, x = frame.x, y = frame.y

        w.element("rect", [("x", px(area.left)), ("y", px(area.top)), ("width", px(area.width)), ("height", px(area.height)),
                           ("fill", "#ffffff"), ("class", "plot-background")])
        drawGrid(area: area, x: x, xTicks: frame.xTicks, y: y, yTicks: frame.yTicks, into: &w)

        let clipID = box.id + "-clip"
        w.element("clipPath", [("id", clipID)], close: false)
        w.element("rect", [("x", px(area.left)), ("y", px(area.top)), ("width", px(area.width)), ("height", px(area.height))])
        w.end("clipPath")
        w.element("g", [("clip-path", "url(#\(clipID))"), ("class", "data")], close: false)
        drawGuideLines(plot, area: area, x: x, y: y, into: &w)
        for (i, s) in plot.series.enumerated() {
            switch s {
            case .line(let l): drawLineSeries(l, index: i, x: x, y: y, into: &w)
            case .scatter(let p): drawScatterSeries(p, index: i, x: x, y: y, into: &w)
            case .band(let b): drawBandSeries(b, index: i, x: x, y: y, into: &w)
            }
        }
        w.end("g")
        if !extent.hasData { drawNoData(area: area, into: &w) }
        drawReferenceLabels(plot.referenceLines, area: area, x: x, y: y, into: &w)
        drawAxes(area: area, x: x, xTicks: frame.xTicks, xLabel: plot.xAxis.label, y: y, yTicks: frame.yTicks, yLabel: plot.yAxis.label,
                 title: title, box: box, into: &w)
        if !entries.isEmpty, plot.legend != .none {
            let origin = legendCorner ?? legendOrigin(outsideLegend ? .outside : plot.legend, size: legendSize, area: area, points: [])
            drawLegend(entries, x: origin.x, y: origin.y, into: &w)
        }
    }
}

/// Throws unless every series has as many x as y values, every reference line is finite and an
/// equal aspect comes with linear axes.
private func validateXYPlot(_ plot: XYPlot, context: String) throws {
    for (i, s) in plot.series.enumerated() {
        if case .band(let b) = s, b.lower.count != b.x.count || b.upper.count != b.x.count {
            throw ReportingError("\(context): band \(i + 1) has \(b.x.count) x values, \(b.lower.count) lower and \(b.upper.count) upper values")
        }
    }
    for (i, s) in plot.series.enumerated() where s.xs.count != s.ys.count {
        throw ReportingError("\(context): series \(i + 1)\(s.name.map { " (\($0))" } ?? "") has \(s.xs.count) x values and \(s.ys.count) y values")
    }
    for line in plot.referenceLines where !line.value.isFinite {
        throw ReportingError("\(context): reference line at \(line.value) is not finite")
    }
    if plot.equalAspect && (plot.xAxis.scale == .log10 || plot.yAxis.scale == .log10) {
        throw ReportingError("\(context): equal aspect needs linear axes")
    }
}

/// The values each axis must show: the drawable data points, the reference lines and the unit circle.
private struct AxisExtent {
    var xValues: [Double] = [], yValues: [Double] = []
    /// Whether any series has a drawable point.
    var hasData = false
}

private func axisExtent(_ plot: XYPlot) -> AxisExtent {
    let xScale = plot.xAxis.scale, yScale = plot.yAxis.scale
    var extent = AxisExtent()
    for s in plot.series {
        let xs = s.xs, ys = s.ys
        for k in xs.indices where drawable(xs[k], xScale) && drawable(ys[k], yScale) {
            extent.xValues.append(xs[k]); extent.yValues.append(ys[k])
        }
    }
    extent.hasData = !extent.xValues.isEmpty
    for line in plot.referenceLines {
        if line.orientation == .horizontal { extent.yValues.append(line.value) } else { extent.xValues.append(line.value) }
    }
    if plot.unitCircle { extent.xValues += [-1.1, 1.1]; extent.yValues += [-1.1, 1.1] }
    return extent
}

/// One legend entry per named line or scatter series.
private func legendEntries(_ plot: XYPlot) -> [LegendEntry] {
    var entries: [LegendEntry] = []
    for (i, s) in plot.series.enumerated() {
        guard let name = s.name, !name.isEmpty else { continue }
        switch s {
        case .line(let l): entries.append(LegendEntry(name: name, swatch: .line(l.color ?? RGBColor.paletteColor(i), width: l.width, dash: l.dash)))
        case .scatter(let p): entries.append(LegendEntry(name: name, swatch: .marker(p.color ?? RGBColor.paletteColor(i), p.marker, size: p.size)))
        case .band: break
        }
    }
    return entries
}

/// The plot area inside the panel, the axes' mappings onto it and their ticks.
private struct XYFrame {
    var area: PlotArea
    var x: AxisMapping, y: AxisMapping
    var xTicks: [Tick], yTicks: [Tick]
}

/// The plot height is fixed by the margins; the width needs the y tick labels.
private func layoutXYFrame(_ plot: XYPlot, extent: AxisExtent, title: String?, box: PanelBox, legendWidth: Double,
                           context: String) throws -> XYFrame {
    let xScale = plot.xAxis.scale, yScale = plot.yAxis.scale
    let top = box.y + topMargin(hasTitle: title != nil)
    let bottom = box.y + box.height - bottomMargin(hasLabel: !plot.xAxis.label.isEmpty)
    let right = box.x + box.width - Style.padding - 8 - legendWidth
    let plotHeight = bottom - top
    var yRange = try resolveRange(plot.yAxis, values: extent.yValues, target: max(2, Int(plotHeight / 45)), name: "y axis", context: context)
    var yTicks = axisTicks(yScale, yRange, length: plotHeight, spacing: 45)
    var left = box.x + leftMargin(yLabels: yTicks.map(\.label), hasLabel: !plot.yAxis.label.isEmpty)
    var xRange = try resolveRange(plot.xAxis, values: extent.xValues, target: max(2, Int((right - left) / 80)), name: "x axis", context: context)
    if plot.equalAspect {
        // Widen the range of the axis with more pixels per unit so both show the same scale;
        // the y tick labels may change width, so settle the left margin and widen again.
        for _ in 0..<2 {
            (xRange, yRange) = equalAspectRanges(xRange, yRange, width: right - left, height: plotHeight)
            yTicks = axisTicks(yScale, yRange, length: plotHeight, spacing: 45)
            left = box.x + leftMargin(yLabels: yTicks.map(\.label), hasLabel: !plot.yAxis.label.isEmpty)
        }
        (xRange, yRange) = equalAspectRanges(xRange, yRange, width: right - left, height: plotHeight)
    }
    guard right - left >= 20, plotHeight >= 20 else {
        throw ReportingError("\(context): the panel is too small for its labels (plot area \(Int(right - left)) × \(Int(plotHeight)) px)")
    }
    let area = PlotArea(left: left, top: top, width: right - left, height: plotHeight)
    let xTicks = fittedXTicks(xScale, xRange, length: area.width)
    let x = AxisMapping(scale: xScale, range: xRange, start: area.left, end: area.right)
    let y = AxisMapping(scale: yScale, range: yRange, start: area.bottom, end: area.top)
    return XYFrame(area: area, x: x, y: y, xTicks: xTicks, yTicks: yTicks)
}

/// Zero lines, the unit circle and the reference lines, beneath the series.
private func drawGuideLines(_ plot: XYPlot, area: PlotArea, x: AxisMapping, y: AxisMapping, into w: inout SVGWriter) {
    if plot.zeroLines {
        if let p = x.pixel(0) {
            w.element("line", [("x1", px(p)), ("y1", px(area.top)), ("x2", px(p)), ("y2", px(area.bottom)),
                               ("stroke", "#999999"), ("stroke-width", "0.8"), ("class", "zero-line")])
        }
        if let p = y.pixel(0) {
            w.element("line", [("x1", px(area.left)), ("y1", px(p)), ("x2", px(area.right)), ("y2", px(p)),
                               ("stroke", "#999999"), ("stroke-width", "0.8"), ("class", "zero-line")])
        }
    }
    if plot.unitCircle, let cx = x.pixel(0), let cy = y.pixel(0) {
        w.element("ellipse", [("cx", px(cx)), ("cy", px(cy)), ("rx", px(x.pixelsPerUnit)), ("ry", px(y.pixelsPerUnit)),
                              ("fill", "none"), ("stroke", "#555555"), ("stroke-width", "1"), ("stroke-dasharray", "4,3"),
                              ("class", "unit-circle")])
    }
    for line in plot.referenceLines {
        if line.orientation == .horizontal, let p = y.pixel(line.value) {
            w.element("line", [("x1", px(area.left)), ("y1", px(p)), ("x2", px(area.right)), ("y2", px(p)),
                               ("stroke", line.color.hexString), ("stroke-width", "1"), ("stroke-dasharray", "3,3"),
                               ("class", "reference-line")])
        } else if line.orientation == .vertical, let p = x.pixel(line.value) {
            w.element("line", [("x1", px(p)), ("y1", px(area.top)), ("x2", px(p)), ("y2", px(area.bottom)),
                               ("stroke", line.color.hexString), ("stroke-width", "1"), ("stroke-dasharray", "3,3"),
                               ("class", "reference-line")])
        }
    }
}

/// One polyline per unbroken run of drawable points.
private func drawLineSeries(_ l: LineSeries, index i: Int, x: AxisMapping, y: AxisMapping, into w: inout SVGWriter) {
    let color = (l.color ?? RGBColor.paletteColor(i)).hexString
    var segment = ""
    func flush() {
        if segment.contains(" ") {   // at least two points
            w.element("polyline", [("points", segment), ("fill", "none"), ("stroke", color),
                                   ("stroke-width", px(l.width)), ("stroke-dasharray", l.dash.dashArray),
                                   ("stroke-linejoin", "round"), ("class", "series line s\(i)")])
        }
        segment = ""
    }
    for k in l.x.indices {
        guard let px0 = x.pixel(l.x[k]), let py0 = y.pixel(l.y[k]) else { flush(); continue }
        if !segment.isEmpty { segment += " " }
        segment += px(px0) + "," + px(py0)
    }
    flush()
}

/// What the legend must not cover, in pixels: each scatter marker, each line's vertices and points
/// every `legendSampleSpacing` pixels along its drawn segments (a line crossing a corner counts there
/// even when none of its vertices lies in it).
func legendAvoidancePoints(_ plot: XYPlot, x: AxisMapping, y: AxisMapping) -> [(Double, Double)] {
    var points: [(Double, Double)] = []
    for s in plot.series {
        switch s {
        case .line(let l):
            var previous: (Double, Double)?
            for k in l.x.indices {
                guard let px0 = x.pixel(l.x[k]), let py0 = y.pixel(l.y[k]) else { previous = nil; continue }
                if let (qx, qy) = previous {
                    let steps = Int((((px0 - qx) * (px0 - qx) + (py0 - qy) * (py0 - qy)).squareRoot() / legendSampleSpacing).rounded(.down))
                    if steps > 1 {
                        for j in 1..<steps {
                            let t = Double(j) / Double(steps)
                            points.append((qx + t * (px0 - qx), qy + t * (py0 - qy)))
                        }
                    }
                }
                points.append((px0, py0))
                previous = (px0, py0)
            }
        case .scatter(let p):
            for k in p.x.indices {
                if let px0 = x.pixel(p.x[k]), let py0 = y.pixel(p.y[k]) { points.append((px0, py0)) }
            }
        case .band: break
        }
    }
    return points
}

/// Pixels between the points a line segment contributes to the legend's placement.
let legendSampleSpacing = 4.0

/// One marker per drawable point.
private func drawScatterSeries(_ p: ScatterSeries, index i: Int, x: AxisMapping, y: AxisMapping, into w: inout SVGWriter) {
    let color = p.color ?? RGBColor.paletteColor(i)
    w.element("g", [("class", "series scatter s\(i)")], close: false)
    for k in p.x.indices {
        guard let px0 = x.pixel(p.x[k]), let py0 = y.pixel(p.y[k]) else { continue }
        drawMarker(p.marker, x: px0, y: py0, size: p.size, color: color, opacity: p.opacity, className: "marker", into: &w)
    }
    w.end("g")
}

/// Each unbroken run of drawable points becomes one polygon: the upper bound left to right, then the
/// lower bound back.
private func drawBandSeries(_ b: BandSeries, index i: Int, x: AxisMapping, y: AxisMapping, into w: inout SVGWriter) {
    let color = (b.color ?? RGBColor.paletteColor(i)).hexString
    var upper: [String] = [], lower: [String] = []
    func flush() {
        if upper.count >= 2 {
            w.element("polygon", [("points", (upper + lower.reversed()).joined(separator: " ")), ("fill", color),
                                  ("fill-opacity", px(b.opacity)), ("stroke", "none"), ("class", "series band s\(i)")])
        }
        upper = []; lower = []
    }
    for k in b.x.indices {
        guard let px0 = x.pixel(b.x[k]), let pu = y.pixel(b.upper[k]), let pl = y.pixel(b.lower[k]) else { flush(); continue }
        upper.append(px(px0) + "," + px(pu)); lower.append(px(px0) + "," + px(pl))
    }
    flush()
}

/// The labels of the reference lines that fall inside the plot area, above the series.
private func drawReferenceLabels(_ lines: [ReferenceLine], area: PlotArea, x: AxisMapping, y: AxisMapping, into w: inout SVGWriter) {
    for line in lines {
        guard let label = line.label, !label.isEmpty else { continue }
        if line.orientation == .horizontal, let p = y.pixel(line.value), p >= area.top, p <= area.bottom {
            w.textElement(label, [("x", px(area.left + 6)), ("y", px(p - 4)), ("font-size", px(Style.tickFont * 0.9)),
                                  ("fill", line.color.hexString), ("class", "reference-label")])
        } else if line.orientation == .vertical, let p = x.pixel(line.value), p >= area.left, p <= area.right {
            w.textElement(label, [("x", px(p + 4)), ("y", px(area.top + Style.tickFont + 2)), ("font-size", px(Style.tickFont * 0.9)),
                                  ("fill", line.color.hexString), ("class", "reference-label")])
        }
    }
}

/// Widens one range so that both axes have the same data units per pixel.
func equalAspectRanges(_ x: ClosedRange<Double>, _ y: ClosedRange<Double>, width: Double, height: Double)
    -> (ClosedRange<Double>, ClosedRange<Double>) {
    let xPerPixel = (x.upperBound - x.lowerBound) / width
    let yPerPixel = (y.upperBound - y.lowerBound) / height
    if xPerPixel < yPerPixel {
        let half = yPerPixel * width / 2, mid = (x.lowerBound + x.upperBound) / 2
        return ((mid - half)...(mid + half), y)
    } else {
        let half = xPerPixel * height / 2, mid = (y.lowerBound + y.upperBound) / 2
        return (x, (mid - half)...(mid + half))
    }
}

/// Top-left corner of the legend: the requested corner, the one covering the fewest drawn points
/// (`.automatic`), or outside to the right.
func legendOrigin(_ placement: LegendPlacement, size: (width: Double, height: Double), area: PlotArea,
                  points: [(Double, Double)]) -> (x: Double, y: Double) {
    switch placement {
    case .outside, .none:
        return (area.right + 10, area.top)
    case .automatic:
        return leastCoveredCorner(size: size, area: area, points: points).origin
    default:
        let corner = legendCorners(size: size, area: area).first { $0.placement == placement } ?? legendCorners(size: size, area: area)[0]
        return corner.origin
    }
}

/// The four inside corners a legend of `size` can take, in order of preference.
func legendCorners(size: (width: Double, height: Double), area: PlotArea) -> [(placement: LegendPlacement, origin: (x: Double, y: Double))] {
    let inset = 8.0
    return [
        (.topRight, (area.right - inset - size.width, area.top + inset)),
        (.topLeft, (area.left + inset, area.top + inset)),
        (.bottomRight, (area.right - inset - size.width, area.bottom - inset - size.height)),
        (.bottomLeft, (area.left + inset, area.bottom - inset - size.height)),
    ]
}

/// The corner whose legend box (with a 4-pixel margin) covers the fewest of `points`, and how many it covers.
func leastCoveredCorner(size: (width: Double, height: Double), area: PlotArea,
                        points: [(Double, Double)]) -> (origin: (x: Double, y: Double), covered: Int) {
    var best = (origin: legendCorners(size: size, area: area)[0].origin, covered: Int.max)
    for corner in legendCorners(size: size, area: area) {
        let (cx, cy) = corner.origin
        let covered = points.reduce(0) { n, p in
            n + ((p.0 >= cx - 4 && p.0 <= cx + size.width + 4 && p.1 >= cy - 4 && p.1 <= cy + size.height + 4) ? 1 : 0)
        }
        if covered < best.covered { best = (corner.origin, covered) }
    }
    return best
}
