import Foundation

/// A tick label: plain text, or m × 10^k drawn with a raised exponent.
enum TickLabel: Equatable {
    case plain(String)
    /// `mantissa` nil: just 10^k.
    case power(mantissa: String?, exponent: Int)

    /// Width in px of the label in a font of `size` px (estimate, see `textWidth`).
    func width(fontSize size: Double) -> Double {
        switch self {
        case .plain(let s): return textWidth(s, fontSize: size)
        case .power(let m, let k):
            let base = (m.map { $0 + "×" } ?? "") + "10"
            return textWidth(base, fontSize: size) + textWidth(minusSign(k), fontSize: size * 0.75)
        }
    }
}

struct Tick: Equatable {
    var value: Double
    var label: TickLabel?   // nil: minor tick
}

/// The typographic minus for negative numbers.
func minusSign(_ k: Int) -> String { k < 0 ? "−\(-k)" : "\(k)" }
func typographic(_ s: String) -> String {
    s.hasPrefix("-") ? "−" + s.dropFirst() : s
}

/// Estimated advance width of `text` in a sans-serif font of `fontSize` px. SVG has no text
/// metrics, so layout uses per-character estimates tuned to DejaVu Sans / Helvetica (digits 0.64 em,
/// narrow letters less, wide letters more); they only need to avoid overlaps, not be exact.
func textWidth(_ text: String, fontSize: Double) -> Double {
    var em = 0.0
    for ch in text {
        switch ch {
        case "i", "l", "j", "I", ".", ",", ":", ";", "'", "|", "!", " ": em += 0.32
        case "f", "t", "r", "(", ")", "[", "]", "-", "₀"..."₉", "⁰"..."⁹": em += 0.42
        case "m", "w", "M", "W", "×", "—": em += 0.92
        case "A"..."Z": em += 0.70
        default: em += 0.62
        }
    }
    return em * fontSize
}

enum Ticks {
    /// A "nice" step (1, 2 or 5 × 10^k) close to span / target.
    static func niceStep(span: Double, target: Int) -> Double {
        let raw = span / Double(max(1, target))
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let residual = raw / magnitude
        let nice: Double = residual < 1.5 ? 1 : residual < 3 ? 2 : residual < 7 ? 5 : 10
        return nice * magnitude
    }

    /// The range a linear axis shows for data in [lo, hi]: widened to the enclosing multiples of a
    /// nice step; a single value is widened around itself.
    static func autoLinearRange(_ lo: Double, _ hi: Double, target: Int) -> ClosedRange<Double> {
        var (lo, hi) = (lo, hi)
        if lo == hi {
            let d = lo == 0 ? 1 : abs(lo) * 0.1
            lo -= d; hi += d
        }
        let step = niceStep(span: hi - lo, target: target)
        return ((lo / step).rounded(.down) * step)...((hi / step).rounded(.up) * step)
    }

    /// The range a log axis shows for positive data in [lo, hi]: the enclosing powers of ten, or, for
    /// data spanning less than two decades, the enclosing 1, 2, 5 × 10^k (labelled so by `log`), so a
    /// short axis is not two-thirds empty (150 … 2400 is shown as 100 … 5000, not 100 … 10000).
    static func autoLogRange(_ lo: Double, _ hi: Double) -> ClosedRange<Double> {
        var a = log10(lo).rounded(.down), b = log10(hi).rounded(.up)
        if a == b { a -= 1; b += 1 }   // a single power of ten: one decade each side
        guard log10(hi / lo) < 2 else { return pow(10, a)...pow(10, b) }
        func nice(_ v: Double, up: Bool) -> Double {
            let k = log10(v).rounded(.down), unit = pow(10, k)
            let steps: [Double] = [1, 2, 5, 10]
            // 1e-9: a value a rounding away from 2 × 10^k is that step, not the next one.
            return up ? unit * steps.first { $0 >= v / unit * (1 - 1e-9) }!
                      : unit * steps.last { $0 <= v / unit * (1 + 1e-9) }!
        }
        let low = nice(lo, up: false), high = nice(hi, up: true)
        return low < high ? low...high : pow(10, a)...pow(10, b)
    }

    /// Major ticks at multiples of a nice step inside [lo, hi], labelled with just enough decimals.
    static func linear(_ range: ClosedRange<Double>, target: Int) -> [Tick] {
        let lo = range.lowerBound, hi = range.upperBound
        guard hi > lo else { return [Tick(value: lo, label: label(lo, step: 1))] }
        let step = niceStep(span: hi - lo, target: target)
        let first = (lo / step - 1e-9).rounded(.up), last = (hi / step + 1e-9).rounded(.down)
        guard last >= first, last - first < 1000 else { return [] }
        return stride(from: first, through: last, by: 1).map { k in
            var v = k * step
            if abs(v) < step * 1e-9 { v = 0 }
            return Tick(value: v, label: label(v, step: step))
        }
    }

