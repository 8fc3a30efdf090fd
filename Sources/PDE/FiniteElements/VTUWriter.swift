import Foundation
import NumericalFoundations

/// Writes a mesh and nodal fields as a VTK XML unstructured grid (`.vtu`, VTKFile version 1.0), which
/// ParaView and meshio open. Points are (x, y, 0); cells are VTK_TRIANGLE (type 5); scalar fields
/// are Float64 arrays, 2-D vector fields are written with three components (z = 0) so that ParaView
/// can draw glyphs. `.ascii` writes numbers as text (shortest round-trip form); `.base64` writes each
/// array inline as base64 of [UInt64 byte count][little-endian data] (header_type="UInt64").
/// The file is written atomically (temporary file + rename).
public struct VTUWriter {
    public enum Encoding: Sendable { case ascii, base64 }

    public let mesh: TriangleMesh
    private var pointFields: [(name: String, components: Int, values: [Double])] = []
    private var cellFields: [(name: String, values: [Double])] = []

    public init(mesh: TriangleMesh) { self.mesh = mesh }

    public mutating func addScalar(_ name: String, _ values: [Double]) throws {
        try checkName(name)
        try checkValues(name, values, expected: mesh.nodeCount)
        pointFields.append((name, 1, values))
    }

    public mutating func addVector(_ name: String, x: [Double], y: [Double]) throws {
        try checkName(name)
        try checkValues(name + ".x", x, expected: mesh.nodeCount)
        try checkValues(name + ".y", y, expected: mesh.nodeCount)
        var interleaved = [Double](repeating: 0, count: 3 * mesh.nodeCount)
        for i in 0..<mesh.nodeCount { interleaved[3 * i] = x[i]; interleaved[3 * i + 1] = y[i] }
        pointFields.append((name, 3, interleaved))
    }

    /// A value per triangle (e.g. τ, or an error indicator).
    public mutating func addCellScalar(_ name: String, _ values: [Double]) throws {
        try checkName(name)
        try checkValues(name, values, expected: mesh.triangleCount)
        cellFields.append((name, values))
    }

    private func checkName(_ name: String) throws {
        guard !name.isEmpty, !name.contains(where: { $0 == "\"" || $0 == "<" || $0 == ">" || $0 == "&" }) else {
            throw MeshError.invalid("VTU field name \"\(name)\" must be non-empty and free of \" < > &")
        }
        guard !pointFields.contains(where: { $0.name == name }), !cellFields.contains(where: { $0.name == name }) else {
            throw MeshError.invalid("VTU field \"\(name)\" is added twice")
        }
    }

    private func checkValues(_ name: String, _ values: [Double], expected: Int) throws {
        guard values.count == expected else { throw MeshError.invalid("VTU field \"\(name)\" has \(values.count) values, expected \(expected)") }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw MeshError.invalid("VTU field \"\(name)\" has the non-finite value \(values[bad]) at index \(bad)")
        }
    }

    /// The document as a string.
    public func document(encoding: Encoding = .ascii) -> String {
        var out = "<?xml version=\"1.0\"?>\n"
        out += "<VTKFile type=\"UnstructuredGrid\" version=\"1.0\" byte_order=\"LittleEndian\" header_type=\"UInt64\">\n"
        out += "  <UnstructuredGrid>\n"
        out += "    <Piece NumberOfPoints=\"\(mesh.nodeCount)\" NumberOfCells=\"\(mesh.triangleCount)\">\n"
        out += "      <PointData>\n"
        for field in pointFields {
            out += dataArray(name: field.name, type: "Float64", components: field.components, encoding: encoding, doubles: field.values)
        }
        out += "      </PointData>\n"
        out += "      <CellData>\n"
        for field in cellFields {
            out += dataArray(name: field.name, type: "Float64", components: 1, encoding: encoding, doubles: field.values)
        }
        out += "      </CellData>\n"
        out += "      <Points>\n"
        var points = [Double](repeating: 0, count: 3 * mesh.nodeCount)
        for i in 0..<mesh.nodeCount { points[3 * i] = mesh.x[i]; points[3 * i + 1] = mesh.y[i] }
        out += dataArray(name: "Points", type: "Float64", components: 3, encoding: encoding, doubles: points)
        out += "      </Points>\n"
        out += "      <Cells>\n"
        out += dataArray(name: "connectivity", type: "Int64", components: 1, encoding: encoding, integers: mesh.triangles.map(Int64.init))
        out += dataArray(name: "offsets", type: "Int64", components: 1, encoding: encoding,
                         integers: (1...mesh.triangleCount).map { Int64(3 * $0) })
        out += dataArray(name: "types", type: "UInt8", components: 1, encoding: encoding,
                         bytes: [UInt8](repeating: 5, count: mesh.triangleCount))
        out += "      </Cells>\n"
        out += "    </Piece>\n  </UnstructuredGrid>\n</VTKFile>\n"
        return out
    }

    public func write(to url: URL, encoding: Encoding = .ascii) throws {
        do {
            try AtomicFile.write(Data(document(encoding: encoding).utf8), to: url)
        } catch let error as ArrayFileError {
            throw MeshError.file(path: error.path, line: nil, message: error.message)
        }
    }

    private func open(_ name: String, _ type: String, _ components: Int, _ encoding: Encoding) -> String {
        let componentAttribute = components > 1 ? " NumberOfComponents=\"\(components)\"" : ""
        return "        <DataArray type=\"\(type)\" Name=\"\(name)\"\(componentAttribute) format=\"\(encoding == .ascii ? "ascii" : "binary")\">\n          "
    }
    private let close = "\n        </DataArray>\n"

    private func dataArray(name: String, type: String, components: Int, encoding: Encoding, doubles: [Double]) -> String {
        switch encoding {
        case .ascii: return open(name, type, components, encoding) + doubles.map { "\($0)" }.joined(separator: " ") + close
        case .base64: return open(name, type, components, encoding) + base64(doubles.map { $0.bitPattern.littleEndian }) + close
        }
    }

    private func dataArray(name: String, type: String, components: Int, encoding: Encoding, integers: [Int64]) -> String {
        switch encoding {
        case .ascii: return open(name, type, components, encoding) + integers.map { "\($0)" }.joined(separator: " ") + close
        case .base64: return open(name, type, components, encoding) + base64(integers.map { $0.littleEndian }) + close
        }
    }

    private func dataArray(name: String, type: String, components: Int, encoding: Encoding, bytes: [UInt8]) -> String {
        switch encoding {
        case .ascii: return open(name, type, components, encoding) + bytes.map { "\($0)" }.joined(separator: " ") + close
        case .base64: return open(name, type, components, encoding) + base64(bytes) + close
        }
    }

    /// base64 of the UInt64 byte count followed by the raw (already little-endian) values.
    private func base64<T>(_ values: [T]) -> String {
        var data = Data()
        let byteCount = UInt64(values.count * MemoryLayout<T>.stride).littleEndian
        withUnsafeBytes(of: byteCount) { data.append(contentsOf: $0) }
        values.withUnsafeBytes { data.append(contentsOf: $0) }
        return data.base64EncodedString()
    }
}
