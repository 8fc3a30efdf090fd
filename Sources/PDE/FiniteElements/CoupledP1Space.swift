import NumericalFoundations

/// k scalar fields sharing one P1 basis on a mesh (formulation.md §3: "the same basis for the three
/// species, one monolithic system of 3N unknowns"), with everything that depends only on the mesh:
/// element geometry, the sparsity pattern, the element-to-CSC slot maps and UMFPACK's symbolic analysis.
///
/// Unknowns are interleaved, index = node · k + species, and every pair of nodes that share a
/// triangle couples all k × k species pairs (the reaction Jacobian couples species at the same and
/// neighbouring nodes through the mass matrix). The column of unknown (node b, species t) then holds,
/// for each neighbour a of b in ascending order, the k rows a·k + 0 … a·k + k−1, so the slot of entry
/// ((a, s), (b, t)) of triangle e is `slotBase[9e + 3·la + lb] + t · columnStride[3e + lb] + s`
/// (la, lb the local vertex numbers): assembly is one multiply-add per entry, no search, no sort.
///
/// Built once per mesh, immutable and `Sendable`: share it between the solver threads.
public final class CoupledP1Space: Sendable {
    public let mesh: TriangleMesh
    public let speciesCount: Int
    public let pattern: CSCPattern
    public let symbolicAnalysis: UMFPACKSymbolicAnalysis
    /// Per triangle: area, and the basis gradients (3 x-components, then 3 y-components).
    public let areas: [Double]
    public let gradientsX: [Double]
    public let gradientsY: [Double]
    /// Lumped mass Σ_e |e|/3 of each node.
    public let lumpedMass: [Double]
    let slotBase: [Int]
    let columnStride: [Int]
    /// Value slot of the diagonal entry of every unknown.
    public let diagonalSlots: [Int]

    public var unknownCount: Int { mesh.nodeCount * speciesCount }

    /// UMFPACK settings for these systems: the symmetric strategy (AMD on A + Aᵀ, diagonal pivots
    /// preferred) suits the structurally symmetric, diagonally strong FE matrices. UMFPACK's automatic
    /// choice picks the unsymmetric strategy here, which the benchmark measured at about twice the
    /// fill and 1.3–2 times the factorization time (docs/fem.md).
    public static let defaultSolverOptions = UMFPACKOptions(strategy: .symmetric, ordering: .amd)

    public init(mesh: TriangleMesh, speciesCount: Int, solverOptions: UMFPACKOptions = CoupledP1Space.defaultSolverOptions) throws {
        guard speciesCount >= 1 else { throw MeshError.invalid("species count must be ≥ 1, got \(speciesCount)") }
        let k = speciesCount
        self.mesh = mesh
        self.speciesCount = k

        let geometry = Self.elementGeometry(mesh)
        self.areas = geometry.areas
        self.gradientsX = geometry.gradientsX
        self.gradientsY = geometry.gradientsY
        self.lumpedMass = geometry.lumpedMass

        let graph = NodeGraph(mesh)
        pattern = try Self.blockPattern(graph, speciesCount: k)
        let slots = Self.elementSlots(mesh, graph: graph, speciesCount: k)
        self.slotBase = slots.slotBase
        self.columnStride = slots.columnStride
        self.diagonalSlots = Self.diagonalSlots(graph, speciesCount: k)
        do { symbolicAnalysis = try UMFPACKSymbolicAnalysis(pattern: pattern, options: solverOptions) } catch let error as UMFPACKError {
            throw MeshError.symbolicAnalysis(error)   // FiniteElements throws only its own error types
        }
    }

    /// Per triangle its area and basis gradients; per node its lumped mass Σ_e |e|/3.
    private static func elementGeometry(_ mesh: TriangleMesh)
        -> (areas: [Double], gradientsX: [Double], gradientsY: [Double], lumpedMass: [Double]) {
        let n = mesh.nodeCount, triangleCount = mesh.triangleCount
        var areas = [Double](repeating: 0, count: triangleCount)
        var gradientsX = [Double](repeating: 0, count: 3 * triangleCount), gradientsY = gradientsX
        var lumpedMass = [Double](repeating: 0, count: n)
        for t in 0..<triangleCount {
            let geometry = ElementGeometry(mesh: mesh, triangle: t)
            areas[t] = geometry.area
            for a in 0..<3 {
                gradientsX[3 * t + a] = geometry.gradientX[a]
                gradientsY[3 * t + a] = geometry.gradientY[a]
                lumpedMass[mesh.triangles[3 * t + a]] += geometry.area / 3
            }
        }
        return (areas, gradientsX, gradientsY, lumpedMass)
    }

    /// The node graph in CSC form: the neighbours of each node, itself included, ascending.
    private struct NodeGraph {
        var nodeStarts: [Int]
        var nodeRows: [Int]
        var nodeCount: Int { nodeStarts.count - 1 }

