/// Low-level SVG text output: escaped attributes and text, compact coordinates.
struct SVGWriter {
    private(set) var text = ""

    init() { text.reserveCapacity(1 << 16) }

    mutating func raw(_ s: String) { text += s }

    /// `<name a="v" …/>` or, with `close: false`, `<name …>`; nil attribute values are left out.
    mutating func element(_ name: String, _ attributes: [(String, String?)], close: Bool = true) {
        text += "<" + name
        for (key, value) in attributes {
            guard let value else { continue }
            text += " " + key + "=\"" + xmlEscape(value) + "\""
        }
        text += close ? "/>\n" : ">"
    }

    mutating func end(_ name: String) { text += "</" + name + ">\n" }

    /// `<text …>content</text>` with the content escaped.
    mutating func textElement(_ content: String, _ attributes: [(String, String?)]) {
        element("text", attributes, close: false)
        text += xmlEscape(content)
        end("text")
    }

    /// A tick label: plain text, or "m×10" followed by a raised, smaller exponent.
    mutating func label(_ label: TickLabel, _ attributes: [(String, String?)]) {
        switch label {
        case .plain(let s):
            textElement(s, attributes)
        case .power(let mantissa, let exponent):
            element("text", attributes, close: false)
            text += xmlEscape((mantissa.map { $0 + "×" } ?? "") + "10")
            text += "<tspan dy=\"-0.45em\" font-size=\"75%\">" + xmlEscape(minusSign(exponent)) + "</tspan>"
            end("text")
        }
    }
}

/// Escapes the five XML special characters and drops the control characters XML 1.0 forbids
/// (everything below U+0020 except tab, line feed and carriage return; U+FFFE/U+FFFF).
func xmlEscape(_ s: String) -> String {
    var needs = false
    for u in s.unicodeScalars where u == "&" || u == "<" || u == ">" || u == "\"" || u == "'"
        || (u.value < 0x20 && u != "\t" && u != "\n" && u != "\r") || u.value == 0xFFFE || u.value == 0xFFFF {
        needs = true; break
    }
    if !needs { return s }
    var out = String.UnicodeScalarView()
    for u in s.unicodeScalars {
        switch u {
        case "&": out.append(contentsOf: "&amp;".unicodeScalars)
        case "<": out.append(contentsOf: "&lt;".unicodeScalars)
        case ">": out.append(contentsOf: "&gt;".unicodeScalars)
        case "\"": out.append(contentsOf: "&quot;".unicodeScalars)
        case "'": out.append(contentsOf: "&apos;".unicodeScalars)
        default:
            if (u.value < 0x20 && u != "\t" && u != "\n" && u != "\r") || u.value == 0xFFFE || u.value == 0xFFFF { continue }
            out.append(u)
        }
    }
    return String(out)
}

/// A pixel coordinate with at most two decimals (1/100 px is far below what any renderer shows).
func px(_ v: Double) -> String {
    let r = (v * 100).rounded() / 100
    if r == r.rounded(), abs(r) < 1e15 { return String(Int(r)) }
    return String(r)
}
