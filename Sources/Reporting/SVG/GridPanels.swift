import Foundation

extension Figure {
    // MARK: Heatmap (the (m, s) study)

    func renderHeatmap(_ map: Heatmap, title: String?, box: PanelBox, context: String, into w: inout SVGWriter) throws {
        try validateHeatmap(map, context: context)
        let rows = map.rowLabels.count, columns = map.columnLabels.count
        let colors = try ResolvedColorScale(map.colorScale, values: map.values.flatMap { $0 }, context: context)

        let top = box.y + topMargin(hasTitle: title != nil)
        let bottom = box.y + box.height - bottomMargin(hasLabel: !map.columnAxisLabel.isEmpty)
        let height = bottom - top
        let rowLabels = map.rowLabels.map { TickLabel.plain($0) }
        let left = box.x + leftMargin(yLabels: rowLabels, hasLabel: !map.rowAxisLabel.isEmpty)
        let right = box.x + box.width - Style.padding - colors.width(length: height, label: map.colorBarLabel)
        guard right - left >= 20, height >= 20 else {
            throw ReportingError("\(context): the panel is too small for its labels")
        }
        let area = PlotArea(left: left, top: top, width: right - left, height: height)
        let cell = (width: area.width / Double(columns), height: area.height / Double(rows))

        w.element("rect", [("x", px(area.left)), ("y", px(area.top)), ("width", px(area.width)), ("height", px(area.height)),
                           ("fill", "#eeeeee"), ("class", "plot-background")])
        drawHeatmapCells(map, colors: colors, area: area, cell: cell, into: &w)
        if map.annotate { drawHeatmapAnnotations(map, colors: colors, area: area, cell: cell, into: &w) }
        for highlighted in map.highlighted {
            w.element("rect", [("x", px(area.left + Double(highlighted.column) * cell.width)), ("y", px(area.bottom - Double(highlighted.row + 1) * cell.height)),
                               ("width", px(cell.width)), ("height", px(cell.height)), ("fill", "none"), ("stroke", "#000000"),
                               ("stroke-width", "2"), ("class", "highlight")])
        }
        if !map.values.joined().contains(where: { colors.fraction($0) != nil }) {
            drawNoData(area: area, into: &w)
        }
        w.element("rect", [("x", px(area.left)), ("y", px(area.top)), ("width", px(area.width)), ("height", px(area.height)),
                           ("fill", "none"), ("stroke", Style.frameColor), ("stroke-width", "1"), ("class", "frame")])
        drawHeatmapCategoryLabels(map, area: area, cell: cell, into: &w)
        drawAxisLabels(area: area, xLabel: map.columnAxisLabel, yLabel: map.rowAxisLabel, title: title, box: box, into: &w)
        drawColorBar(colors, x: area.right + Style.colorBarGap, top: area.top, height: area.height, label: map.colorBarLabel,
                     id: box.id + "-colorbar", into: &w)
    }

    // MARK: Field map (c3 over the observation grid)

    func renderField(_ field: FieldMap, title: String?, box: PanelBox, context: String, into w: inout SVGWriter) throws {
        let extent = try fieldExtent(field, context: context)
        let colors = try ResolvedColorScale(field.colorScale, values: field.values, context: context)
        let area = try fieldArea(field, xRange: extent.xRange, yRange: extent.yRange, colors: colors, title: title, box: box, context: context)
        let x = AxisMapping(scale: .linear, range: extent.xRange, start: area.left, end: area.right)
        let y = AxisMapping(scale: .linear, range: extent.yRange, start: area.bottom, end: area.top)
        let xTicks = fittedXTicks(.linear, extent.xRange, length: area.width)
        let finalYTicks = axisTicks(.linear, extent.yRange, length: area.height, spacing: 40)

        w.element("rect", [("x", px(area.left)), ("y", px(area.top)), ("width", px(area.width)), ("height", px(area.height)),
                           ("fill", "#eeeeee"), ("class", "plot-background")])
        let drawn: Int
        switch field.geometry {
        case .grid(let xs, _):
            drawn = drawFieldCells(field, columns: xs.count, xEdges: extent.xEdges, yEdges: extent.yEdges, colors: colors,
                                   area: area, x: x, y: y, clipID: box.id + "-clip", into: &w)
        case .scattered(let xs, let ys, let size):
            drawn = drawFieldPoints(field, xs: xs, ys: ys, size: size, colors: colors, area: area, x: x, y: y,
                                    clipID: box.id + "-clip", into: &w)
        }
        if drawn == 0 { drawNoData(area: area, into: &w) }
        drawAxes(area: area, x: x, xTicks: xTicks, xLabel: field.xAxis.label, y: y, yTicks: finalYTicks,
                 yLabel: field.yAxis.label, title: title, box: box, into: &w)
        drawColorBar(colors, x: area.right + Style.colorBarGap, top: area.top, height: area.height, label: field.colorBarLabel,
                     id: box.id + "-colorbar", into: &w)
    }

