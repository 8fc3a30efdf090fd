/// The figure model: a `Figure` holds panels laid out on a grid; each panel is one kind of plot.
/// Build the values, then `figure.svg()` renders them (see `FigureRenderer.swift`).

public enum AxisScale: Sendable, Equatable {
    case linear
    /// Base-10 logarithmic; values ≤ 0 cannot be drawn and are skipped like NaN.
    case log10
}

/// One axis of an x–y panel.
public struct Axis: Sendable, Equatable {
    public var label: String
    public var scale: AxisScale
    /// The range shown; `nil` = from the data (linear: widened to the enclosing nice ticks;
    /// log10: widened to the enclosing powers of ten).
    public var range: ClosedRange<Double>?

    public init(_ label: String = "", scale: AxisScale = .linear, range: ClosedRange<Double>? = nil) {
        self.label = label; self.scale = scale; self.range = range
    }
}

public enum DashStyle: Sendable, Equatable {
    case solid, dashed, dotted, dashDot
    var dashArray: String? {
        switch self {
        case .solid: return nil
        case .dashed: return "6,4"
        case .dotted: return "1.5,3"
        case .dashDot: return "7,3,1.5,3"
        }
    }
}

public enum MarkerShape: Sendable, Equatable { case circle, square, diamond, triangle, cross }

/// A polyline through (x, y) points. Non-finite points (and points ≤ 0 on a log axis) are skipped
/// and break the line: each unbroken run becomes one `<polyline>`.
public struct LineSeries: Sendable, Equatable {
    public var name: String?
    public var x: [Double]
    public var y: [Double]
    public var color: RGBColor?
    public var width: Double
    public var dash: DashStyle

    public init(_ name: String?, x: [Double], y: [Double], color: RGBColor? = nil, width: Double = 1.6,
                dash: DashStyle = .solid) {
        self.name = name; self.x = x; self.y = y; self.color = color; self.width = width; self.dash = dash
    }
}

/// Markers at (x, y) points; non-finite points are skipped.
public struct ScatterSeries: Sendable, Equatable {
    public var name: String?
    public var x: [Double]
    public var y: [Double]
    public var color: RGBColor?
    public var marker: MarkerShape
    /// Marker diameter in pixels.
    public var size: Double
    /// Fill opacity (many overlapping points read better below 1).
    public var opacity: Double

    public init(_ name: String?, x: [Double], y: [Double], color: RGBColor? = nil, marker: MarkerShape = .circle,
                size: Double = 6, opacity: Double = 0.85) {
        self.name = name; self.x = x; self.y = y; self.color = color; self.marker = marker
        self.size = size; self.opacity = opacity
    }
}

/// A shaded region between two curves over the same x values (e.g. the spread of several seeds
/// around their median). Points where either bound is not drawable break the region into pieces.
/// It has no legend entry: name the line it surrounds instead.
public struct BandSeries: Sendable, Equatable {
    public var x: [Double]
    public var lower: [Double]
    public var upper: [Double]
    public var color: RGBColor?
    public var opacity: Double

    public init(x: [Double], lower: [Double], upper: [Double], color: RGBColor? = nil, opacity: Double = 0.18) {
        self.x = x; self.lower = lower; self.upper = upper; self.color = color; self.opacity = opacity
    }
}

public enum PlotSeries: Sendable, Equatable {
    case line(LineSeries)
    case scatter(ScatterSeries)
    case band(BandSeries)

    var name: String? {
        switch self { case .line(let s): return s.name; case .scatter(let s): return s.name; case .band: return nil }
    }
    /// The points that set the axis ranges (a band contributes both bounds).
    var xs: [Double] {
        switch self { case .line(let s): return s.x; case .scatter(let s): return s.x; case .band(let b): return b.x + b.x }
    }
    var ys: [Double] {
        switch self { case .line(let s): return s.y; case .scatter(let s): return s.y; case .band(let b): return b.lower + b.upper }
    }
}

/// A straight horizontal (y = value) or vertical (x = value) line across the plot, e.g. a target MSE.
public struct ReferenceLine: Sendable, Equatable {
    public enum Orientation: Sendable, Equatable { case horizontal, vertical }
    public var orientation: Orientation
    public var value: Double
    public var label: String?
    public var color: RGBColor

    public init(_ orientation: Orientation, at value: Double, label: String? = nil,
                color: RGBColor = RGBColor(hex: 0x555555)) {
        self.orientation = orientation; self.value = value; self.label = label; self.color = color
    }
}

