import NumericalFoundations

// Assembly: the global loops over the triangles that call the element terms of
// `TransportWeakForm` and add them into the CSC values through the slot maps of `CoupledP1Space`,
// the Dirichlet rows, and the nonlinear (product) part of F and J. The loop nesting fixes the order
// of the `+=` into each slot; floating-point addition is not associative, so changing it changes the
// assembled values in the last bits (and with them every stored result).
extension SteadyTransportSolver {
    // MARK: Linear part (once per problem)

    /// τ_{s,e} for every species and triangle (zero without stabilization), stored species-major.
    func computeTau(_ problem: TransportProblem) {
        let k = space.speciesCount, triangles = space.mesh.triangleCount
        guard problem.stabilization == .supg else {
            tau.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            return
        }
        for t in 0..<triangles {
            let scale = TransportWeakForm.streamlineScale(space: space, triangle: t, velocityX: velocityX, velocityY: velocityY)
            for s in 0..<k {
                tau[s * triangles + t] = TransportWeakForm.supgTau(streamSum: scale.streamSum, length: scale.length,
                                                                  diffusion: problem.diffusion[s],
                                                                  selfReaction: problem.reactions.linear[s * k + s])
            }
        }
    }

    /// The linear operator A (advection–diffusion, linear reactions, SUPG) and the load b (sources):
    /// everything of (F5)–(F7) except the products.
    func assembleLinear(_ problem: TransportProblem) {
        let k = space.speciesCount, mesh = space.mesh, triangleCount = mesh.triangleCount
        let linear = problem.reactions.linear
        // SUPG moments of the source: per species, per element, the three ∫_e Q φ_m.
        var nodalProjection: [[Double]] = []
        if case .nodal(let loads) = problem.source {
            nodalProjection = loads.map { load in load.isEmpty ? [] : zip(load, space.lumpedMass).map { $0 / $1 } }
        }
        let sourceMoments: [[Double]]
        if case .elementMoments(let moments) = problem.source { sourceMoments = moments } else { sourceMoments = [] }

        linearValues.withUnsafeMutableBufferPointer { values in
            load.withUnsafeMutableBufferPointer { rhs in
                values.update(repeating: 0)
                rhs.update(repeating: 0)
                for t in 0..<triangleCount {
                    let e = LocalElement(space: space, triangle: t, velocityX: velocityX, velocityY: velocityY)
                    for s in 0..<k {
                        let tauS = tau[s * triangleCount + t], d = problem.diffusion[s]
                        for i in 0..<3 {
                            for j in 0..<3 {
                                values[space.slot(triangle: t, row: i, species: s, column: j, species: s)] +=
                                    TransportWeakForm.advectionDiffusion(e, i, j, diffusion: d, tau: tauS)
                                for c in 0..<k where linear[s * k + c] != 0 {
                                    values[space.slot(triangle: t, row: i, species: s, column: j, species: c)] +=
                                        linear[s * k + c] * TransportWeakForm.linearReaction(e, i, j, tau: tauS)
                                }
                            }
                        }
                        // Source: Galerkin moments (element moments only; nodal loads are added whole
                        // below) and the SUPG term from the same moments.
                        var moments = SIMD3<Double>(repeating: 0)
                        if s < sourceMoments.count, !sourceMoments[s].isEmpty {
                            moments = SIMD3(sourceMoments[s][3 * t], sourceMoments[s][3 * t + 1], sourceMoments[s][3 * t + 2])
                            for i in 0..<3 { rhs[e.nodes[i] * k + s] += moments[i] }
                        } else if s < nodalProjection.count, !nodalProjection[s].isEmpty {
                            let q = SIMD3(nodalProjection[s][e.nodes[0]], nodalProjection[s][e.nodes[1]], nodalProjection[s][e.nodes[2]])
                            moments = TransportWeakForm.projectedSourceMoments(e, q)
                        }
                        if tauS != 0 {
                            for i in 0..<3 { rhs[e.nodes[i] * k + s] += TransportWeakForm.supgMoments(e, i, tau: tauS, moments) }
                        }
                    }
                }
                if case .nodal(let loads) = problem.source {
                    for (s, nodal) in loads.enumerated() where !nodal.isEmpty {
                        for node in 0..<mesh.nodeCount { rhs[node * k + s] += nodal[node] }
                    }
                }
            }
        }
    }