    // MARK: Stacked bars (time per epoch)

    func renderBars(_ bars: StackedBars, title: String?, box: PanelBox, context: String, into w: inout SVGWriter) throws {
        let n = bars.categories.count
        guard n > 0, !bars.components.isEmpty else { throw ReportingError("\(context): stacked bars need categories and components") }
        for component in bars.components {
            guard component.values.count == n else {
                throw ReportingError("\(context): component \(component.name) has \(component.values.count) values for \(n) categories")
            }
            if let bad = component.values.first(where: { $0 < 0 }) {
                throw ReportingError("\(context): component \(component.name) has the negative value \(bad); stacked bars need values ≥ 0")
            }
        }
        if bars.valueAxis.scale == .log10 { throw ReportingError("\(context): stacked bars need a linear value axis") }
        let totals = (0..<n).map { c in bars.components.reduce(0.0) { $0 + ($1.values[c].isFinite ? $1.values[c] : 0) } }

        var entries: [LegendEntry] = []
        for (i, component) in bars.components.enumerated().reversed() {   // top of the stack first
            entries.append(LegendEntry(name: component.name, swatch: .box(component.color ?? RGBColor.paletteColor(i))))
        }
        let legendSize = LegendLayout.size(entries)
        let outside = bars.legend == .outside
        let top = box.y + topMargin(hasTitle: title != nil) + (bars.showTotals ? 4 : 0)
        let bottom = box.y + box.height - bottomMargin(hasLabel: !bars.categoryAxisLabel.isEmpty)
        let height = bottom - top
        let range = try resolveRange(bars.valueAxis, values: [0] + totals.map { $0 * 1.04 }, target: max(2, Int(height / 45)),
                                     name: "value axis", context: context)
        let yTicks = axisTicks(.linear, range, length: height, spacing: 45)
        let left = box.x + leftMargin(yLabels: yTicks.map(\.label), hasLabel: !bars.valueAxis.label.isEmpty)
        let right = box.x + box.width - Style.padding - (outside ? legendSize.width + 10 : 0)
        guard right - left >= 20, height >= 20 else { throw ReportingError("\(context): the panel is too small for its labels") }
        let area = PlotArea(left: left, top: top, width: right - left, height: height)
        let y = AxisMapping(scale: .linear, range: range, start: area.bottom, end: area.top)
        let band = area.width / Double(n)
        let barWidth = min(band * 0.6, 90)

        w.element("rect", [("x", px(area.left)), ("y", px(area.top)), ("width", px(area.width)), ("height", px(area.height)),
                           ("fill", "#ffffff"), ("class", "plot-background")])
        let noX = AxisMapping(scale: .linear, range: 0...1, start: area.left, end: area.right)
        drawGrid(area: area, x: noX, xTicks: [], y: y, yTicks: yTicks, into: &w)
        let clipID = box.id + "-clip"
        w.element("clipPath", [("id", clipID)], close: false)
        w.element("rect", [("x", px(area.left)), ("y", px(area.top)), ("width", px(area.width)), ("height", px(area.height))])
        w.end("clipPath")
        w.element("g", [("class", "bars"), ("clip-path", "url(#\(clipID))")], close: false)
        for c in 0..<n {
            let x0 = area.left + (Double(c) + 0.5) * band - barWidth / 2
            var base = 0.0
            for (i, component) in bars.components.enumerated() {
                let v = component.values[c]
                guard v.isFinite, v > 0, let y0 = y.pixel(base), let y1 = y.pixel(base + v) else { continue }
                w.element("rect", [("x", px(x0)), ("y", px(y1)), ("width", px(barWidth)), ("height", px(y0 - y1)),
                                   ("fill", (component.color ?? RGBColor.paletteColor(i)).hexString), ("class", "bar-segment"),
                                   ("data-component", component.name)])
                base += v
            }
        }
        w.end("g")
        if bars.showTotals {
            w.element("g", [("class", "bar-totals"), ("font-size", px(Style.tickFont)), ("text-anchor", "middle")], close: false)
            for c in 0..<n {
                guard let p = y.pixel(totals[c]), p >= area.top else { continue }
                w.textElement(Ticks.compact(totals[c], digits: 3), [("x", px(area.left + (Double(c) + 0.5) * band)), ("y", px(p - 4))])
            }
            w.end("g")
        }
        // Category labels under the bars (the widest decides the font so they do not collide).
        let widest = bars.categories.map { textWidth($0, fontSize: Style.tickFont) }.max() ?? 0
        let font = widest > band - 6 ? max(7, Style.tickFont * (band - 6) / widest) : Style.tickFont
        let categoryTicks = (0..<n).map { Tick(value: (Double($0) + 0.5) / Double(n), label: nil) }
        drawAxes(area: area, x: noX, xTicks: categoryTicks, xLabel: bars.categoryAxisLabel, y: y, yTicks: yTicks,
                 yLabel: bars.valueAxis.label, title: title, box: box, into: &w)
        w.element("g", [("class", "category-labels"), ("font-size", px(font)), ("text-anchor", "middle")], close: false)
        for c in 0..<n {
            w.textElement(bars.categories[c], [("x", px(area.left + (Double(c) + 0.5) * band)),
                                               ("y", px(area.bottom + Style.tickLength + 3 + font * 0.85))])
        }
        w.end("g")
        let origin = legendOrigin(bars.legend, size: legendSize, area: area, points: [])
        if bars.legend != .none { drawLegend(entries, x: origin.x, y: origin.y, into: &w) }
    }
}