public enum LegendPlacement: Sendable, Equatable {
    /// Inside the plot, in a corner no data point or line crosses; to the right of the plot area when
    /// every corner is crossed (a legend never hides data).
    case automatic
    case topRight, topLeft, bottomRight, bottomLeft
    /// To the right of the plot area.
    case outside
    case none
}

/// An x–y plot: lines and scatter markers on linear or log axes.
public struct XYPlot: Sendable, Equatable {
    public var xAxis: Axis
    public var yAxis: Axis
    /// Drawn in this order (later on top); the legend lists the named ones in this order.
    public var series: [PlotSeries]
    public var referenceLines: [ReferenceLine]
    public var legend: LegendPlacement
    /// Equal data units per pixel on both axes (the ranges are widened to fill the plot).
    public var equalAspect: Bool
    /// Draw the unit circle |z| = 1 (for eigenvalues in the complex plane), as an `<ellipse>`.
    public var unitCircle: Bool
    /// Thin lines at x = 0 and y = 0.
    public var zeroLines: Bool

    public init(xAxis: Axis, yAxis: Axis, series: [PlotSeries], referenceLines: [ReferenceLine] = [],
                legend: LegendPlacement = .automatic, equalAspect: Bool = false, unitCircle: Bool = false,
                zeroLines: Bool = false) {
        self.xAxis = xAxis; self.yAxis = yAxis; self.series = series; self.referenceLines = referenceLines
        self.legend = legend; self.equalAspect = equalAspect; self.unitCircle = unitCircle; self.zeroLines = zeroLines
    }

    /// Points in the complex plane (Re on x, Im on y) with the unit circle, equal aspect and a range
    /// that always shows the whole unit circle: DMD eigenvalues λ, |λ| > 1 meaning growth.
    public static func complexPlane(_ series: [ScatterSeries], legend: LegendPlacement = .automatic) -> XYPlot {
        XYPlot(xAxis: Axis("Re λ"), yAxis: Axis("Im λ"), series: series.map { .scatter($0) }, legend: legend,
               equalAspect: true, unitCircle: true, zeroLines: true)
    }
}

/// How values map to colours.
public struct ColorScale: Sendable, Equatable {
    public var map: ColorMap
    public var scale: AxisScale
    /// Values at the two ends of the map; `nil` = the data's finite minimum and maximum (positive
    /// ones for log10). Values outside are drawn with the end colours.
    public var range: ClosedRange<Double>?

    public init(map: ColorMap = .viridis, scale: AxisScale = .linear, range: ClosedRange<Double>? = nil) {
        self.map = map; self.scale = scale; self.range = range
    }

    /// A diverging scale symmetric about 0 covering the largest finite |value| (for errors).
    public static func symmetric(for values: [Double], map: ColorMap = .coolWarm) -> ColorScale {
        let largest = values.lazy.filter { $0.isFinite }.map(abs).max() ?? 0
        let bound = largest > 0 ? largest : 1
        return ColorScale(map: map, scale: .linear, range: -bound...bound)
    }
}

/// Values on a grid of categories, e.g. the (m, s) study (the paper's Figure 3): row i is drawn at
/// the bottom for i = 0 (m grows upward), column j left to right.
public struct Heatmap: Sendable, Equatable {
    public var rowLabels: [String]
    public var columnLabels: [String]
    /// `values[row][column]`; non-finite cells (and ≤ 0 on a log scale) are left empty.
    public var values: [[Double]]
    public var rowAxisLabel: String
    public var columnAxisLabel: String
    public var colorScale: ColorScale
    public var colorBarLabel: String
    /// Write each cell's value in it (with `annotationDigits` significant digits).
    public var annotate: Bool
    public var annotationDigits: Int
    /// Cells outlined in black, e.g. the chosen (m, s).
    public var highlighted: [(row: Int, column: Int)]

    public init(rowLabels: [String], columnLabels: [String], values: [[Double]], rowAxisLabel: String,
                columnAxisLabel: String, colorScale: ColorScale = ColorScale(), colorBarLabel: String = "",
                annotate: Bool = false, annotationDigits: Int = 2, highlighted: [(row: Int, column: Int)] = []) {
        self.rowLabels = rowLabels; self.columnLabels = columnLabels; self.values = values
        self.rowAxisLabel = rowAxisLabel; self.columnAxisLabel = columnAxisLabel; self.colorScale = colorScale
        self.colorBarLabel = colorBarLabel; self.annotate = annotate; self.annotationDigits = annotationDigits
        self.highlighted = highlighted
    }

