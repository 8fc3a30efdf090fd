import Surrogates
/// The report's standard figures, built from plain inputs (histories, arrays), so the `evaluate`
/// stage only gathers data. Each returns a `Figure`; call `.svg()` or `.write(to:)`.
public enum FigureCatalogue {

    /// A labelled training run.
    public struct Run: Sendable {
        public var label: String
        public var history: HistoryTable
        public init(_ label: String, _ history: HistoryTable) { self.label = label; self.history = history }
    }

    /// Loss curves (the paper's Figure 4): training MSE (left) and test MSE (right) against epoch,
    /// log scale, one line per run. The test panel marks the first run's final test MSE (the target
    /// of the time-to-reach measure) with a dashed line when `markTarget` is true.
    public static func lossCurves(_ runs: [Run], name: String = "loss_curves", unitLabel: String = "MSE (scaled units)",
                                  markTarget: Bool = true) -> Figure {
        func panel(_ title: String, _ values: (HistoryTable) -> [Double], target: ReferenceLine?) -> Panel {
            let series = runs.enumerated().map { i, run in
                PlotSeries.line(LineSeries(run.label, x: run.history.epochs.map(Double.init), y: values(run.history),
                                           color: RGBColor.paletteColor(i), width: 1.4))
            }
            return Panel(title, .xy(XYPlot(xAxis: Axis("epoch"), yAxis: Axis(unitLabel, scale: .log10), series: series,
                                           referenceLines: target.map { [$0] } ?? [], legend: .topRight)))
        }
        var target: ReferenceLine? = nil
        if markTarget, runs.count > 1, let last = runs[0].history.testMSE.last, last.isFinite, last > 0 {
            target = ReferenceLine(.horizontal, at: last, label: "final test MSE, \(runs[0].label)")
        }
        return Figure(name: name, title: "Mean squared error during training",
                      panels: [panel("Training set", { $0.trainMSE }, target: nil), panel("Test set", { $0.testMSE }, target: target)],
                      columns: 2)
    }

    /// The relative error of every DMD jump (MSE after / MSE before) against its epoch, on the
    /// training and, when recorded, the test set, with the line ratio = 1 (below it the jump helped).
    public static func jumpRatios(_ history: HistoryTable, name: String = "jump_ratios") -> Figure {
        let jumps = history.jumps
        var series: [PlotSeries] = []
        let train = jumps.compactMap { j in j.trainRatio.map { (Double(j.epoch), $0) } }
        series.append(.scatter(ScatterSeries("training set", x: train.map(\.0), y: train.map(\.1), color: RGBColor.paletteColor(0),
                                             marker: .circle, size: 5)))
        if history.numbers("test_mse_before") != nil {
            let test = jumps.compactMap { j in j.testRatio.map { (Double(j.epoch), $0) } }
            series.append(.scatter(ScatterSeries("test set", x: test.map(\.0), y: test.map(\.1), color: RGBColor.paletteColor(1),
                                                 marker: .triangle, size: 5)))
        }
        return Figure(name: name, title: "Relative error of each DMD jump",
                      panels: [Panel(nil, .xy(XYPlot(xAxis: Axis("epoch"), yAxis: Axis("MSE after / MSE before", scale: .log10),
                                                     series: series, referenceLines: [ReferenceLine(.horizontal, at: 1, label: "no change")])))],
                      panelWidth: 620, panelHeight: 340)
    }

    /// The (m, s) study (the paper's Figure 3): mean relative error per pair, rows m (growing
    /// upward), columns s, for the training set and optionally the test set, on one colour range so
    /// the panels compare; the chosen pair outlined.
    /// - Parameters: `training[i][j]` belongs to m = `mValues[i]`, s = `sValues[j]`; NaN = not run.
    public static func stepStudy(mValues: [Int], sValues: [Int], training: [[Double]], test: [[Double]]?,
                                 chosen: (m: Int, s: Int)? = nil, logColor: Bool = true, name: String = "ms_study") -> Figure {
        let all = (training + (test ?? [])).flatMap { $0 }.filter { $0.isFinite && (!logColor || $0 > 0) }
        let range: ClosedRange<Double>? = {
            guard let lo = all.min(), let hi = all.max(), hi > lo else { return nil }
            return lo...hi
        }()
        var highlighted: [(row: Int, column: Int)] = []
        if let chosen, let r = mValues.firstIndex(of: chosen.m), let c = sValues.firstIndex(of: chosen.s) {
            highlighted = [(r, c)]
        }
        func panel(_ title: String, _ values: [[Double]]) -> Panel {
            Panel(title, .heatmap(Heatmap(rowLabels: mValues.map(String.init), columnLabels: sValues.map(String.init), values: values,
                                          rowAxisLabel: "snapshots m", columnAxisLabel: "DMD steps s",
                                          colorScale: ColorScale(map: .viridis, scale: logColor ? .log10 : .linear, range: range),
                                          colorBarLabel: "mean relative error", highlighted: highlighted)))
        }
        var panels = [panel("Training set", training)]
        if let test { panels.append(panel("Test set", test)) }
        return Figure(name: name, title: "Mean relative error of a DMD jump (MSE after / before)", panels: panels,
                      columns: panels.count, panelWidth: 520, panelHeight: 360)
    }

