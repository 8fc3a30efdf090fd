import Foundation

/// How the inflow part of the boundary (u·n < 0, where formulation.md §3 sets c = 0) becomes a set of
/// Dirichlet nodes.
public enum InflowDetection: String, Sendable, CaseIterable {
    /// A node is an inflow node when its share of the boundary flux, ∫_∂Ω (u_h·n) φ_i ds over its
    /// boundary edges (with the P1 wind u_h, i.e. what the discrete problem transports), is negative.
    /// A reversed layer thinner than the node's edges (e.g. a slip u_h < 0 under strong suction, whose
    /// layer is ~1e-4 thick while the first cell is ~2e-3) then does not turn the whole node into a
    /// c = 0 node, which the nodal rule does, with an O(1) error in the corner that converges only
    /// as the cells shrink below the layer (the mesh study in docs/pollutant-fem.md).
    case flux
    /// A node is an inflow node when its own velocity points into the domain on one of its boundary
    /// edges (`InflowBoundary.nodes` of the FE core).
    case nodal

    /// The Dirichlet mask: inflow nodes on boundary edges whose tag is in `tags`.
    public func nodes(mesh: TriangleMesh, wind: NodalWind, tags: Set<BoundaryTag>) throws -> [Bool] {
        switch self {
        case .nodal:
            return try InflowBoundary.nodes(mesh: mesh, velocityX: wind.x, velocityY: wind.y, tags: tags)
        case .flux:
            guard wind.x.count == mesh.nodeCount, wind.y.count == mesh.nodeCount else {
                throw PollutantInputError("the wind has \(wind.x.count) × \(wind.y.count) values for \(mesh.nodeCount) nodes")
            }
            var flux = [Double](repeating: 0, count: mesh.nodeCount)
            var magnitude = flux
            var touched = [Bool](repeating: false, count: mesh.nodeCount)
            for edge in mesh.boundaryEdges where tags.contains(edge.tag) {
                let a = edge.first, b = edge.second
                let wa = wind.x[a] * edge.normalX + wind.y[a] * edge.normalY
                let wb = wind.x[b] * edge.normalX + wind.y[b] * edge.normalY
                // ∫_edge w φ_a = L/6 (2 w_a + w_b) for linear w; likewise for b.
                flux[a] += edge.length / 6 * (2 * wa + wb)
                flux[b] += edge.length / 6 * (wa + 2 * wb)
                magnitude[a] += edge.length / 6 * (2 * abs(wa) + abs(wb))
                magnitude[b] += edge.length / 6 * (abs(wa) + 2 * abs(wb))
                touched[a] = true; touched[b] = true
            }
            // A relative threshold keeps round-off (a tangential wind) from deciding.
            return (0..<mesh.nodeCount).map { touched[$0] && flux[$0] < -1e-12 * magnitude[$0] }
        }
    }
}
