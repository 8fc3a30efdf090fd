import Foundation

/// Reads a triangle mesh from a Gmsh `.msh` file, ASCII format 4.1 or 2.2, so that users can bring
/// their own meshes. Only 3-node triangles (element type 2) make the mesh; 2-node lines (type 1)
/// carry the boundary tags through their physical groups; points (type 15) are ignored; any other
/// element type is an error (the FE code is P1 on triangles). Nodes that belong to no triangle are
/// dropped and the rest renumbered in file order. Every boundary edge of the triangulation must lie
/// on a line element of a physical group whose name maps to a `BoundaryTag` (case-insensitive):
/// ground/bottom → ground, upstream/inflow/inlet/left → upstream, top → top,
/// downstream/outflow/outlet/right → downstream. Lines inside the domain are ignored.
/// Heights above ground come from the piecewise-linear ground polyline.
public enum GmshReader {
    public static let boundaryNames: [String: BoundaryTag] = [
        "ground": .ground, "bottom": .ground,
        "upstream": .upstream, "inflow": .upstream, "inlet": .upstream, "left": .upstream,
        "top": .top,
        "downstream": .downstream, "outflow": .downstream, "outlet": .downstream, "right": .downstream,
    ]

    public static func read(_ url: URL, boundaryNames: [String: BoundaryTag] = GmshReader.boundaryNames) throws -> TriangleMesh {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw MeshError.file(path: url.path, line: nil, message: "cannot read: \(error.localizedDescription)")
        }
        return try parse(text, path: url.path, boundaryNames: boundaryNames)
    }

    public static func parse(_ text: String, path: String = "<string>", boundaryNames: [String: BoundaryTag] = GmshReader.boundaryNames) throws -> TriangleMesh {
        var reader = LineReader(text: text, path: path)
        var contents = FileContents()
        while let header = reader.nextLine() {
            switch header {
            case "$MeshFormat": try contents.parseMeshFormatSection(&reader)
            case "$PhysicalNames": try contents.parsePhysicalNamesSection(&reader)
            case "$Entities": try contents.parseEntitiesSection(&reader)
            case "$Nodes": try contents.parseNodesSection(&reader)
            case "$Elements": try contents.parseElementsSection(&reader)
            default:
                if header.hasPrefix("$") && !header.hasPrefix("$End") {
                    // Sections we do not need ($NodeData, $Periodic, …): skip to their end.
                    let end = "$End" + header.dropFirst()
                    while let line = reader.nextLine(), line != end {}
                }
            }
        }
        return try contents.mesh(path: path, boundaryNames: boundaryNames)
    }

    /// What the sections of a .msh file say, as read (Gmsh tags, before renumbering).
    private struct FileContents {
        var version: String? = nil
        var physicalNames: [Int: String] = [:]  // physical tag of dimension 1 → name
        var entityPhysical: [Int: [Int]] = [:]  // curve entity tag → its physical tags (4.1)
        var nodeIndex: [Int: Int] = [:]
        var nodeX: [Double] = [], nodeY: [Double] = []
        var triangles: [Int] = []               // node tags
        var lines: [(a: Int, b: Int, physical: [Int], line: Int)] = []

        mutating func parseMeshFormatSection(_ reader: inout LineReader) throws {
            let fields = try reader.fields(count: 3)
            guard fields[0] == "4.1" || fields[0] == "2.2" else {
                throw reader.error("unsupported .msh version \(fields[0]); expected 4.1 or 2.2")
            }
            guard fields[1] == "0" else { throw reader.error("binary .msh files are not supported; save as ASCII") }
            version = fields[0]
            try reader.expect("$EndMeshFormat")
        }

        mutating func parsePhysicalNamesSection(_ reader: inout LineReader) throws {
            let count = try reader.integer(try reader.fields(count: 1)[0])
            for _ in 0..<count {
                let line = try reader.line()
                let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
                guard parts.count == 3 else { throw reader.error("expected 'dimension tag \"name\"'") }
                if try reader.integer(parts[0]) == 1 {
                    physicalNames[try reader.integer(parts[1])] = parts[2].trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
                }
            }
            try reader.expect("$EndPhysicalNames")
        }

        mutating func parseEntitiesSection(_ reader: inout LineReader) throws {
            let counts = try reader.fields(count: 4).map { try reader.integer($0) }
            for _ in 0..<counts[0] { _ = try reader.line() }  // points
            for _ in 0..<counts[1] {  // curves: tag, bounding box (6), physical tags, bounding points
                let fields = try reader.fields(minimum: 8)
                let physicalCount = try reader.integer(fields[7])
                guard fields.count >= 8 + physicalCount else { throw reader.error("curve entity lists fewer physical tags than it announces") }
                entityPhysical[try reader.integer(fields[0])] = try fields[8..<(8 + physicalCount)].map { try reader.integer($0) }
            }
            for _ in 0..<(counts[2] + counts[3]) { _ = try reader.line() }
            try reader.expect("$EndEntities")
        }

        mutating func parseNodesSection(_ reader: inout LineReader) throws {
            guard let version else { throw reader.error("$Nodes before $MeshFormat") }
            if version == "2.2" {
                let count = try reader.integer(try reader.fields(count: 1)[0])
                for _ in 0..<count {
                    let f = try reader.fields(count: 4)
                    try addNode(tag: reader.integer(f[0]), x: reader.real(f[1]), y: reader.real(f[2]), reader: reader)
                }
            } else {
                let header = try reader.fields(count: 4).map { try reader.integer($0) }
                for _ in 0..<header[0] {
                    let block = try reader.fields(count: 4).map { try reader.integer($0) }
                    let (dimension, parametric, count) = (block[0], block[2], block[3])
                    var tags: [Int] = []
                    for _ in 0..<count { tags.append(try reader.integer(try reader.fields(count: 1)[0])) }
                    let coordinates = 3 + (parametric == 1 ? dimension : 0)
                    for tag in tags {
                        let f = try reader.fields(count: coordinates)
                        try addNode(tag: tag, x: reader.real(f[0]), y: reader.real(f[1]), reader: reader)
                    }
                }
            }
            try reader.expect("$EndNodes")
        }

        mutating func parseElementsSection(_ reader: inout LineReader) throws {
            guard let version else { throw reader.error("$Elements before $MeshFormat") }
            if version == "2.2" {
                let count = try reader.integer(try reader.fields(count: 1)[0])
                for _ in 0..<count {
                    let f = try reader.fields(minimum: 3).map { try reader.integer($0) }
                    let (type, tagCount) = (f[1], f[2])
                    guard f.count >= 3 + tagCount else { throw reader.error("element \(f[0]) has fewer tags than announced") }
                    let physical = tagCount > 0 ? [f[3]] : []
                    try addElement(type: type, nodes: Array(f[(3 + tagCount)...]), physical: physical, number: f[0], reader: reader)
                }
            } else {
                let header = try reader.fields(count: 4).map { try reader.integer($0) }
                for _ in 0..<header[0] {
                    let block = try reader.fields(count: 4).map { try reader.integer($0) }
                    let (dimension, entity, type, count) = (block[0], block[1], block[2], block[3])
                    let physical = dimension == 1 ? entityPhysical[entity] ?? [] : []
                    for _ in 0..<count {
                        let f = try reader.fields(minimum: 2).map { try reader.integer($0) }
                        try addElement(type: type, nodes: Array(f.dropFirst()), physical: physical, number: f[0], reader: reader)
                    }
                }
            }
            try reader.expect("$EndElements")
        }

        mutating func addNode(tag: Int, x: Double, y: Double, reader: LineReader) throws {
            guard nodeIndex[tag] == nil else { throw reader.error("node \(tag) is defined twice") }
            nodeIndex[tag] = nodeX.count
            nodeX.append(x)
            nodeY.append(y)
        }

        mutating func addElement(type: Int, nodes: [Int], physical: [Int], number: Int, reader: LineReader) throws {
            switch type {
            case 2:
                guard nodes.count == 3 else { throw reader.error("triangle \(number) has \(nodes.count) nodes") }
                triangles += nodes
            case 1:
                guard nodes.count == 2 else { throw reader.error("line \(number) has \(nodes.count) nodes") }
                lines.append((nodes[0], nodes[1], physical, reader.lineNumber))
            case 15: break
            default:
                throw reader.error("element \(number) has type \(type); only 3-node triangles (2), 2-node lines (1) and points (15) are supported")
            }
        }

        /// The mesh of the triangles' nodes, renumbered in file order, with the boundary tags of the line elements.
        func mesh(path: String, boundaryNames: [String: BoundaryTag]) throws -> TriangleMesh {
            guard version != nil else { throw MeshError.file(path: path, line: nil, message: "no $MeshFormat section: not a Gmsh .msh file") }
            guard !triangles.isEmpty else { throw MeshError.file(path: path, line: nil, message: "the file holds no triangles (element type 2)") }
            // Renumber: keep the nodes used by triangles, in file order.
            var used = [Bool](repeating: false, count: nodeX.count)
            for tag in triangles {
                guard let index = nodeIndex[tag] else { throw MeshError.file(path: path, line: nil, message: "a triangle refers to undefined node \(tag)") }
                used[index] = true
            }
            var newIndex = [Int](repeating: -1, count: nodeX.count)
            var x: [Double] = [], y: [Double] = []
            for i in 0..<nodeX.count where used[i] {
                newIndex[i] = x.count
                x.append(nodeX[i])
                y.append(nodeY[i])
            }
            let triangleNodes = triangles.map { newIndex[nodeIndex[$0]!] }
            let edgeTags = try boundaryEdgeTags(newIndex: newIndex, path: path, boundaryNames: boundaryNames)
            do {
                return try TriangleMesh(x: x, y: y, triangles: triangleNodes, boundaryTag: { edgeTags[EdgeKey($0, $1)] })
            } catch let error as MeshError {
                throw MeshError.file(path: path, line: nil, message: "\(error)")
            }
        }

        /// The boundary tag of each edge (renumbered nodes) that lies on a line element of a named physical group.
        func boundaryEdgeTags(newIndex: [Int], path: String, boundaryNames: [String: BoundaryTag]) throws -> [EdgeKey: BoundaryTag] {
            var edgeTags: [EdgeKey: BoundaryTag] = [:]
            for line in lines {
                guard let ia = nodeIndex[line.a], let ib = nodeIndex[line.b] else {
                    throw MeshError.file(path: path, line: line.line, message: "a line element refers to an undefined node")
                }
                let a = newIndex[ia], b = newIndex[ib]
                guard a >= 0, b >= 0 else { continue }  // a line away from the triangles
                for physical in line.physical {
                    guard let name = physicalNames[physical] else { continue }
                    guard let tag = boundaryNames[name.lowercased()] else {
                        let accepted = boundaryNames.keys.sorted().joined(separator: ", ")
                        throw MeshError.file(path: path, line: line.line, message: "physical group \"\(name)\" is not a boundary name (accepted: \(accepted))")
                    }
                    edgeTags[EdgeKey(a, b)] = tag
                }
            }
            return edgeTags
        }
    }

    struct EdgeKey: Hashable {
        let low: Int, high: Int
        init(_ a: Int, _ b: Int) { low = min(a, b); high = max(a, b) }
    }

    struct LineReader {
        let lines: [Substring]
        let path: String
        var position = 0
        var lineNumber: Int { position }

        init(text: String, path: String) {
            lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            self.path = path
        }

        mutating func nextLine() -> String? {
            while position < lines.count {
                let line = lines[position].trimmingCharacters(in: .whitespacesAndNewlines)
                position += 1
                if !line.isEmpty { return line }
            }
            return nil
        }

        mutating func line() throws -> String {
            guard let line = nextLine() else { throw MeshError.file(path: path, line: position, message: "unexpected end of file") }
            return line
        }

        mutating func fields(count: Int) throws -> [String] {
            let f = try line().split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard f.count >= count else { throw error("expected \(count) fields, found \(f.count)") }
            return f
        }

        mutating func fields(minimum: Int) throws -> [String] { try fields(count: minimum) }

        mutating func expect(_ marker: String) throws {
            let found = try line()
            guard found == marker else { throw error("expected \(marker), found \(found.prefix(40))") }
        }

        func integer(_ s: String) throws -> Int {
            guard let value = Int(s) else { throw error("expected an integer, found \(s)") }
            return value
        }

        func real(_ s: String) throws -> Double {
            guard let value = Double(s), value.isFinite else { throw error("expected a finite number, found \(s)") }
            return value
        }

        func error(_ message: String) -> MeshError { MeshError.file(path: path, line: position, message: message) }
    }
}