/// Cell boundaries of a tensor-grid axis: the mid-points between neighbours, closed by the first
/// and last coordinates. One coordinate gives the cell [v − 0.5, v + 0.5].
func cellEdges(_ coordinates: [Double], name: String, context: String) throws -> [Double] {
    for (i, v) in coordinates.enumerated() where !v.isFinite {
        throw ReportingError("\(context): \(name) coordinate \(i) is \(v); grid coordinates must be finite")
    }
    if coordinates.count == 1 { return [coordinates[0] - 0.5, coordinates[0] + 0.5] }
    for i in 1..<coordinates.count where coordinates[i] <= coordinates[i - 1] {
        throw ReportingError("\(context): \(name) coordinates must increase strictly; \(name)[\(i)] = \(coordinates[i]) ≤ \(name)[\(i - 1)] = \(coordinates[i - 1])")
    }
    var edges = [coordinates[0]]
    for i in 1..<coordinates.count { edges.append((coordinates[i - 1] + coordinates[i]) / 2) }
    edges.append(coordinates[coordinates.count - 1])
    return edges
}

/// Throws unless the values and highlighted cells fit the row and column labels.
private func validateHeatmap(_ map: Heatmap, context: String) throws {
    let rows = map.rowLabels.count, columns = map.columnLabels.count
    guard rows > 0, columns > 0 else { throw ReportingError("\(context): a heatmap needs at least one row and one column") }
    guard map.values.count == rows else {
        throw ReportingError("\(context): \(map.values.count) rows of values for \(rows) row labels")
    }
    for (r, row) in map.values.enumerated() where row.count != columns {
        throw ReportingError("\(context): row \(r) (\(map.rowLabels[r])) has \(row.count) values for \(columns) column labels")
    }
    for cell in map.highlighted where !(0..<rows).contains(cell.row) || !(0..<columns).contains(cell.column) {
        throw ReportingError("\(context): highlighted cell (\(cell.row), \(cell.column)) is outside the \(rows) × \(columns) grid")
    }
}

/// One rectangle per cell with a colour; row 0 at the bottom.
private func drawHeatmapCells(_ map: Heatmap, colors: ResolvedColorScale, area: PlotArea, cell: (width: Double, height: Double),
                              into w: inout SVGWriter) {
    w.element("g", [("class", "cells"), ("shape-rendering", "crispEdges")], close: false)
    for r in 0..<map.rowLabels.count {
        for c in 0..<map.columnLabels.count {
            guard let color = colors.color(map.values[r][c]) else { continue }
            w.element("rect", [("x", px(area.left + Double(c) * cell.width)), ("y", px(area.bottom - Double(r + 1) * cell.height)),
                               ("width", px(cell.width)), ("height", px(cell.height)), ("fill", color.hexString), ("class", "cell")])
        }
    }
    w.end("g")
}

