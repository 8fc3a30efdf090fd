import Foundation
import XCTest
@testable import PDE

final class MeshTests: XCTestCase {
    func testStructuredMeshCountsTagsAndOrientation() throws {
        let mesh = try TriangleMesh.structured(StructuredMeshSpecification(lx: 2, ly: 1, nx: 6, ny: 4, groundGrading: 5, sourceGrading: 3, sourceX: 0.4))
        XCTAssertEqual(mesh.nodeCount, 7 * 5)
        XCTAssertEqual(mesh.triangleCount, 2 * 6 * 4)
        for t in 0..<mesh.triangleCount { XCTAssertGreaterThan(mesh.area(ofTriangle: t), 0) }
        // Total area = Lx · Ly exactly (flat ground); summing 48 areas of O(1e-2) loses a few ulps.
        XCTAssertEqual((0..<mesh.triangleCount).reduce(0) { $0 + mesh.area(ofTriangle: $1) }, 2, accuracy: 1e-13)
        var count: [BoundaryTag: Int] = [:]
        var length: [BoundaryTag: Double] = [:]
        for edge in mesh.boundaryEdges {
            count[edge.tag, default: 0] += 1
            length[edge.tag, default: 0] += edge.length
        }
        XCTAssertEqual(count, [.ground: 6, .top: 6, .upstream: 4, .downstream: 4])
        XCTAssertEqual(length[.ground]!, 2, accuracy: 1e-14)
        XCTAssertEqual(length[.upstream]!, 1, accuracy: 1e-14)
        // Outward normals of the flat box.
        for edge in mesh.boundaryEdges {
            let expected: (Double, Double) = [.ground: (0, -1), .top: (0, 1), .upstream: (-1, 0), .downstream: (1, 0)][edge.tag]!
            XCTAssertEqual(edge.normalX, expected.0, accuracy: 1e-15)
            XCTAssertEqual(edge.normalY, expected.1, accuracy: 1e-15)
        }
    }

    func testGroundGradingIsGeometricWithTheRequestedRatio() throws {
        let ratio = 20.0, cells = 10
        let y = try GradedSpacing.coordinates(cells: cells, length: 1, focus: 0, ratio: ratio)
        let heights = zip(y, y.dropFirst()).map { $1 - $0 }
        // Cells grow by the constant factor ratio^{1/cells}; last/first = ratio^{(cells−1)/cells}.
        for k in 1..<cells { XCTAssertEqual(heights[k] / heights[k - 1], pow(ratio, 1 / Double(cells)), accuracy: 1e-12) }
        XCTAssertEqual(heights.last! / heights.first!, pow(ratio, Double(cells - 1) / Double(cells)), accuracy: 1e-10)
        XCTAssertEqual(y.first, 0)
        XCTAssertEqual(y.last, 1)
    }

    func testSourceGradingPutsTheFinestCellsAtTheSource() throws {
        let x = try GradedSpacing.coordinates(cells: 40, length: 1, focus: 0.1, ratio: 4)
        let widths = zip(x, x.dropFirst()).map { $1 - $0 }
        XCTAssertTrue(widths.allSatisfy { $0 > 0 })
        // Strong gradings with the focus anywhere stay monotone and hit both ends.
        for focus in [0.0, 0.03, 0.5, 0.97, 1.0] {
            let strong = try GradedSpacing.coordinates(cells: 120, length: 1, focus: focus, ratio: 1000)
            XCTAssertTrue(zip(strong, strong.dropFirst()).allSatisfy { $0 < $1 }, "focus \(focus)")
            XCTAssertEqual(strong.first, 0)
            XCTAssertEqual(strong.last, 1)
        }
        let finest = widths.indices.min { widths[$0] < widths[$1] }!
        XCTAssertLessThanOrEqual(abs(0.5 * (x[finest] + x[finest + 1]) - 0.1), widths[finest])
        // The far end (x = 1, farther from the focus) reaches the full ratio within one cell's growth.
        XCTAssertEqual(widths.last! / widths[finest], 4, accuracy: 4 * (pow(4, 1 / (0.9 * 40)) - 1) + 1e-9)
        XCTAssertEqual(try GradedSpacing.coordinates(cells: 4, length: 2, focus: 1, ratio: 1), [0, 0.5, 1, 1.5, 2])
        XCTAssertThrowsError(try GradedSpacing.coordinates(cells: 4, length: 1, focus: 2, ratio: 2))
        XCTAssertThrowsError(try GradedSpacing.coordinates(cells: 4, length: 1, focus: 0, ratio: 0.5))
    }