    public static func == (a: Heatmap, b: Heatmap) -> Bool {
        a.rowLabels == b.rowLabels && a.columnLabels == b.columnLabels && a.values == b.values
            && a.rowAxisLabel == b.rowAxisLabel && a.columnAxisLabel == b.columnAxisLabel
            && a.colorScale == b.colorScale && a.colorBarLabel == b.colorBarLabel && a.annotate == b.annotate
            && a.annotationDigits == b.annotationDigits
            && a.highlighted.map { [$0.row, $0.column] } == b.highlighted.map { [$0.row, $0.column] }
    }
}

/// A scalar field over (x, y) drawn in colour with a colour bar, e.g. c3 on the observation grid.
public struct FieldMap: Sendable, Equatable {
    public enum Geometry: Sendable, Equatable {
        /// A tensor grid: `x` (nx values) and `y` (ny values), each strictly increasing (spacing may
        /// be graded). `values[iy * nx + ix]` is the value at (x[ix], y[iy]) — x varies fastest.
        /// Each point is drawn as the rectangle between the mid-points to its neighbours; the outer
        /// cells stop at the first and last points, so the map covers exactly [x₀, x_last] × [y₀, y_last].
        case grid(x: [Double], y: [Double])
        /// Scattered points: `values[k]` at (x[k], y[k]), drawn as coloured dots of `markerSize` px.
        case scattered(x: [Double], y: [Double], markerSize: Double)
    }
    public var geometry: Geometry
    public var values: [Double]
    public var xAxis: Axis
    public var yAxis: Axis
    public var colorScale: ColorScale
    public var colorBarLabel: String
    /// Same length per unit on both axes (the plot box shrinks to fit).
    public var equalAspect: Bool

    public init(geometry: Geometry, values: [Double], xLabel: String = "x", yLabel: String = "y",
                colorScale: ColorScale = ColorScale(), colorBarLabel: String = "", equalAspect: Bool = true) {
        self.geometry = geometry; self.values = values
        self.xAxis = Axis(xLabel); self.yAxis = Axis(yLabel)
        self.colorScale = colorScale; self.colorBarLabel = colorBarLabel; self.equalAspect = equalAspect
    }
}

/// Vertical bars, one per category, each split into stacked components (e.g. seconds per epoch in
/// backprop, snapshot, DMD and assignment).
public struct StackedBars: Sendable, Equatable {
    public struct Component: Sendable, Equatable {
        public var name: String
        /// One value per category, ≥ 0; non-finite values are skipped.
        public var values: [Double]
        public var color: RGBColor?
        public init(_ name: String, values: [Double], color: RGBColor? = nil) {
            self.name = name; self.values = values; self.color = color
        }
    }
    public var categories: [String]
    public var components: [Component]
    public var valueAxis: Axis
    public var categoryAxisLabel: String
    public var legend: LegendPlacement
    /// Write each bar's total above it.
    public var showTotals: Bool

    public init(categories: [String], components: [Component], valueAxis: Axis, categoryAxisLabel: String = "",
                legend: LegendPlacement = .outside, showTotals: Bool = true) {
        self.categories = categories; self.components = components; self.valueAxis = valueAxis
        self.categoryAxisLabel = categoryAxisLabel; self.legend = legend; self.showTotals = showTotals
    }
}

public enum PanelContent: Sendable, Equatable {
    case xy(XYPlot)
    case heatmap(Heatmap)
    case field(FieldMap)
    case bars(StackedBars)
    /// An empty slot in the grid.
    case blank
}

public struct Panel: Sendable, Equatable {
    public var title: String?
    public var content: PanelContent
    public init(_ title: String? = nil, _ content: PanelContent) { self.title = title; self.content = content }
}

/// A figure: panels on a grid of `columns` columns (row by row), each `panelWidth × panelHeight` px.
public struct Figure: Sendable, Equatable {
    /// A short identifier: the file stem and the prefix of every `id` in the SVG, so that several
    /// figures can be inlined into one HTML page. Letters, digits, `-` and `_`.
    public var name: String
    public var title: String?
    public var panels: [Panel]
    public var columns: Int
    public var panelWidth: Double
    public var panelHeight: Double

    public init(name: String, title: String? = nil, panels: [Panel], columns: Int? = nil,
                panelWidth: Double = 460, panelHeight: Double = 340) {
        self.name = name; self.title = title; self.panels = panels
        self.columns = max(1, columns ?? min(panels.count, 3))
        self.panelWidth = panelWidth; self.panelHeight = panelHeight
    }
}