/// Each coloured cell's value, in a font shrunk to fit the cell (left out below 6 px).
private func drawHeatmapAnnotations(_ map: Heatmap, colors: ResolvedColorScale, area: PlotArea, cell: (width: Double, height: Double),
                                    into w: inout SVGWriter) {
    w.element("g", [("class", "annotations"), ("text-anchor", "middle")], close: false)
    for r in 0..<map.rowLabels.count {
        for c in 0..<map.columnLabels.count {
            let v = map.values[r][c]
            guard let color = colors.color(v) else { continue }
            let text = Ticks.compact(v, digits: max(1, map.annotationDigits))
            var font = min(10.5, cell.height * 0.5)
            let needed = textWidth(text, fontSize: font)
            if needed > cell.width - 3 { font *= (cell.width - 3) / needed }
            guard font >= 6 else { continue }
            w.textElement(text, [("x", px(area.left + (Double(c) + 0.5) * cell.width)),
                                 ("y", px(area.bottom - (Double(r) + 0.5) * cell.height + font * 0.36)),
                                 ("font-size", px(font)), ("fill", color.luminance > 0.36 ? "#000000" : "#ffffff")])
        }
    }
    w.end("g")
}

/// Category labels: every k-th so that neighbours do not collide.
private func drawHeatmapCategoryLabels(_ map: Heatmap, area: PlotArea, cell: (width: Double, height: Double), into w: inout SVGWriter) {
    let widestColumn = map.columnLabels.map { textWidth($0, fontSize: Style.tickFont) }.max() ?? 0
    let columnStep = max(1, Int(((widestColumn + 6) / cell.width).rounded(.up)))
    let rowStep = max(1, Int(((Style.tickFont + 3) / cell.height).rounded(.up)))
    w.element("g", [("class", "x-tick-labels"), ("font-size", px(Style.tickFont)), ("text-anchor", "middle")], close: false)
    for c in stride(from: 0, to: map.columnLabels.count, by: columnStep) {
        let cx = area.left + (Double(c) + 0.5) * cell.width
        w.element("line", [("x1", px(cx)), ("y1", px(area.bottom)), ("x2", px(cx)), ("y2", px(area.bottom + Style.tickLength)),
                           ("stroke", Style.frameColor), ("class", "x-tick major")])
        w.textElement(map.columnLabels[c], [("x", px(cx)), ("y", px(area.bottom + Style.tickLength + 3 + Style.tickFont * 0.85))])
    }
    w.end("g")
    w.element("g", [("class", "y-tick-labels"), ("font-size", px(Style.tickFont)), ("text-anchor", "end")], close: false)
    for r in stride(from: 0, to: map.rowLabels.count, by: rowStep) {
        let cy = area.bottom - (Double(r) + 0.5) * cell.height
        w.element("line", [("x1", px(area.left - Style.tickLength)), ("y1", px(cy)), ("x2", px(area.left)), ("y2", px(cy)),
                           ("stroke", Style.frameColor), ("class", "y-tick major")])
        w.textElement(map.rowLabels[r], [("x", px(area.left - Style.tickLength - 3)), ("y", px(cy + Style.tickFont * 0.36))])
    }
    w.end("g")
}

/// The data ranges of a field map: a grid's cell edges, or the points' bounding box widened by 3 %.
private func fieldExtent(_ field: FieldMap, context: String) throws
    -> (xEdges: [Double], yEdges: [Double], xRange: ClosedRange<Double>, yRange: ClosedRange<Double>) {
    switch field.geometry {
    case .grid(let xs, let ys):
        guard !xs.isEmpty, !ys.isEmpty, xs.count * ys.count == field.values.count else {
            throw ReportingError("\(context): a \(xs.count) × \(ys.count) grid needs \(xs.count * ys.count) values, got \(field.values.count)")
        }
        let xEdges = try cellEdges(xs, name: "x", context: context)
        let yEdges = try cellEdges(ys, name: "y", context: context)
        return (xEdges, yEdges, xEdges.first!...xEdges.last!, yEdges.first!...yEdges.last!)
    case .scattered(let xs, let ys, let size):
        guard xs.count == field.values.count, ys.count == field.values.count else {
            throw ReportingError("\(context): \(xs.count) x, \(ys.count) y coordinates for \(field.values.count) values")
        }
        guard size > 0, size.isFinite else { throw ReportingError("\(context): marker size \(size) must be > 0") }
        let usable = xs.indices.filter { xs[$0].isFinite && ys[$0].isFinite }
        guard let x0 = usable.map({ xs[$0] }).min(), let x1 = usable.map({ xs[$0] }).max(),
              let y0 = usable.map({ ys[$0] }).min(), let y1 = usable.map({ ys[$0] }).max() else {
            throw ReportingError("\(context): no point has finite coordinates")
        }
        let dx = x1 > x0 ? (x1 - x0) * 0.03 : 0.5, dy = y1 > y0 ? (y1 - y0) * 0.03 : 0.5
        return ([], [], (x0 - dx)...(x1 + dx), (y0 - dy)...(y1 + dy))
    }
}