    func testTerrainMeshFollowsTheBumpAndHeightsAreExact() throws {
        let terrain = Terrain(bumps: [TerrainBump(center: 0.5, height: 0.2, width: 0.15), TerrainBump(center: 0.8, height: -0.05, width: 0.1)])
        let mesh = try TriangleMesh.structured(StructuredMeshSpecification(nx: 20, ny: 10, groundGrading: 10, terrain: terrain))
        for i in 0..<mesh.nodeCount {
            XCTAssertEqual(mesh.heightAboveGround[i], mesh.y[i] - terrain.height(at: mesh.x[i]), accuracy: 1e-15)
            XCTAssertGreaterThanOrEqual(mesh.heightAboveGround[i], 0)
        }
        for edge in mesh.boundaryEdges where edge.tag == .ground {
            XCTAssertEqual(mesh.heightAboveGround[edge.first], 0, accuracy: 1e-15)
            XCTAssertLessThan(edge.normalY, 0)
        }
        for t in 0..<mesh.triangleCount { XCTAssertGreaterThan(mesh.area(ofTriangle: t), 0) }
        // Slope check against a central difference (the derivative of a Gaussian, O(δ²) error).
        let d = 1e-5
        XCTAssertEqual(terrain.slope(at: 0.43), (terrain.height(at: 0.43 + d) - terrain.height(at: 0.43 - d)) / (2 * d), accuracy: 1e-8)
        // The polyline height estimate used for file meshes agrees at the nodes of a generated mesh.
        let polyline = try TriangleMesh.heightsAboveGroundPolyline(x: mesh.x, y: mesh.y, boundary: mesh.boundaryEdges)
        for i in 0..<mesh.nodeCount { XCTAssertEqual(polyline[i], mesh.heightAboveGround[i], accuracy: 1e-12) }
    }

    func testInvalidMeshesAreRejectedWithTheOffendingItem() {
        let tall = Terrain(bumps: [TerrainBump(center: 0.5, height: 2, width: 0.1)])
        XCTAssertThrowsError(try TriangleMesh.structured(StructuredMeshSpecification(nx: 10, ny: 4, terrain: tall))) { error in
            XCTAssertTrue("\(error)".contains("reaches the top"), "\(error)")
        }
        XCTAssertThrowsError(try TriangleMesh(x: [0, 1, 0, 5], y: [0, 0, 1, 5], triangles: [0, 1, 2], boundaryTag: { _, _ in .ground })) { error in
            XCTAssertTrue("\(error)".contains("node 3"), "\(error)")
        }
        XCTAssertThrowsError(try TriangleMesh(x: [0, 1, 2], y: [0, 0, 0], triangles: [0, 1, 2], boundaryTag: { _, _ in .ground })) { error in
            XCTAssertTrue("\(error)".contains("degenerate"), "\(error)")
        }
        XCTAssertThrowsError(try TriangleMesh(x: [0, 1, 0], y: [0, 0, 1], triangles: [0, 1, 2], boundaryTag: { a, b in a + b == 1 ? .ground : nil })) { error in
            XCTAssertTrue("\(error)".contains("has no boundary tag"), "\(error)")
        }
    }

    func testClockwiseTrianglesAreReoriented() throws {
        let mesh = try TriangleMesh(x: [0, 1, 0], y: [0, 0, 1], triangles: [0, 2, 1], boundaryTag: { a, b in a + b == 1 ? .ground : .top })
        XCTAssertEqual(mesh.area(ofTriangle: 0), 0.5)
        XCTAssertEqual(mesh.boundaryEdges.count, 3)
        XCTAssertEqual(mesh.triangles, [0, 1, 2])
        // Counter-clockwise boundary: the ground edge runs 0 → 1 with outward normal (0, −1).
        let ground = try XCTUnwrap(mesh.boundaryEdges.first { $0.tag == .ground })
        XCTAssertEqual([ground.first, ground.second], [0, 1])
        XCTAssertEqual(ground.normalY, -1)
    }

    func testQuadratureIsExactForDegreeFive() {
        // ∫_T λ0^a λ1^b λ2^c = 2|T| a! b! c! / (a + b + c + 2)!  (the standard barycentric moment formula).
        func factorial(_ n: Int) -> Double { n <= 1 ? 1 : Double(n) * factorial(n - 1) }
        let rule = TriangleQuadrature.degree5
        XCTAssertEqual(rule.weights.reduce(0, +), 1, accuracy: 1e-15)
        for a in 0...5 {
            for b in 0...(5 - a) {
                for c in 0...(5 - a - b) {
                    var sum = 0.0
                    for (q, p) in rule.points.enumerated() { sum += rule.weights[q] * pow(p.0, Double(a)) * pow(p.1, Double(b)) * pow(p.2, Double(c)) }
                    let exact = 2 * factorial(a) * factorial(b) * factorial(c) / factorial(a + b + c + 2)
                    XCTAssertEqual(sum, exact, accuracy: 1e-15, "λ^(\(a),\(b),\(c))")
                }
            }
        }
    }
}