        /// Fill with duplicates by counting, then sort and compact each column.
        init(_ mesh: TriangleMesh) {
            let n = mesh.nodeCount, triangleCount = mesh.triangleCount
            var counts = [Int](repeating: 0, count: n + 1)
            for v in mesh.triangles { counts[v + 1] += 3 }
            for i in 0..<n { counts[i + 1] += counts[i] }
            var raw = [Int](repeating: 0, count: counts[n])
            var next = counts
            for t in 0..<triangleCount {
                for lb in 0..<3 {
                    let b = mesh.triangles[3 * t + lb]
                    for la in 0..<3 { raw[next[b]] = mesh.triangles[3 * t + la]; next[b] += 1 }
                }
            }
            var nodeStarts = [Int](repeating: 0, count: n + 1)
            var nodeRows: [Int] = []
            nodeRows.reserveCapacity(raw.count / 2)
            for b in 0..<n {
                var previous = -1
                for a in raw[counts[b]..<counts[b + 1]].sorted() where a != previous {
                    nodeRows.append(a)
                    previous = a
                }
                nodeStarts[b + 1] = nodeRows.count
            }
            self.nodeStarts = nodeStarts
            self.nodeRows = nodeRows
        }

        func degree(_ b: Int) -> Int { nodeStarts[b + 1] - nodeStarts[b] }

        /// Where node a sits among the neighbours of node b (binary search).
        func position(of a: Int, inColumn b: Int) -> Int {
            var low = nodeStarts[b], high = nodeStarts[b + 1] - 1
            while low < high {
                let middle = (low + high) / 2
                if nodeRows[middle] < a { low = middle + 1 } else { high = middle }
            }
            return low - nodeStarts[b]
        }
    }

    /// Block pattern: column (b, t) starts at k²·nodeStarts[b] + t·k·degree(b).
    private static func blockPattern(_ graph: NodeGraph, speciesCount k: Int) throws -> CSCPattern {
        let n = graph.nodeCount, nodeStarts = graph.nodeStarts, nodeRows = graph.nodeRows
        var columnStarts = [Int](repeating: 0, count: n * k + 1)
        var rowIndices = [Int](repeating: 0, count: k * k * nodeRows.count)
        for b in 0..<n {
            let degree = nodeStarts[b + 1] - nodeStarts[b]
            for t in 0..<k {
                let start = k * k * nodeStarts[b] + t * k * degree
                columnStarts[b * k + t] = start
                for (position, a) in nodeRows[nodeStarts[b]..<nodeStarts[b + 1]].enumerated() {
                    for s in 0..<k { rowIndices[start + position * k + s] = a * k + s }
                }
            }
        }
        columnStarts[n * k] = rowIndices.count
        return try sparseStructure { try CSCPattern(dimension: n * k, columnStarts: columnStarts, rowIndices: rowIndices) }
    }

    /// Per triangle the slot of each local entry's (species 0, species 0) value and each local column's stride.
    private static func elementSlots(_ mesh: TriangleMesh, graph: NodeGraph, speciesCount k: Int)
        -> (slotBase: [Int], columnStride: [Int]) {
        let triangleCount = mesh.triangleCount, nodeStarts = graph.nodeStarts
        var slotBase = [Int](repeating: 0, count: 9 * triangleCount)
        var columnStride = [Int](repeating: 0, count: 3 * triangleCount)
        for t in 0..<triangleCount {
            for lb in 0..<3 {
                let b = mesh.triangles[3 * t + lb]
                columnStride[3 * t + lb] = k * (nodeStarts[b + 1] - nodeStarts[b])
                for la in 0..<3 {
                    slotBase[9 * t + 3 * la + lb] = k * k * nodeStarts[b] + k * graph.position(of: mesh.triangles[3 * t + la], inColumn: b)
                }
            }
        }
        return (slotBase, columnStride)
    }

    private static func diagonalSlots(_ graph: NodeGraph, speciesCount k: Int) -> [Int] {
        let n = graph.nodeCount, nodeStarts = graph.nodeStarts
        var diagonalSlots = [Int](repeating: 0, count: n * k)
        for b in 0..<n {
            let degree = graph.degree(b)
            let ownPosition = graph.position(of: b, inColumn: b)
            for t in 0..<k { diagonalSlots[b * k + t] = k * k * nodeStarts[b] + t * k * degree + k * ownPosition + t }
        }
        return diagonalSlots
    }

    /// The slot of entry (row = (local vertex la of triangle t, species s), column = (lb, species c)).
    @inline(__always)
    public func slot(triangle t: Int, row la: Int, species s: Int, column lb: Int, species c: Int) -> Int {
        slotBase[9 * t + 3 * la + lb] + c * columnStride[3 * t + lb] + s
    }
}

/// Runs `body`, rethrowing SparseLinearAlgebra's `SparseMatrixError` as this library's
/// `MeshError.sparseStructure` (same message), so that FiniteElements throws only its own types.
func sparseStructure<R>(_ body: () throws -> R) throws -> R {
    do { return try body() } catch let error as SparseMatrixError { throw MeshError.sparseStructure(error) }
}
