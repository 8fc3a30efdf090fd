// The SUPG weak form of (F5)–(F7) as stated in docs/fem.md ("Weak form", "SUPG τ"; formulation.md §3),
// one named function per term, for species s, test function φ_i and trial function φ_j on one
// element e. Each function returns the integral per unit coefficient (per unit rate for the
// reactions); `TransportAssembly.swift` multiplies by the coefficient and scatters. The order of the
// operations inside each function is part of the results: floating-point arithmetic is not
// associative, so a reordering changes every stored field in the last bits.

/// The element terms of the SUPG weak form of (F5)–(F7). A namespace, not a type with state.
enum TransportWeakForm {
    /// Three rows of a 3 × 3 element matrix (row i = test function φ_i).
    typealias ElementRows = (SIMD3<Double>, SIMD3<Double>, SIMD3<Double>)

    // MARK: SUPG parameter

    /// The streamline geometry of triangle t that τ needs (docs/fem.md, "SUPG τ"): Σ_a |u_e·∇φ_a|
    /// (= 2|u_e|/h_e) and the element length h_e along the stream; √(2|e|) where u_e = 0, so that τ
    /// stays finite in still air.
    @inline(__always)
    static func streamlineScale(space: CoupledP1Space, triangle t: Int, velocityX: [Double],
                                velocityY: [Double]) -> (streamSum: Double, length: Double) {
        let elements = space.mesh.triangles
        let n0 = elements[3 * t], n1 = elements[3 * t + 1], n2 = elements[3 * t + 2]
        let ux = (velocityX[n0] + velocityX[n1] + velocityX[n2]) / 3
        let uy = (velocityY[n0] + velocityY[n1] + velocityY[n2]) / 3
        let speed = (ux * ux + uy * uy).squareRoot()
        var streamSum = 0.0  // Σ_a |u·∇φ_a| = 2|u|/h_e
        for a in 0..<3 { streamSum += abs(ux * space.gradientsX[3 * t + a] + uy * space.gradientsY[3 * t + a]) }
        let h = speed > 0 && streamSum > 0 ? 2 * speed / streamSum : (2 * space.areas[t]).squareRoot()
        return (streamSum, h)
    }

    /// Codina's τ_{s,e} of docs/fem.md ("SUPG τ"), from `streamlineScale`'s Σ_a |u_e·∇φ_a| = 2|u_e|/h_e;
    /// τ = 0 when nothing stabilises.
    @inline(__always)
    static func supgTau(streamSum: Double, length h: Double, diffusion: Double, selfReaction: Double) -> Double {
        let denominator = streamSum + 4 * diffusion / (h * h) + abs(selfReaction)
        return denominator > 0 ? 1 / denominator : 0
    }

    /// ∂τ_{s,e}/∂D_s = −τ² · 4/h_e² (docs/fem.md (S2)): h_e depends on the wind only, so D enters τ
    /// through the diffusive term of the denominator alone.
    @inline(__always)
    static func supgTauPerDiffusion(tau: Double, length h: Double) -> Double { -tau * tau * 4 / (h * h) }

    /// ∂τ_{s,e}/∂σ_s = −τ² · sign(σ_s) (docs/fem.md (S2)), with sign(0) = +1: the rates are ≥ 0, so at
    /// σ_s = 0 this is the derivative from the admissible side.
    @inline(__always)
    static func supgTauPerSelfReaction(tau: Double, selfReaction: Double) -> Double {
        -tau * tau * (selfReaction < 0 ? -1 : 1)
    }

    // MARK: Element matrix (the linear operator)

    /// Advection–diffusion with SUPG, the u·∇c_s − D_s ∇²c_s of (F5)–(F7), entry (i, j):
    /// ∫ (u_h·∇φ_j) φ_i + D ∫ ∇φ_j·∇φ_i + τ ∫ (u_h·∇φ_i)(u_h·∇φ_j). The SUPG −DΔφ_j is zero for P1.
    @inline(__always)
    static func advectionDiffusion(_ e: LocalElement, _ i: Int, _ j: Int, diffusion d: Double, tau: Double) -> Double {
        e.advection(i, j) + d * e.stiffness(i, j) + tau * e.streamlineDiffusion(i, j)
    }

    /// ∂/∂D of `advectionDiffusion` at fixed τ, entry (i, j): ∫ ∇φ_j·∇φ_i (docs/fem.md (S1)); the
    /// change of τ with D is the separate factor ∂τ/∂D times `supgPerTau`.
    @inline(__always)
    static func advectionDiffusionPerDiffusion(_ e: LocalElement, _ i: Int, _ j: Int) -> Double { e.stiffness(i, j) }

    /// Linear reaction L_sc c_c (K3 c3 in (F7)), entry (i, j) per unit rate, Galerkin and SUPG:
    /// ∫ φ_j φ_i + τ ∫ (u_h·∇φ_i) φ_j.
    @inline(__always)
    static func linearReaction(_ e: LocalElement, _ i: Int, _ j: Int, tau: Double) -> Double {
        e.mass(i, j) + tau * e.streamlineMass(i, j)
    }

    // MARK: Element residual (source and product terms)