final class PointLocationTests: XCTestCase {
    func testLinearFunctionsAreReproducedExactlyAtRandomPoints() throws {
        var random = SplitMix64(state: 3)
        let terrain = Terrain(bumps: [TerrainBump(center: 0.4, height: 0.15, width: 0.1)])
        let mesh = try TriangleMesh.structured(StructuredMeshSpecification(lx: 2, ly: 1, nx: 37, ny: 23, groundGrading: 20,
                                                                           sourceGrading: 4, sourceX: 0.1, terrain: terrain))
        let locator = PointLocator(mesh: mesh)
        let linear = { (x: Double, y: Double) in 2 + 3 * x - 1.5 * y }
        let field = sample(linear, on: mesh)
        var xs: [Double] = [], ys: [Double] = []
        for _ in 0..<2000 {
            // A random point of a random triangle (so it is inside the polygonal mesh).
            let t = Int(random.next() % UInt64(mesh.triangleCount))
            var l1 = random.uniform(), l2 = random.uniform()
            if l1 + l2 > 1 { (l1, l2) = (1 - l1, 1 - l2) }
            let (a, b, c) = mesh.nodes(ofTriangle: t)
            xs.append((1 - l1 - l2) * mesh.x[a] + l1 * mesh.x[b] + l2 * mesh.x[c])
            ys.append((1 - l1 - l2) * mesh.y[a] + l1 * mesh.y[b] + l2 * mesh.y[c])
        }
        for (x, y) in zip(xs, ys) {
            let location = try locator.locate(x: x, y: y)
            // Exact up to round-off: the weights are O(1) and the function values O(10).
            XCTAssertEqual(location.interpolate(field), linear(x, y), accuracy: 1e-12)
            XCTAssertEqual(location.weights.0 + location.weights.1 + location.weights.2, 1, accuracy: 1e-15)
        }
        let batch = try PointInterpolation(locator: locator, x: xs, y: ys)
        for (k, value) in try batch.apply(field).enumerated() { XCTAssertEqual(value, linear(xs[k], ys[k]), accuracy: 1e-12) }
        // Mesh nodes themselves (on edges and vertices of several triangles).
        for i in stride(from: 0, to: mesh.nodeCount, by: 7) {
            XCTAssertEqual(try locator.interpolate(field, x: mesh.x[i], y: mesh.y[i]), field[i], accuracy: 1e-12)
        }
    }

    func testInterleavedSpeciesInterpolation() throws {
        let mesh = try TriangleMesh.structured(StructuredMeshSpecification(nx: 5, ny: 5))
        let locator = PointLocator(mesh: mesh)
        var interleaved = [Double](repeating: 0, count: 3 * mesh.nodeCount)
        for i in 0..<mesh.nodeCount { for s in 0..<3 { interleaved[3 * i + s] = Double(s + 1) * mesh.x[i] + mesh.y[i] } }
        let batch = try PointInterpolation(locator: locator, x: [0.33, 0.71], y: [0.21, 0.9])
        let values = try batch.apply(interleaved: interleaved, species: 2, speciesCount: 3)
        XCTAssertEqual(values[0], 3 * 0.33 + 0.21, accuracy: 1e-14)
        XCTAssertEqual(values[1], 3 * 0.71 + 0.9, accuracy: 1e-14)
    }

    func testPointsOutsideTheDomainAreNamed() throws {
        let terrain = Terrain(bumps: [TerrainBump(center: 0.5, height: 0.2, width: 0.15)])
        let mesh = try TriangleMesh.structured(StructuredMeshSpecification(nx: 16, ny: 8, terrain: terrain))
        let locator = PointLocator(mesh: mesh)
        XCTAssertThrowsError(try locator.locate(x: 1.5, y: 0.25)) { error in
            XCTAssertEqual(error as? MeshError, .pointOutsideDomain(x: 1.5, y: 0.25))
            XCTAssertTrue("\(error)".contains("x = 1.5, y = 0.25"), "\(error)")
        }
        // Under the bump: inside the bounding box of the mesh, outside the mesh.
        XCTAssertThrowsError(try locator.locate(x: 0.5, y: 0.05)) { XCTAssertEqual($0 as? MeshError, .pointOutsideDomain(x: 0.5, y: 0.05)) }
        XCTAssertThrowsError(try PointInterpolation(locator: locator, x: [0.2, 0.5], y: [0.5, 0.05])) { error in
            XCTAssertTrue("\(error)".contains("point 1"), "\(error)")
        }
        // Snapping: a point 1e-3 below the top is inside; 1e-3 above it snaps to the top with a snap distance.
        let above = try locator.locate(x: 0.3, y: 1.001, snapDistance: 0.01)
        XCTAssertEqual(above.interpolate(mesh.y), 1, accuracy: 1e-14)
        XCTAssertThrowsError(try locator.locate(x: 0.3, y: 1.02, snapDistance: 0.01))
    }
}

