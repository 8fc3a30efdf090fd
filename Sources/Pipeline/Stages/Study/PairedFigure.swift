import Foundation
import NumericalFoundations
import Reporting
import Uncertainty

extension PairedSummary {
    /// Per method and epoch: the median and the range over the seeds of the moving average of the
    /// validation MSE, and the median clock-free seconds; NaN where fewer than half of the seeds
    /// still run (stopped runs reached the target and leave the median).
    func curves(_ method: String) -> (epochs: [Double], clock: [Double], median: [Double], low: [Double], high: [Double]) {
        let mine = runs.filter { $0.method == method }
        let length = mine.map(\.movingAverage.count).max() ?? 0
        var e: [Double] = [], clock: [Double] = [], median: [Double] = [], low: [Double] = [], high: [Double] = []
        for k in 0..<length {
            let values = mine.compactMap { k < $0.movingAverage.count ? $0.movingAverage[k] : nil }.filter(\.isFinite)
            let clocks = mine.compactMap { r in r.clockFree.flatMap { k < $0.count ? $0[k] : nil } }
            e.append(Double(k + 1))
            clock.append(clocks.isEmpty ? .nan : Bootstrap.median(clocks))
            guard !values.isEmpty, 2 * values.count >= mine.count else { median.append(.nan); low.append(.nan); high.append(.nan); continue }
            median.append(Bootstrap.median(values)); low.append(values.min()!); high.append(values.max()!)
        }
        return (e, clock, median, low, high)
    }

    /// Validation error (moving average) against epochs and against clock-free seconds, median and
    /// range over seeds: the tuned families in one row of panels, the untuned accelerators in the other,
    /// the baseline in all; the levels dashed.
    public func figure() -> Figure {
        let methods = rows.map(\.method).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let tunedCount = min(3, methods.count)
        let groups = [("tuned families", Array(methods.prefix(tunedCount))), ("untuned accelerators on the baseline", [baseline] + methods.dropFirst(tunedCount))]
        var panels: [Panel] = []
        for (title, names) in groups where names.count > 1 || title == "tuned families" {
            for useClock in [false, true] {
                if useClock && costs == nil { continue }
                var series: [PlotSeries] = []
                for (k, name) in names.enumerated() {
                    let color = RGBColor.palette[k % RGBColor.palette.count]
                    let c = curves(name)
                    let x = useClock ? c.clock : c.epochs
                    series.append(.band(BandSeries(x: x, lower: c.low, upper: c.high, color: color)))
                    series.append(.line(LineSeries(name, x: x, y: c.median, color: color)))
                }
                let lines = levels.map { ReferenceLine(.horizontal, at: $0 * target, label: String(format: "%gT", $0)) }.filter { $0.value.isFinite && $0.value > 0 }
                let xAxis = useClock ? Axis("clock-free seconds (epochs × min CPU s per epoch)", scale: .log10) : Axis("epoch", scale: .log10)
                panels.append(Panel("\(title), against \(useClock ? "clock-free time" : "epochs")",
                                    .xy(XYPlot(xAxis: xAxis, yAxis: Axis("validation MSE, \(window)-epoch moving average", scale: .log10),
                                               series: series, referenceLines: lines))))
            }
        }
        return Figure(name: "verdict", title: "Paired study: median and range over \(seeds.count) seeds", panels: panels, columns: 2)
    }

    /// Writes runs.csv, verdict.csv, verdict.md, verdict.json and the figure (SVG and PNG) into `folder`.
    func write(to folder: URL) throws {
        try AtomicFile.write(runsCSV(), to: folder.appendingPathComponent(Self.runsTable))
        try AtomicFile.write(tableCSV(), to: folder.appendingPathComponent(Self.table))
        try AtomicFile.write(markdown(), to: folder.appendingPathComponent(Self.markdownFile))
        try AtomicFile.write(try AccelerationRun.encodeJSON(self), to: folder.appendingPathComponent(Self.jsonFile))
        let svg = folder.appendingPathComponent(Self.figureFile)
        try AtomicFile.write(try figure().svg(), to: svg)
        try PNGConverter.convert(svg: svg, to: svg.deletingPathExtension().appendingPathExtension("png"))
    }
}