    /// SUPG weight of an element field given by its moments f_m = ∫_e f φ_m:
    /// τ ∫_e (u_h·∇φ_i) f = τ Σ_m (u_m·∇φ_i) f_m, exact because u_h·∇φ_i is linear on e. Used for the
    /// source Q_s of (F5)–(F6) (whose Galerkin part is f_i itself) and for the products.
    @inline(__always)
    static func supgMoments(_ e: LocalElement, _ i: Int, tau: Double, _ moments: SIMD3<Double>) -> Double {
        tau * (e.stream(i) * moments).sum()
    }

    /// ∂/∂τ_{s,e} of every SUPG term of species s on e together (docs/fem.md (S3)):
    /// ∫_e (u_h·∇φ_i)(u_h·∇c_s + r_s(c) − Q_s) = Σ_m (u_m·∇φ_i) F_m, exact for the same reason as
    /// `supgMoments`, with F_m = ∫_e φ_m (u_h·∇c_s + r_s(c) − Q_s) the moments of the strong residual
    /// (`strongResidualMoments`). τ varies by element, so this is a per-element quantity.
    @inline(__always)
    static func supgPerTau(_ e: LocalElement, _ i: Int, strongResidual moments: SIMD3<Double>) -> Double {
        (e.stream(i) * moments).sum()
    }

    /// ∫_e φ_m (u_h·∇c_s) = Σ_j c_s,j ∫_e φ_m (u_h·∇φ_j) for m = 0, 1, 2: the Galerkin advection term of
    /// row m, and the advective part of the strong residual's moments.
    @inline(__always)
    static func advectionMoments(_ e: LocalElement, _ c: SIMD3<Double>) -> SIMD3<Double> {
        SIMD3(e.advection(0, 0) * c[0] + e.advection(0, 1) * c[1] + e.advection(0, 2) * c[2],
              e.advection(1, 0) * c[0] + e.advection(1, 1) * c[1] + e.advection(1, 2) * c[2],
              e.advection(2, 0) * c[0] + e.advection(2, 1) * c[1] + e.advection(2, 2) * c[2])
    }

    /// The moments F_m = ∫_e φ_m (u_h·∇c_s + Σ_t L_st c_t + Σ rate_s c_a c_b − Q_s) of the strong
    /// residual of species s on e, from its pieces: `advectionMoments` of c_s, the linear reaction field
    /// Σ_t L_st c_t (nodal, P1), the product moments times their rates, and the source moments.
    @inline(__always)
    static func strongResidualMoments(_ e: LocalElement, advective: SIMD3<Double>, linearReaction r: SIMD3<Double>,
                                      products: SIMD3<Double>, source q: SIMD3<Double>) -> SIMD3<Double> {
        advective + e.massTimes(r) + products - q
    }

    /// Moments ∫_e q_h φ_m of a P1 field given by its nodal values q: the stand-in for Q in the SUPG
    /// source term when the source is given as nodal loads (lumped projection, docs/fem.md "Sources").
    @inline(__always)
    static func projectedSourceMoments(_ e: LocalElement, _ q: SIMD3<Double>) -> SIMD3<Double> { e.massTimes(q) }

    /// The product c_a c_b of (F5)–(F7) (K12 c1 c2) on one element: N_i = ∫ c_a c_b φ_i and the
    /// weighted mass W(c_b)_ij = ∫ φ_i φ_j c_b,h it is computed from (N_i = Σ_j W(c_b)_ij c_a,j).
    @inline(__always)
    static func productMoments(_ e: LocalElement, first ca: SIMD3<Double>, second cb: SIMD3<Double>)
        -> (nodal: SIMD3<Double>, weightSecond: ElementRows) {
        let wb = e.weightedMass(cb)
        return (SIMD3((wb.0 * ca).sum(), (wb.1 * ca).sum(), (wb.2 * ca).sum()), wb)
    }

    /// Residual of one product per unit rate at test function φ_i, Galerkin plus SUPG:
    /// N_i + τ ∫ (u_h·∇φ_i) c_a c_b = N_i + τ Σ_m (u_m·∇φ_i) N_m.
    @inline(__always)
    static func productResidual(_ e: LocalElement, _ i: Int, tau: Double, nodal: SIMD3<Double>) -> Double {
        nodal[i] + supgMoments(e, i, tau: tau, nodal)
    }

    /// ∂/∂rate of the product term at fixed τ is `productResidual` itself (it is per unit rate,
    /// docs/fem.md (S1)); likewise ∂/∂L_st of the linear reaction term is `linearReaction` applied to c_t.

    /// Jacobian of one product per unit rate, entry (i, j), with respect to the factor whose partner
    /// has weighted mass w: ∂N_i/∂c_a,j = W(c_b)_ij, ∂N_i/∂c_b,j = W(c_a)_ij; SUPG adds
    /// τ Σ_m (u_m·∇φ_i) W_mj. Exact, which is what gives Newton its quadratic convergence.
    @inline(__always)
    static func productJacobian(_ e: LocalElement, _ w: ElementRows, _ i: Int, _ j: Int, tau: Double) -> Double {
        e.entry(w, i, j) + tau * e.streamWeighted(w, i, j)
    }
}
