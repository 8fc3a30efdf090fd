import PDE

/// `[fem]`: domain, mesh, sources, Newton and observation grid of formulation.md §3.
public struct FEMSettings: Sendable, Equatable {
    /// The domain, its mesh, the two sources (F8), the observation grid and the inflow sides, decoded
    /// into the PDE's own type; `inflow_detection` is spelled as `InflowDetection`'s raw values.
    public var problem: PollutantDiscretization.Specification
    public var newtonTolerance: Double
    public var newtonMaxIterations: Int
    public var minSuccessFraction: Double
    public var chunkSize: Int
    public var threads: Int
    /// Whether the batch also writes DATA/fem/fields/*.vtu, the one-at-a-time variations of the paper's Figure 2.
    public var fields: Bool
    /// The central parameter set (K12, K3, D, U0, u_h, u_v) of those variations; each parameter is moved
    /// to the low and the high end of its `[sampling]` range in turn.
    public var fieldsCenter: [Double]
    /// Whether the batch also writes DATA/fem/dc3_dtheta.npy, ∂c3/∂θ of every sample at the observation
    /// points by the tangent equation of the discrete problem (docs/fem.md (S1)–(S6)).
    public var sensitivities: Bool

    public init(_ r: SectionReader) throws {
        // The keys are read in the order of the file's documentation, so that of several bad keys the
        // first one is reported.
        let lx = try r.double("Lx", default: 1, in: 1e-6...1e6)
        let ly = try r.double("Ly", default: 1, in: 1e-6...1e6)
        let nx = try r.int("nx", default: 120, in: 2...100_000)
        let ny = try r.int("ny", default: 80, in: 2...100_000)
        // Geometric grading ratios of the cell heights towards the ground and of the widths towards Q1 (1 = uniform).
        let groundGrading = try r.double("ground_grading", default: 20, in: 1...1e6)
        let sourceGrading = try r.double("source_grading", default: 4, in: 1...1e6)
        let bumps = try r.records("terrain", fields: ["center", "height", "width"]).map {
            TerrainBump(center: $0["center"]!, height: $0["height"]!, width: $0["width"]!)
        }
        for (i, b) in bumps.enumerated() where b.width <= 0 {
            throw r.error("terrain", "bump \(i) must have width > 0")
        }
        // (F8) defaults: Q1 around (0.1, 0.1), Q2 around (0.1, 0.3), radius² 0.25, rate 0.1.
        let sources = try r.records("sources", fields: ["x", "y", "radius2", "rate"],
                                    default: [["x": 0.1, "y": 0.1, "radius2": 0.25, "rate": 0.1],
                                              ["x": 0.1, "y": 0.3, "radius2": 0.25, "rate": 0.1]])
        guard sources.count == 2 else { throw r.error("sources", "expected exactly two sources (Q1 for c1, Q2 for c2), found \(sources.count)") }
        for (i, s) in sources.enumerated() where s["radius2"]! <= 0 { throw r.error("sources", "source \(i) must have radius2 > 0") }
        newtonTolerance = try r.double("newton_tolerance", default: 1e-10, in: 1e-15...1e-2)
        newtonMaxIterations = try r.int("newton_max_iterations", default: 30, in: 1...1000)
        minSuccessFraction = try r.double("min_success_fraction", default: 0.9, in: 0...1)
        chunkSize = try r.int("chunk_size", default: 50, in: 1...1_000_000)
        let observationNx = try r.int("observation_nx", default: 89, in: 1...100_000)
        let observationNy = try r.int("observation_ny", default: 30, in: 1...100_000)
        let observationGradingX = try r.double("observation_grading_x", default: 1.5, in: 0.1...10)
        let observationGradingY = try r.double("observation_grading_y", default: 1.5, in: 0.1...10)
        threads = try r.int("threads", default: 2, in: 1...256)
        let inflowDetection = try r.choice("inflow_detection", default: InflowDetection.flux)
        // Off by default: formulation.md §3 prescribes zero (diffusive) flux on the ground.
        let groundInflow = try r.bool("ground_inflow", default: false)
        problem = PollutantDiscretization.Specification(
            mesh: StructuredMeshSpecification(lx: lx, ly: ly, nx: nx, ny: ny, groundGrading: groundGrading,
                                              sourceGrading: sourceGrading, terrain: Terrain(bumps: bumps)),
            // The configuration gives radius², the disk its radius.
            sources: sources.map { SourceDisk(disk: Disk(centerX: $0["x"]!, centerY: $0["y"]!, radius: $0["radius2"]!.squareRoot()), rate: $0["rate"]!) },
            observationNx: observationNx, observationNy: observationNy,
            observationGradingX: observationGradingX, observationGradingY: observationGradingY,
            groundInflow: groundInflow, inflowDetection: inflowDetection)
        fields = try r.bool("fields", default: true)
        // u_h = 0.1, not the box's centre 0: with λ = 0 every u_v above ≈ 0.002 has no similarity solution
        // (blow-off, formulation.md §2a), which would leave the u_v variation empty.
        sensitivities = try r.bool("sensitivities", default: false)
        fieldsCenter = try r.doubles("fields_center", default: [10, 5, 0.25, 1, 0.1, 0], count: 6)
        guard fieldsCenter[2] > 0, fieldsCenter[3] > 0, fieldsCenter[0] >= 0, fieldsCenter[1] >= 0 else {
            throw r.error("fields_center", "expected K12 ≥ 0, K3 ≥ 0, D > 0 and U0 > 0, found \(fieldsCenter)")
        }
    }

    /// Number of outputs of the surrogate: c3 at the observation points.
    public var observationCount: Int { problem.observationNx * problem.observationNy }
}