final class GmshReaderTests: XCTestCase {
    func fixture(_ name: String) throws -> URL {
        try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"))
    }

    func testFormat41FixtureCounts() throws {
        let mesh = try GmshReader.read(try fixture("square-4.1.msh"))
        XCTAssertEqual(mesh.nodeCount, 9)
        XCTAssertEqual(mesh.triangleCount, 8)
        XCTAssertEqual(mesh.boundaryEdges.count, 8)
        for tag in BoundaryTag.allCases { XCTAssertEqual(mesh.boundaryEdges.filter { $0.tag == tag }.count, 2, "\(tag)") }
        XCTAssertEqual((0..<8).reduce(0) { $0 + mesh.area(ofTriangle: $1) }, 1, accuracy: 1e-15)
        XCTAssertEqual(mesh.heightAboveGround[8], 0.5)  // the centre node (0.5, 0.5)
        for edge in mesh.boundaryEdges where edge.tag == .upstream { XCTAssertEqual(mesh.x[edge.first], 0) }
    }

    func testFormat22FixtureWithAliasesUnusedNodeAndClockwiseTriangle() throws {
        let mesh = try GmshReader.read(try fixture("hill-2.2.msh"))
        XCTAssertEqual(mesh.nodeCount, 9, "node 10 belongs to no triangle and is dropped")
        XCTAssertEqual(mesh.triangleCount, 8)
        XCTAssertEqual(mesh.boundaryEdges.filter { $0.tag == .ground }.count, 2)
        XCTAssertEqual(mesh.boundaryEdges.filter { $0.tag == .upstream }.count, 2)
        for t in 0..<8 { XCTAssertGreaterThan(mesh.area(ofTriangle: t), 0) }
        // The ground rises to y = 0.1 at x = 0.5, so the centre node (0.5, 0.5) is 0.4 above it.
        XCTAssertEqual(mesh.heightAboveGround[8], 0.4, accuracy: 1e-15)
    }

    func testBadFilesGiveErrorsNamingTheProblem() throws {
        let text = try String(contentsOf: try fixture("square-4.1.msh"), encoding: .utf8)
        XCTAssertThrowsError(try GmshReader.parse(text.replacingOccurrences(of: "\"top\"", with: "\"lid\""), path: "x.msh")) { error in
            XCTAssertTrue("\(error)".contains("\"lid\" is not a boundary name"), "\(error)")
        }
        XCTAssertThrowsError(try GmshReader.parse(text.replacingOccurrences(of: "4.1 0 8", with: "4.1 1 8"), path: "x.msh")) { error in
            XCTAssertTrue("\(error)".contains("x.msh:2: binary"), "\(error)")
        }
        XCTAssertThrowsError(try GmshReader.parse(text.replacingOccurrences(of: "2 1 2 8", with: "2 1 3 8"), path: "x.msh")) { error in
            XCTAssertTrue("\(error)".contains("type 3"), "\(error)")
        }
        XCTAssertThrowsError(try GmshReader.parse("hello", path: "x.msh")) { XCTAssertTrue("\($0)".contains("not a Gmsh")) }
    }

    /// meshio (an independent reader) agrees on the fixture's counts; skipped without python3/meshio.
    func testMeshioReadsTheFixtures() throws {
        for (name, triangles) in [("square-4.1.msh", 8), ("hill-2.2.msh", 8)] {
            let output = try python("import meshio,sys; m=meshio.read(sys.argv[1]); print(sum(len(c.data) for c in m.cells if c.type=='triangle'))",
                                    arguments: [try fixture(name).path])
            XCTAssertEqual(output.trimmingCharacters(in: .whitespacesAndNewlines), "\(triangles)", name)
        }
    }
}

/// Runs python3 -c script; throws XCTSkip when python3 or the module is missing.
func python(_ script: String, arguments: [String] = []) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script] + arguments
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    do { try process.run() } catch { throw XCTSkip("python3 is not available") }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    if process.terminationStatus != 0 {
        if errorText.contains("ModuleNotFoundError") || errorText.contains("No such file") { throw XCTSkip("python3 module missing: \(errorText.suffix(200))") }
        XCTFail("python3 failed: \(errorText)")
    }
    return String(decoding: data, as: UTF8.self)
}

/// A small deterministic generator (SplitMix64) for test points.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}
