import Foundation
import Uncertainty
import Reporting

/// The stage's SVG figures, drawn with the Reporting library.
enum UQFigures {
    static func write(grid: (x: [Double], y: [Double]), mc: MonteCarloResult, femTest: (mean: [Double], std: [Double])?,
                      scalar: ScalarSobol, indicator: ScalarSobol?, to folder: URL) throws -> [URL] {
        var files: [URL] = []
        let geometry = FieldMap.Geometry.grid(x: grid.x, y: grid.y)
        func range(_ values: [[Double]]) -> ClosedRange<Double>? {
            let f = values.flatMap { $0 }.filter { $0.isFinite }
            guard let lo = f.min(), let hi = f.max(), hi > lo else { return nil }
            return lo...hi
        }
        for (name, title, surrogate, fem) in [("mean_map", "mean of c₃", mc.mean, femTest?.mean),
                                              ("std_map", "standard deviation of c₃", mc.standardDeviation, femTest?.std)] {
            let scale = ColorScale(map: .viridis, range: range([surrogate] + (fem.map { [$0] } ?? [])))
            var panels = [Panel("surrogate, \(mc.samples) Monte Carlo samples", .field(FieldMap(geometry: geometry, values: surrogate, colorScale: scale, colorBarLabel: "c₃")))]
            if let fem {
                panels.append(Panel("FEM test samples", .field(FieldMap(geometry: geometry, values: fem, colorScale: scale, colorBarLabel: "c₃"))))
                let difference = zip(surrogate, fem).map { $0 - $1 }
                panels.append(Panel("surrogate − FEM", .field(FieldMap(geometry: geometry, values: difference,
                                                                        colorScale: .symmetric(for: difference), colorBarLabel: "difference"))))
            }
            let figure = Figure(name: name, title: "\(title) at the observation points", panels: panels, columns: panels.count,
                                panelWidth: 400, panelHeight: 330)
            let url = folder.appendingPathComponent("\(name).svg")
            try figure.write(to: url); files.append(url)
        }
        func bars(_ s: ScalarSobol, _ title: String) -> Panel {
            let d = s.indices.first.count
            var series: [PlotSeries] = []
            let first = RGBColor.palette[0], total = RGBColor.palette[1]
            series.append(.scatter(ScatterSeries("first order S_i", x: (0..<d).map { Double($0 + 1) - 0.12 }, y: s.indices.first, color: first, marker: .circle)))
            series.append(.scatter(ScatterSeries("total S_Ti", x: (0..<d).map { Double($0 + 1) + 0.12 }, y: s.indices.total, color: total, marker: .square)))
            for i in 0..<d {
                for (offset, interval, color) in [(-0.12, s.firstInterval[i], first), (0.12, s.totalInterval[i], total)] where interval.lowerBound.isFinite {
                    let x = Double(i + 1) + offset
                    series.append(.line(LineSeries(nil, x: [x, x], y: [interval.lowerBound, interval.upperBound], color: color, width: 1.4)))
                    series.append(.line(LineSeries(nil, x: [x - 0.05, x + 0.05], y: [interval.lowerBound, interval.lowerBound], color: color, width: 1.2)))
                    series.append(.line(LineSeries(nil, x: [x - 0.05, x + 0.05], y: [interval.upperBound, interval.upperBound], color: color, width: 1.2)))
                }
            }
            let plot = XYPlot(xAxis: Axis("parameter: 1 K12, 2 K3, 3 D, 4 U0, 5 u_h, 6 u_v", range: 0.5...(Double(d) + 0.5)),
                              yAxis: Axis("Sobol index (\(Int((s.confidence * 100).rounded())) % bootstrap interval)"),
                              series: series, zeroLines: true)
            return Panel(title, .xy(plot))
        }
        var panels = [bars(scalar, "integral of c₃")]
        if let indicator { panels.append(bars(indicator, "existence of the wind (1_F)")) }
        let figure = Figure(name: "sobol_integral", title: "Sobol indices", panels: panels, columns: panels.count)
        let url = folder.appendingPathComponent("sobol_integral.svg")
        try figure.write(to: url); files.append(url)
        return files
    }
}