    /// Log axis ticks. With three or more powers of ten inside the range: labelled powers of ten
    /// (every k-th decade when there are more than `maxLabels`) and, when decades are few enough,
    /// unlabelled minor ticks at 2…9 × 10^k. With fewer: labelled 1, 2, 5 × 10^k as plain numbers
    /// and minor ticks at the other integers × 10^k, so a short log axis still has several labels.
    static func log(_ range: ClosedRange<Double>, maxLabels: Int) -> [Tick] {
        let lo = range.lowerBound, hi = range.upperBound
        guard lo > 0, hi > lo else { return [] }
        func inside(_ v: Double) -> Bool { v >= lo * (1 - 1e-12) && v <= hi * (1 + 1e-12) }
        let a = Int((log10(lo) - 1e-9).rounded(.up)), b = Int((log10(hi) + 1e-9).rounded(.down))
        let lower = Int(log10(lo).rounded(.down)), upper = Int(log10(hi).rounded(.up))
        var ticks: [Tick] = []
        if b - a + 1 >= 3 {
            let decades = b - a
            let every = max(1, Int((Double(decades + 1) / Double(max(2, maxLabels))).rounded(.up)))
            for k in a...b where (k - a) % every == 0 {
                ticks.append(Tick(value: pow(10, Double(k)), label: .power(mantissa: nil, exponent: k)))
            }
            if every == 1 && decades <= 8 {
                for k in lower...upper {
                    for m in 2...9 where inside(Double(m) * pow(10, Double(k))) {
                        ticks.append(Tick(value: Double(m) * pow(10, Double(k)), label: nil))
                    }
                }
            }
        } else {
            for k in lower...upper {
                let unit = pow(10, Double(k))
                for m in 1...9 where inside(Double(m) * unit) {
                    let v = Double(m) * unit
                    ticks.append(Tick(value: v, label: [1, 2, 5].contains(m) ? label(v, step: unit) : nil))
                }
            }
            if ticks.filter({ $0.label != nil }).count < 2 {
                ticks = [Tick(value: lo, label: label(lo, step: lo / 10)), Tick(value: hi, label: label(hi, step: hi / 10))]
            }
        }
        return ticks.sorted { $0.value < $1.value }
    }

    /// A label for `value` on an axis with tick spacing `step`: plain decimals with as many digits
    /// as the step needs; m × 10^k when the numbers are very large or very small.
    static func label(_ value: Double, step: Double) -> TickLabel {
        if value == 0 { return .plain("0") }
        let magnitude = max(abs(value), step)
        if magnitude >= 1e5 || magnitude < 1e-3 {
            let k = Int(log10(abs(value)).rounded(.down))
            let mantissa = value / pow(10, Double(k))
            let stepDigits = max(0, Int((-log10(step / pow(10, Double(k)))).rounded(.up)))
            var m = String(format: "%.\(min(stepDigits, 6))f", mantissa)
            if m.contains(".") { while m.hasSuffix("0") { m.removeLast() }; if m.hasSuffix(".") { m.removeLast() } }
            if m == "1" { return .power(mantissa: nil, exponent: k) }
            if m == "-1" { return .power(mantissa: "−1", exponent: k) }
            return .power(mantissa: typographic(m), exponent: k)
        }
        let decimals = max(0, Int((-log10(step) - 1e-9).rounded(.up)))
        return .plain(typographic(String(format: "%.\(min(decimals, 10))f", value)))
    }

    /// A compact number for annotations and tables: `digits` significant digits, scientific when
    /// very large or small.
    static func compact(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "∞" : "−∞") }
        if value == 0 { return "0" }
        let a = abs(value)
        if a >= 1e5 || a < 1e-3 {
            return typographic(String(format: "%.\(max(0, digits - 1))e", value))
        }
        let decimals = max(0, digits - 1 - Int(log10(a).rounded(.down)))
        return typographic(String(format: "%.\(decimals)f", value))
    }
}

/// Maps data values to pixels along one axis.
struct AxisMapping {
    let scale: AxisScale
    let range: ClosedRange<Double>
    /// Pixel coordinates of range.lowerBound and range.upperBound (for y, start > end).
    let start: Double
    let end: Double

    private var transformedLow: Double { scale == .log10 ? log10(range.lowerBound) : range.lowerBound }
    private var transformedHigh: Double { scale == .log10 ? log10(range.upperBound) : range.upperBound }

    /// The pixel of `value`, or nil when it cannot be drawn (non-finite, or ≤ 0 on a log axis).
    /// Far-away values are clamped to ±1e6 px so that renderers never see absurd coordinates.
    func pixel(_ value: Double) -> Double? {
        guard value.isFinite else { return nil }
        let t: Double
        if scale == .log10 {
            guard value > 0 else { return nil }
            t = log10(value)
        } else { t = value }
        let span = transformedHigh - transformedLow
        let fraction = span == 0 ? 0.5 : (t - transformedLow) / span
        return min(1e6, max(-1e6, start + fraction * (end - start)))
    }

    /// Pixels per data unit (linear scales only).
    var pixelsPerUnit: Double { abs(end - start) / (range.upperBound - range.lowerBound) }
}