/// The plot area of a field map: what the margins and colour bar leave, shrunk to an equal aspect when asked.
private func fieldArea(_ field: FieldMap, xRange: ClosedRange<Double>, yRange: ClosedRange<Double>, colors: ResolvedColorScale,
                       title: String?, box: PanelBox, context: String) throws -> PlotArea {
    let top = box.y + topMargin(hasTitle: title != nil)
    let bottom = box.y + box.height - bottomMargin(hasLabel: !field.xAxis.label.isEmpty)
    var height = bottom - top
    let yTicks = axisTicks(.linear, yRange, length: height, spacing: 45)
    var left = box.x + leftMargin(yLabels: yTicks.map(\.label), hasLabel: !field.yAxis.label.isEmpty)
    let barWidth = colors.width(length: height, label: field.colorBarLabel)
    var width = box.x + box.width - Style.padding - barWidth - left
    guard width >= 20, height >= 20 else { throw ReportingError("\(context): the panel is too small for its labels") }
    var plotTop = top
    if field.equalAspect {
        // Shrink the plot box so one data unit has the same length on both axes; centre what is left.
        let scale = min(width / (xRange.upperBound - xRange.lowerBound), height / (yRange.upperBound - yRange.lowerBound))
        let newWidth = scale * (xRange.upperBound - xRange.lowerBound)
        let newHeight = scale * (yRange.upperBound - yRange.lowerBound)
        left += (width - newWidth) / 2
        plotTop += (height - newHeight) / 2
        width = newWidth; height = newHeight
    }
    return PlotArea(left: left, top: plotTop, width: width, height: height)
}

/// The cells of a grid field; returns how many cells were drawn.
private func drawFieldCells(_ field: FieldMap, columns nx: Int, xEdges: [Double], yEdges: [Double], colors: ResolvedColorScale,
                            area: PlotArea, x: AxisMapping, y: AxisMapping, clipID: String, into w: inout SVGWriter) -> Int {
    var drawn = 0
    // Edges rounded once, sizes taken from the rounded edges; each cell overlaps its right and
    // upper neighbour by a fraction of a pixel so anti-aliasing leaves no seams (the clip
    // path trims the overlap at the border).
    func rounded(_ v: Double) -> Double { (v * 100).rounded() / 100 }
    let xPixels = xEdges.map { rounded(x.pixel($0) ?? 0) }, yPixels = yEdges.map { rounded(y.pixel($0) ?? 0) }
    let overlap = 0.4
    w.element("clipPath", [("id", clipID)], close: false)
    w.element("rect", [("x", px(area.left)), ("y", px(area.top)), ("width", px(area.width)), ("height", px(area.height))])
    w.end("clipPath")
    w.element("g", [("class", "cells"), ("clip-path", "url(#\(clipID))")], close: false)
    // Neighbouring cells of one row with the same colour are written as one rectangle
    // (large flat regions, e.g. c3 ≈ 0 far from the source, cost one element).
    let ny = field.values.count / nx
    for iy in 0..<ny {
        var ix = 0
        while ix < nx {
            guard let color = colors.color(field.values[iy * nx + ix])?.hexString else { ix += 1; continue }
            var end = ix + 1
            while end < nx, colors.color(field.values[iy * nx + end])?.hexString == color { end += 1 }
            w.element("rect", [("x", px(xPixels[ix])), ("y", px(yPixels[iy + 1] - overlap)),
                               ("width", px(xPixels[end] - xPixels[ix] + overlap)),
                               ("height", px(yPixels[iy] - yPixels[iy + 1] + overlap)), ("fill", color)])
            drawn += end - ix
            ix = end
        }
    }
    w.end("g")
    return drawn
}

/// The points of a scattered field, one disc each; returns how many were drawn.
private func drawFieldPoints(_ field: FieldMap, xs: [Double], ys: [Double], size: Double, colors: ResolvedColorScale,
                             area: PlotArea, x: AxisMapping, y: AxisMapping, clipID: String, into w: inout SVGWriter) -> Int {
    var drawn = 0
    w.element("clipPath", [("id", clipID)], close: false)
    w.element("rect", [("x", px(area.left)), ("y", px(area.top)), ("width", px(area.width)), ("height", px(area.height))])
    w.end("clipPath")
    w.element("g", [("class", "points"), ("clip-path", "url(#\(clipID))")], close: false)
    for (k, v) in field.values.enumerated() {
        guard let color = colors.color(v), let cx = x.pixel(xs[k]), let cy = y.pixel(ys[k]) else { continue }
        w.element("circle", [("cx", px(cx)), ("cy", px(cy)), ("r", px(size / 2)), ("fill", color.hexString)])
        drawn += 1
    }
    w.end("g")
    return drawn
}
