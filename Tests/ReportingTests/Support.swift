import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import Reporting

/// One element of a parsed XML document.
struct XMLElementRecord {
    var name: String
    var attributes: [String: String]
    /// Names of the enclosing elements, outermost first.
    var ancestors: [String]
    var ancestorClasses: [String]
    var text: String
}

/// Parses `text` as XML with Foundation's XMLParser (a real, independent XML parser) and returns
/// every element in document order; fails the test when the document is not well-formed.
func parseXML(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> [XMLElementRecord] {
    final class Collector: NSObject, XMLParserDelegate {
        var elements: [XMLElementRecord] = []
        var stack: [Int] = []
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            let ancestors = stack.map { elements[$0].name }
            let classes = stack.compactMap { elements[$0].attributes["class"] }
            elements.append(XMLElementRecord(name: name, attributes: attributes, ancestors: ancestors, ancestorClasses: classes, text: ""))
            stack.append(elements.count - 1)
        }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            stack.removeLast()
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) {
            for index in stack { elements[index].text += string }
        }
    }
    let parser = XMLParser(data: Data(text.utf8))
    let collector = Collector()
    parser.delegate = collector
    guard parser.parse() else {
        let message = parser.parserError.map { "\($0)" } ?? "unknown error"
        XCTFail("not well-formed XML: \(message) at line \(parser.lineNumber), column \(parser.columnNumber)", file: file, line: line)
        throw ReportingError("XML parse failed")
    }
    return collector.elements
}

extension Array where Element == XMLElementRecord {
    func named(_ name: String) -> [XMLElementRecord] { filter { $0.name == name } }
    func withClass(_ token: String) -> [XMLElementRecord] {
        filter { ($0.attributes["class"] ?? "").split(separator: " ").contains(Substring(token)) }
    }
    func inside(classToken token: String) -> [XMLElementRecord] {
        filter { $0.ancestorClasses.contains { $0.split(separator: " ").contains(Substring(token)) } }
    }
}

extension XMLElementRecord {
    func number(_ attribute: String) -> Double? { attributes[attribute].flatMap(Double.init) }
}

/// Deterministic synthetic inputs for the gallery (no randomness: a fixed LCG for the noise).
enum Synthetic {
    struct Noise {
        var state: UInt64
        mutating func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53) - 0.5
        }
    }

    /// A history.csv text: exponential decay with noise; jumps every `m` epochs when `dmd`.
    static func historyCSV(epochs: Int, dmd: Bool, m: Int = 14, secondsPerEpoch: Double) -> String {
        var noise = Noise(state: dmd ? 7 : 3)
        var lines = [dmd ? "epoch,train_mse,test_mse,wall_seconds,jump,train_mse_before,train_mse_after,test_mse_before,test_mse_after,rank_L1,rank_L2,max_abs_eig_L1,max_abs_eig_L2,snapshot_seconds,dmd_seconds,assign_seconds,backprop_seconds"
                         : "epoch,train_mse,test_mse,wall_seconds,backprop_seconds"]
        var wall = 0.0
        for e in 1...epochs {
            let t = Double(e)
            let base = dmd ? 0.4 * exp(-t / 500) + 0.004 * exp(-t / 4000) : 0.4 * exp(-t / 900) + 0.03 * exp(-t / 6000)
            let train = base * (1 + 0.15 * noise.next())
            let test = base * 1.3 * (1 + 0.15 * noise.next())
            let backprop = secondsPerEpoch * (0.93 + 0.02 * noise.next())
            if dmd {
                let jump = e % m == 0
                let snapshot = secondsPerEpoch * 0.004, dmdTime = jump ? secondsPerEpoch * 0.25 : 0, assign = jump ? secondsPerEpoch * 0.02 : 0
                wall += backprop + snapshot + dmdTime + assign + secondsPerEpoch * 0.03
                let ratio = 0.3 + 0.9 * (t / Double(epochs)) + 0.2 * noise.next()
                let cells: [String] = jump
                    ? ["1", "\(train / ratio)", "\(train)", "\(test / ratio)", "\(test * (1 + 0.05 * noise.next()))", "12", "13",
                       "\(0.99 + 0.02 * noise.next())", "\(1.0 + 0.01 * noise.next())", "\(snapshot)", "\(dmdTime)", "\(assign)", "\(backprop)"]
                    : ["0", "", "", "", "", "", "", "", "", "\(snapshot)", "0", "0", "\(backprop)"]
                lines.append((["\(e)", "\(train)", "\(test)", "\(wall)"] + cells).joined(separator: ","))
            } else {
                wall += backprop + secondsPerEpoch * 0.07
                lines.append("\(e),\(train),\(test),\(wall),\(backprop)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The observation grid: 89 × 30, graded towards x = 0 and y = 0 (as formulation §3).
    static let gridX = (0..<89).map { pow(Double($0) / 88, 1.6) }
    static let gridY = (0..<30).map { pow(Double($0) / 29, 2) }

    /// A plume from the source corner, advected to the right; values with x fastest.
    static func plume(strength: Double, spread: Double, tilt: Double) -> [Double] {
        var values: [Double] = []
        for y in gridY {
            for x in gridX {
                let centre = 0.1 + tilt * x
                values.append(strength * exp(-pow(y - centre, 2) / (spread * (0.05 + x))) * exp(-1.2 * x) * (0.3 + x) )
            }
        }
        return values
    }
}
