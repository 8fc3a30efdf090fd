// The exact P1 integrals of one triangle. Every term of the weak form of (F5)–(F7) is a product of
// at most three linear functions on a triangle (φ_i, u_h·∇φ_i, c_h), so closed forms replace
// quadrature: ∫_e φ_iφ_j = |e|(1 + δ_ij)/12 and ∫_e φ_iφ_jφ_k = |e|·{6, 2, 1}/60.

/// The exact P1 integrals of one triangle, for a velocity given by its three nodal values.
struct LocalElement {
    let nodes: SIMD3<Int>
    let area: Double
    let gradientX: SIMD3<Double>
    let gradientY: SIMD3<Double>
    /// streamRows[i][m] = u_m · ∇φ_i: the SUPG test function u_h·∇φ_i = Σ_m streamRows[i][m] φ_m.
    let streamRows: (SIMD3<Double>, SIMD3<Double>, SIMD3<Double>)

    @inline(__always)
    init(space: CoupledP1Space, triangle t: Int, velocityX: [Double], velocityY: [Double]) {
        let elements = space.mesh.triangles
        nodes = SIMD3(elements[3 * t], elements[3 * t + 1], elements[3 * t + 2])
        area = space.areas[t]
        gradientX = SIMD3(space.gradientsX[3 * t], space.gradientsX[3 * t + 1], space.gradientsX[3 * t + 2])
        gradientY = SIMD3(space.gradientsY[3 * t], space.gradientsY[3 * t + 1], space.gradientsY[3 * t + 2])
        let ux = SIMD3(velocityX[nodes[0]], velocityX[nodes[1]], velocityX[nodes[2]])
        let uy = SIMD3(velocityY[nodes[0]], velocityY[nodes[1]], velocityY[nodes[2]])
        streamRows = (ux * gradientX[0] + uy * gradientY[0], ux * gradientX[1] + uy * gradientY[1], ux * gradientX[2] + uy * gradientY[2])
    }

    @inline(__always) func stream(_ i: Int) -> SIMD3<Double> { i == 0 ? streamRows.0 : (i == 1 ? streamRows.1 : streamRows.2) }

    /// ∫ φ_i φ_j = |e|(1 + δ_ij)/12.
    @inline(__always) func mass(_ i: Int, _ j: Int) -> Double { area * (i == j ? 2 : 1) / 12 }

    /// Row i of the mass matrix.
    @inline(__always) func massRow(_ i: Int) -> SIMD3<Double> {
        var row = SIMD3<Double>(repeating: area / 12)
        row[i] = area / 6
        return row
    }

    /// M q.
    @inline(__always) func massTimes(_ q: SIMD3<Double>) -> SIMD3<Double> { (area / 12) * (q + SIMD3(repeating: q.sum())) }

    /// ∫ ∇φ_i·∇φ_j.
    @inline(__always) func stiffness(_ i: Int, _ j: Int) -> Double { area * (gradientX[i] * gradientX[j] + gradientY[i] * gradientY[j]) }

    /// ∫ (u_h·∇φ_j) φ_i = Σ_m M_im (u_m·∇φ_j).
    @inline(__always) func advection(_ i: Int, _ j: Int) -> Double { (massRow(i) * stream(j)).sum() }

    /// ∫ (u_h·∇φ_i)(u_h·∇φ_j) = Σ_mn (u_m·∇φ_i) M_mn (u_n·∇φ_j).
    @inline(__always) func streamlineDiffusion(_ i: Int, _ j: Int) -> Double { (stream(i) * massTimes(stream(j))).sum() }

    /// ∫ (u_h·∇φ_i) φ_j = Σ_m (u_m·∇φ_i) M_mj.
    @inline(__always) func streamlineMass(_ i: Int, _ j: Int) -> Double { (stream(i) * massRow(j)).sum() }

    /// W(c)_ij = ∫ φ_i φ_j c_h = |e|/60 · (4 c_i + 2 S) on the diagonal, |e|/60 · (c_i + c_j + S) off it (S = Σ c).
    @inline(__always) func weightedMass(_ c: SIMD3<Double>) -> (SIMD3<Double>, SIMD3<Double>, SIMD3<Double>) {
        let s = c.sum(), f = area / 60
        let offDiagonal = c + SIMD3(repeating: s)  // c_j + S
        var r0 = f * (offDiagonal + SIMD3(repeating: c[0])), r1 = f * (offDiagonal + SIMD3(repeating: c[1]))
        var r2 = f * (offDiagonal + SIMD3(repeating: c[2]))
        r0[0] = f * (4 * c[0] + 2 * s); r1[1] = f * (4 * c[1] + 2 * s); r2[2] = f * (4 * c[2] + 2 * s)
        return (r0, r1, r2)
    }

    @inline(__always) func entry(_ w: (SIMD3<Double>, SIMD3<Double>, SIMD3<Double>), _ i: Int, _ j: Int) -> Double {
        i == 0 ? w.0[j] : (i == 1 ? w.1[j] : w.2[j])
    }

    /// Σ_m (u_m·∇φ_i) W_mj.
    @inline(__always) func streamWeighted(_ w: (SIMD3<Double>, SIMD3<Double>, SIMD3<Double>), _ i: Int, _ j: Int) -> Double {
        let s = stream(i)
        return s[0] * w.0[j] + s[1] * w.1[j] + s[2] * w.2[j]
    }
}
