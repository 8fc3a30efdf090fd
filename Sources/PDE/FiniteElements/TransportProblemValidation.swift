// The checks `SteadyTransportSolver.prepare` runs before anything is assembled. They live apart from
// the numerics because they are long and only about shapes and finiteness: a bad problem fails here
// with a `TransportProblemError` naming the field, never later as a trap or a NaN inside Newton.
extension SteadyTransportSolver {
    func validate(_ p: TransportProblem) throws {
        let mesh = space.mesh, n = mesh.nodeCount, k = space.speciesCount
        func finite(_ values: [Double], _ field: String) throws {
            if let bad = values.firstIndex(where: { !$0.isFinite }) { throw TransportProblemError(field, "value \(bad) is \(values[bad])") }
        }
        guard p.velocityX.count == n, p.velocityY.count == n else {
            throw TransportProblemError("velocity", "has \(p.velocityX.count) x and \(p.velocityY.count) y values for \(n) nodes")
        }
        try finite(p.velocityX, "velocityX")
        try finite(p.velocityY, "velocityY")
        guard p.diffusion.count == k else { throw TransportProblemError("diffusion", "has \(p.diffusion.count) values for \(k) species") }
        if let bad = p.diffusion.firstIndex(where: { !($0 >= 0) || !$0.isFinite }) {
            throw TransportProblemError("diffusion", "species \(bad) has D = \(p.diffusion[bad]); expected a finite value ≥ 0")
        }
        guard p.reactions.speciesCount == k, p.reactions.linear.count == k * k else {
            throw TransportProblemError("reactions", "model is for \(p.reactions.speciesCount) species with \(p.reactions.linear.count) linear rates; expected \(k) and \(k * k)")
        }
        try finite(p.reactions.linear, "reactions.linear")
        for (index, product) in p.reactions.products.enumerated() {
            guard (0..<k).contains(product.first), (0..<k).contains(product.second), product.rates.count == k else {
                throw TransportProblemError("reactions.products[\(index)]", "needs species indices in 0..<\(k) and \(k) rates")
            }
            try finite(product.rates, "reactions.products[\(index)].rates")
        }
        switch p.source {
        case .elementMoments(let moments), .nodal(let moments):
            let expected: Int
            if case .nodal = p.source { expected = n } else { expected = 3 * mesh.triangleCount }
            guard moments.count <= k else { throw TransportProblemError("source", "has \(moments.count) species for \(k)") }
            for (s, values) in moments.enumerated() {
                guard values.isEmpty || values.count == expected else {
                    throw TransportProblemError("source[\(s)]", "has \(values.count) values, expected \(expected) (or none)")
                }
                try finite(values, "source[\(s)]")
            }
        }
        guard p.dirichletNodes.count == n else { throw TransportProblemError("dirichletNodes", "has \(p.dirichletNodes.count) entries for \(n) nodes") }
        if let values = p.dirichletValues {
            guard values.count == n * k else { throw TransportProblemError("dirichletValues", "has \(values.count) values, expected \(n * k)") }
            try finite(values, "dirichletValues")
        }
    }
}
