import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import PDE

/// A minimal VTU reader: every DataArray's attributes and decoded values (as Double).
final class VTUReader: NSObject, XMLParserDelegate {
    struct Array { var attributes: [String: String]; var values: [Double] }
    var arrays: [String: Array] = [:]
    var piece: [String: String] = [:]
    var headerType = ""
    private var current: [String: String]? = nil
    private var text = ""
    var failure: String? = nil

    static func read(_ url: URL) throws -> VTUReader {
        let reader = VTUReader()
        let parser = try XCTUnwrap(XMLParser(contentsOf: url))
        parser.delegate = reader
        XCTAssertTrue(parser.parse(), "XML parse error: \(String(describing: parser.parserError))")
        if let failure = reader.failure { XCTFail(failure) }
        return reader
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        if name == "VTKFile" { headerType = attributes["header_type"] ?? "UInt32" }
        if name == "Piece" { piece = attributes }
        if name == "DataArray" { current = attributes; text = "" }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { if current != nil { text += string } }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        guard name == "DataArray", let attributes = current else { return }
        current = nil
        let type = attributes["type"] ?? ""
        var values: [Double] = []
        if attributes["format"] == "ascii" {
            values = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Double($0) }
        } else {
            guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), data.count >= 8 else {
                failure = "bad base64 in \(attributes["Name"] ?? "?")"; return
            }
            let bytes = [UInt8](data)
            let count = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            guard Int(count) == bytes.count - 8 else { failure = "header says \(count) bytes, found \(bytes.count - 8)"; return }
            let payload = Swift.Array(bytes[8...])
            func words(_ size: Int) -> [UInt64] {
                stride(from: 0, to: payload.count, by: size).map { start in
                    var word: UInt64 = 0
                    for k in 0..<size { word |= UInt64(payload[start + k]) << UInt64(8 * k) }
                    return word
                }
            }
            switch type {
            case "Float64": values = words(8).map { Double(bitPattern: $0) }
            case "Int64": values = words(8).map { Double(Int64(bitPattern: $0)) }
            case "UInt8": values = payload.map(Double.init)
            default: failure = "unexpected type \(type)"
            }
        }
        arrays[attributes["Name"] ?? "?"] = Array(attributes: attributes, values: values)
    }
}

final class VTUTests: XCTestCase {
    func makeMesh() throws -> TriangleMesh {
        try TriangleMesh.structured(StructuredMeshSpecification(lx: 2, ly: 1, nx: 5, ny: 3, groundGrading: 3,
                                                                terrain: Terrain(bumps: [TerrainBump(center: 1, height: 0.1, width: 0.3)])))
    }

    func write(_ encoding: VTUWriter.Encoding) throws -> (TriangleMesh, URL, [Double], [Double], [Double]) {
        let mesh = try makeMesh()
        let c = (0..<mesh.nodeCount).map { sin(Double($0)) * 1e-7 + Double($0) }
        let ux = mesh.x.map { 1 + $0 / 3 }, uy = mesh.y.map { -$0 * 0.1 }
        var writer = VTUWriter(mesh: mesh)
        try writer.addScalar("c3", c)
        try writer.addVector("wind", x: ux, y: uy)
        try writer.addCellScalar("area", (0..<mesh.triangleCount).map { mesh.area(ofTriangle: $0) })
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fem-test-\(ProcessInfo.processInfo.processIdentifier)-\(encoding).vtu")
        try writer.write(to: url, encoding: encoding)
        return (mesh, url, c, ux, uy)
    }

    func check(_ encoding: VTUWriter.Encoding) throws {
        let (mesh, url, c, ux, uy) = try write(encoding)
        defer { try? FileManager.default.removeItem(at: url) }
        let vtu = try VTUReader.read(url)
        XCTAssertEqual(vtu.headerType, "UInt64")
        XCTAssertEqual(vtu.piece["NumberOfPoints"], "\(mesh.nodeCount)")
        XCTAssertEqual(vtu.piece["NumberOfCells"], "\(mesh.triangleCount)")
        // Values round-trip bit for bit (shortest round-trip text, or raw bytes).
        XCTAssertEqual(vtu.arrays["c3"]?.values, c)
        let wind = try XCTUnwrap(vtu.arrays["wind"])
        XCTAssertEqual(wind.attributes["NumberOfComponents"], "3")
        XCTAssertEqual(wind.values, (0..<mesh.nodeCount).flatMap { [ux[$0], uy[$0], 0] })
        XCTAssertEqual(vtu.arrays["Points"]?.values, (0..<mesh.nodeCount).flatMap { [mesh.x[$0], mesh.y[$0], 0] })
        XCTAssertEqual(vtu.arrays["connectivity"]?.values, mesh.triangles.map(Double.init))
        XCTAssertEqual(vtu.arrays["offsets"]?.values.last, Double(3 * mesh.triangleCount))
        XCTAssertEqual(vtu.arrays["types"]?.values, [Double](repeating: 5, count: mesh.triangleCount))
        XCTAssertEqual(vtu.arrays["area"]?.values.count, mesh.triangleCount)
    }

    func testASCIIRoundTrip() throws { try check(.ascii) }
    func testBase64RoundTrip() throws { try check(.base64) }

    func testBadFieldsAreRejected() throws {
        var writer = VTUWriter(mesh: try makeMesh())
        XCTAssertThrowsError(try writer.addScalar("c", [1, 2])) { XCTAssertTrue("\($0)".contains("has 2 values, expected 24"), "\($0)") }
        var values = [Double](repeating: 0, count: 24)
        values[7] = .nan
        XCTAssertThrowsError(try writer.addScalar("c", values)) { XCTAssertTrue("\($0)".contains("index 7"), "\($0)") }
        try writer.addScalar("c", [Double](repeating: 0, count: 24))
        XCTAssertThrowsError(try writer.addScalar("c", [Double](repeating: 0, count: 24))) { XCTAssertTrue("\($0)".contains("twice")) }
        XCTAssertThrowsError(try writer.addScalar("a<b", [Double](repeating: 0, count: 24)))
    }

    /// meshio reads both encodings with the same points, cells and data; skipped without python3/meshio.
    func testMeshioReadsBothEncodings() throws {
        for encoding in [VTUWriter.Encoding.ascii, .base64] {
            let (mesh, url, c, _, uy) = try write(encoding)
            defer { try? FileManager.default.removeItem(at: url) }
            let script = """
            import meshio, sys
            m = meshio.read(sys.argv[1])
            tri = [c.data for c in m.cells if c.type == 'triangle'][0]
            print(len(m.points), len(tri), repr(float(m.point_data['c3'][5])), repr(float(m.point_data['wind'][3][1])), int(tri[2][1]))
            """
            let fields = try python(script, arguments: [url.path]).split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
            XCTAssertEqual(fields, ["\(mesh.nodeCount)", "\(mesh.triangleCount)", "\(c[5])", "\(uy[3])", "\(mesh.triangles[7])"], "\(encoding)")
        }
    }
}