    /// Dirichlet nodes: identity rows in A and the prescribed values in b. The pattern is untouched
    /// (entries are zeroed, not removed) so the shared symbolic analysis stays valid.
    func applyDirichlet(_ problem: TransportProblem) {
        let k = space.speciesCount, pattern = space.pattern
        dirichletNode = problem.dirichletNodes
        for node in 0..<space.mesh.nodeCount where dirichletNode[node] {
            for s in 0..<k {
                let row = node * k + s
                for q in pattern.rowSlotStarts[row]..<pattern.rowSlotStarts[row + 1] { linearValues[pattern.rowSlots[q]] = 0 }
                linearValues[space.diagonalSlots[row]] = 1
                let value = problem.dirichletValues?[row] ?? 0
                dirichletValues[row] = value
                load[row] = value
            }
        }
    }

    // MARK: Nonlinear part (every residual and Jacobian)

    /// Adds the product reactions (Galerkin + SUPG) at `c` to the residual `r` (if given) and to
    /// the Jacobian values `jacobian` (if given), skipping Dirichlet rows (they stay identity rows).
    func addProducts(at c: UnsafeBufferPointer<Double>, residual r: UnsafeMutableBufferPointer<Double>?,
                     jacobian: UnsafeMutableBufferPointer<Double>?) {
        let k = space.speciesCount, triangleCount = space.mesh.triangleCount
        for t in 0..<triangleCount {
            let e = LocalElement(space: space, triangle: t, velocityX: velocityX, velocityY: velocityY)
            let active = activeRows(ofTriangle: t)
            if active == SIMD3(repeating: 0) { continue }
            for product in products {
                let a = product.first, b = product.second
                let ca = SIMD3(c[e.nodes[0] * k + a], c[e.nodes[1] * k + a], c[e.nodes[2] * k + a])
                let cb = SIMD3(c[e.nodes[0] * k + b], c[e.nodes[1] * k + b], c[e.nodes[2] * k + b])
                let (nodal, wb) = TransportWeakForm.productMoments(e, first: ca, second: cb)
                // W(c_a) is needed only for the Jacobian.
                let wa = jacobian == nil ? wb : e.weightedMass(ca)
                for s in 0..<k {
                    let rate = product.rates[s]
                    if rate == 0 { continue }
                    let tauS = tau[s * triangleCount + t]
                    for i in 0..<3 where active[i] != 0 {
                        if let r {
                            r[e.nodes[i] * k + s] += rate * TransportWeakForm.productResidual(e, i, tau: tauS, nodal: nodal)
                        }
                        if let jacobian {
                            for j in 0..<3 {
                                let dA = TransportWeakForm.productJacobian(e, wb, i, j, tau: tauS)
                                let dB = TransportWeakForm.productJacobian(e, wa, i, j, tau: tauS)
                                jacobian[space.slot(triangle: t, row: i, species: s, column: j, species: a)] += rate * dA
                                jacobian[space.slot(triangle: t, row: i, species: s, column: j, species: b)] += rate * dB
                            }
                        }
                    }
                }
            }
        }
    }

    /// 1 for each vertex of triangle t whose rows are assembled, 0 for a Dirichlet vertex (its rows stay
    /// identity rows).
    @inline(__always)
    func activeRows(ofTriangle t: Int) -> SIMD3<Double> {
        let elements = space.mesh.triangles
        return SIMD3(dirichletNode[elements[3 * t]] ? 0 : 1, dirichletNode[elements[3 * t + 1]] ? 0 : 1, dirichletNode[elements[3 * t + 2]] ? 0 : 1)
    }

    /// F(c) = A c − b + N(c) into `output`; returns ‖F‖₂.
    @discardableResult
    func evaluateResidual(_ c: [Double], into output: inout [Double]) -> Double {
        CSCMatrix.multiply(pattern: space.pattern, values: linearValues, x: c, into: &output)
        output.withUnsafeMutableBufferPointer { r in
            load.withUnsafeBufferPointer { b in
                for i in 0..<r.count { r[i] -= b[i] }
            }
            if !products.isEmpty {
                c.withUnsafeBufferPointer { addProducts(at: $0, residual: r, jacobian: nil) }
            }
        }
        return norm(output)
    }

    /// J(c) = A + N'(c) into `jacobianValues`.
    func assembleJacobian(_ c: [Double]) {
        jacobianValues.withUnsafeMutableBufferPointer { j in
            linearValues.withUnsafeBufferPointer { _ = j.update(fromContentsOf: $0) }
            c.withUnsafeBufferPointer { addProducts(at: $0, residual: nil, jacobian: j) }
        }
    }
}