    /// c3 fields of one sample (the paper's Figures 2 and 7): the FEM truth and each model's
    /// prediction on one shared colour range (viridis), and below each prediction its error
    /// (prediction − truth) on a shared range symmetric about 0 (cool-warm, grey = 0).
    /// - Parameters: `x` (nx), `y` (ny) the observation grid, values with x varying fastest.
    public static func fieldComparison(x: [Double], y: [Double], truth: [Double], predictions: [(label: String, values: [Double])],
                                       sampleLabel: String, quantity: String = "c₃", name: String) -> Figure {
        let shown = truth + predictions.flatMap(\.values)
        let finite = shown.filter { $0.isFinite }
        let valueRange: ClosedRange<Double>? = {
            guard let lo = finite.min(), let hi = finite.max(), hi > lo else { return nil }
            return lo...hi
        }()
        let valueScale = ColorScale(map: .viridis, scale: .linear, range: valueRange)
        let errors = predictions.map { p in zip(p.values, truth).map { $0 - $1 } }
        let errorScale = ColorScale.symmetric(for: errors.flatMap { $0 })
        let grid = FieldMap.Geometry.grid(x: x, y: y)
        var panels = [Panel("FEM truth", .field(FieldMap(geometry: grid, values: truth, colorScale: valueScale, colorBarLabel: quantity)))]
        for p in predictions {
            panels.append(Panel(p.label, .field(FieldMap(geometry: grid, values: p.values, colorScale: valueScale, colorBarLabel: quantity))))
        }
        if !predictions.isEmpty {
            panels.append(Panel(nil, .blank))
            for (p, e) in zip(predictions, errors) {
                panels.append(Panel("error, \(p.label)", .field(FieldMap(geometry: grid, values: e, colorScale: errorScale,
                                                                         colorBarLabel: "prediction − truth"))))
            }
        }
        return Figure(name: name, title: "\(quantity) at the observation points, \(sampleLabel)", panels: panels,
                      columns: 1 + predictions.count, panelWidth: 400, panelHeight: 330)
    }

    /// One set of complex numbers (e.g. the DMD eigenvalues of one layer).
    public struct ComplexPoints: Sendable {
        public var label: String
        public var real: [Double]
        public var imaginary: [Double]
        public init(_ label: String, real: [Double], imaginary: [Double]) {
            self.label = label; self.real = real; self.imaginary = imaginary
        }
    }

    /// DMD eigenvalues in the complex plane with the unit circle, one panel per jump and one marker
    /// style per layer (|λ| > 1: a growing mode).
    public static func eigenvalues(_ jumps: [(title: String, layers: [ComplexPoints])], name: String = "dmd_eigenvalues") -> Figure {
        let shapes: [MarkerShape] = [.circle, .square, .triangle, .diamond, .cross]
        let panels = jumps.map { jump in
            Panel(jump.title, .xy(XYPlot.complexPlane(jump.layers.enumerated().map { i, layer in
                ScatterSeries(layer.label, x: layer.real, y: layer.imaginary, color: RGBColor.paletteColor(i),
                              marker: shapes[i % shapes.count], size: 6, opacity: 0.8)
            })))
        }
        return Figure(name: name, title: "DMD eigenvalues λ of each layer", panels: panels.isEmpty ? [Panel(nil, .blank)] : panels,
                      columns: min(3, max(1, panels.count)), panelWidth: 360, panelHeight: 340)
    }

    /// Mean time per epoch of each run split into backprop, snapshot, DMD, assignment and the rest.
    public static func timePerEpoch(_ runs: [(label: String, breakdown: TimeBreakdown)], name: String = "time_per_epoch") -> Figure {
        let kinds: [(String, (TimeBreakdown) -> Double?, UInt32)] = [
            ("backprop", { $0.backprop }, 0x0072B2), ("snapshot", { $0.snapshot }, 0xE69F00), ("DMD", { $0.dmd }, 0xD55E00),
            ("assignment", { $0.assignment }, 0xCC79A7), ("other", { $0.unaccounted }, 0xBBBBBB),
        ]
        let components = kinds.compactMap { kind -> StackedBars.Component? in
            let values = runs.map { kind.1($0.breakdown) }
            guard values.contains(where: { ($0 ?? 0) > 0 }) else { return nil }
            return StackedBars.Component(kind.0, values: values.map { $0 ?? 0 }, color: RGBColor(hex: kind.2))
        }
        let bars = StackedBars(categories: runs.map(\.label),
                               components: components.isEmpty ? [StackedBars.Component("other", values: runs.map { _ in 0 })] : components,
                               valueAxis: Axis("seconds per epoch"))
        return Figure(name: name, title: "Time per epoch", panels: [Panel(nil, .bars(bars))], panelWidth: 520, panelHeight: 340)
    }
}
