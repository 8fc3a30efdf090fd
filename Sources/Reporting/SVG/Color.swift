/// An sRGB colour with components in [0, 1].
public struct RGBColor: Sendable, Equatable, Hashable {
    public var red: Double
    public var green: Double
    public var blue: Double

    public init(red: Double, green: Double, blue: Double) {
        self.red = min(1, max(0, red)); self.green = min(1, max(0, green)); self.blue = min(1, max(0, blue))
    }

    /// From a 24-bit value 0xRRGGBB.
    public init(hex: UInt32) {
        self.init(red: Double((hex >> 16) & 0xFF) / 255, green: Double((hex >> 8) & 0xFF) / 255,
                  blue: Double(hex & 0xFF) / 255)
    }

    /// `#rrggbb` for SVG and CSS.
    public var hexString: String {
        let digits = Array("0123456789abcdef")
        var s = "#"
        for c in [red, green, blue] {
            let v = Int((c * 255).rounded())
            s.append(digits[v >> 4]); s.append(digits[v & 15])
        }
        return s
    }

    /// Relative luminance (WCAG, from linearised sRGB): picks black or white text on a cell.
    public var luminance: Double {
        func linear(_ c: Double) -> Double { c <= 0.04045 ? c / 12.92 : Double.pow((c + 0.055) / 1.055, 2.4) }
        return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
    }

    public static let black = RGBColor(hex: 0x000000)
    public static let white = RGBColor(hex: 0xFFFFFF)

    /// The Okabe–Ito palette (distinguishable with the common colour-vision deficiencies), in the
    /// order series get them; yellow last because it is faint on white.
    public static let palette: [RGBColor] = [0x0072B2, 0xD55E00, 0x009E73, 0xCC79A7, 0xE69F00, 0x56B4E9, 0x000000, 0xF0E442]
        .map { RGBColor(hex: $0) }

    static func paletteColor(_ index: Int) -> RGBColor { palette[index % palette.count] }
}

extension Double {
    static func pow(_ x: Double, _ y: Double) -> Double { Foundation_pow(x, y) }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func Foundation_pow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
#else
import Darwin
@inline(__always) func Foundation_pow(_ x: Double, _ y: Double) -> Double { Darwin.pow(x, y) }
#endif

/// A colour map: evenly spaced anchor colours, interpolated linearly in sRGB between them.
public struct ColorMap: Sendable, Equatable {
    public let name: String
    public let anchors: [RGBColor]

    public init(name: String, anchors: [RGBColor]) {
        precondition(anchors.count >= 2, "a colour map needs at least two anchors")
        self.name = name; self.anchors = anchors
    }

    /// The colour at t ∈ [0, 1] (clamped).
    public func color(at t: Double) -> RGBColor {
        let u = min(1, max(0, t.isNaN ? 0 : t)) * Double(anchors.count - 1)
        let i = min(Int(u), anchors.count - 2)
        let f = u - Double(i)
        let a = anchors[i], b = anchors[i + 1]
        return RGBColor(red: a.red + f * (b.red - a.red), green: a.green + f * (b.green - a.green),
                        blue: a.blue + f * (b.blue - a.blue))
    }

    /// Viridis (perceptually uniform, sequential), as 17 evenly spaced samples of the published map;
    /// sRGB interpolation between samples this close stays within a few levels of the full map.
    public static let viridis = ColorMap(name: "viridis", anchors: [
        0x440154, 0x481A6C, 0x472F7D, 0x414487, 0x39568C, 0x31688E, 0x2A788E, 0x23888E, 0x1F988B,
        0x22A884, 0x35B779, 0x54C568, 0x7AD151, 0xA5DB36, 0xD2E21B, 0xE8E419, 0xFDE725,
    ].map { RGBColor(hex: $0) })

    /// A diverging blue–grey–red map in the style of Moreland's "cool to warm", for signed values
    /// such as prediction − truth (use a range symmetric about 0 so that grey means 0).
    public static let coolWarm = ColorMap(name: "cool-warm", anchors: [
        0x3B4CC0, 0x6282EA, 0x8DB0FE, 0xB8D0F9, 0xDDDDDD, 0xF5C4AD, 0xF49A7B, 0xDE604D, 0xB40426,
    ].map { RGBColor(hex: $0) })
}
