/// `[fem]`: domain, mesh, sources, Newton and observation grid of formulation.md §3.
public struct FEMSettings: Sendable, Equatable {
    /// How inflow nodes (c = 0) are found from the wind: `flux`, the sign of each boundary node's share
    /// ∫(u·n)φ_i of the boundary flux, or `nodal`, the sign of u·n at the node (docs/pollutant-fem.md).
    public enum InflowDetection: String, CaseIterable, Sendable { case flux, nodal }

    public struct Bump: Sendable, Equatable { public var center: Double; public var height: Double; public var width: Double }
    public struct Source: Sendable, Equatable { public var x: Double; public var y: Double; public var radius2: Double; public var rate: Double }

    public var lx: Double
    public var ly: Double
    public var nx: Int
    public var ny: Int
    /// Geometric grading ratio of the cell heights towards the ground (1 = uniform).
    public var groundGrading: Double
    /// Grading ratio of the cell widths towards the source's x position (1 = uniform).
    public var sourceGrading: Double
    public var terrain: [Bump]
    public var sources: [Source]
    public var newtonTolerance: Double
    public var newtonMaxIterations: Int
    public var minSuccessFraction: Double
    public var chunkSize: Int
    public var observationNx: Int
    public var observationNy: Int
    public var observationGradingX: Double
    public var observationGradingY: Double
    public var threads: Int
    public var inflowDetection: InflowDetection
    /// Whether a blowing ground (u·n < 0 there, u_v > 0) is an inflow with c = 0 like the other sides.
    /// Off by default: formulation.md §3 prescribes zero (diffusive) flux on the ground.
    public var groundInflow: Bool
    /// Whether the batch also writes DATA/fem/fields/*.vtu, the one-at-a-time variations of the paper's Figure 2.
    public var fields: Bool
    /// The central parameter set (K12, K3, D, U0, u_h, u_v) of those variations; each parameter is moved
    /// to the low and the high end of its `[sampling]` range in turn.
    public var fieldsCenter: [Double]
    /// Whether the batch also writes DATA/fem/dc3_dtheta.npy, ∂c3/∂θ of every sample at the observation
    /// points by the tangent equation of the discrete problem (docs/fem.md (S1)–(S6)).
    public var sensitivities: Bool

    public init(_ r: SectionReader) throws {
        lx = try r.double("Lx", default: 1, in: 1e-6...1e6)
        ly = try r.double("Ly", default: 1, in: 1e-6...1e6)
        nx = try r.int("nx", default: 120, in: 2...100_000)
        ny = try r.int("ny", default: 80, in: 2...100_000)
        groundGrading = try r.double("ground_grading", default: 20, in: 1...1e6)
        sourceGrading = try r.double("source_grading", default: 4, in: 1...1e6)
        terrain = try r.records("terrain", fields: ["center", "height", "width"]).map {
            Bump(center: $0["center"]!, height: $0["height"]!, width: $0["width"]!)
        }
        for (i, b) in terrain.enumerated() where b.width <= 0 {
            throw r.error("terrain", "bump \(i) must have width > 0")
        }
        // (F8) defaults: Q1 around (0.1, 0.1), Q2 around (0.1, 0.3), radius² 0.25, rate 0.1.
        sources = try r.records("sources", fields: ["x", "y", "radius2", "rate"],
                                default: [["x": 0.1, "y": 0.1, "radius2": 0.25, "rate": 0.1],
                                          ["x": 0.1, "y": 0.3, "radius2": 0.25, "rate": 0.1]]).map {
            Source(x: $0["x"]!, y: $0["y"]!, radius2: $0["radius2"]!, rate: $0["rate"]!)
        }
        guard sources.count == 2 else { throw r.error("sources", "expected exactly two sources (Q1 for c1, Q2 for c2), found \(sources.count)") }
        for (i, s) in sources.enumerated() where s.radius2 <= 0 { throw r.error("sources", "source \(i) must have radius2 > 0") }
        newtonTolerance = try r.double("newton_tolerance", default: 1e-10, in: 1e-15...1e-2)
        newtonMaxIterations = try r.int("newton_max_iterations", default: 30, in: 1...1000)
        minSuccessFraction = try r.double("min_success_fraction", default: 0.9, in: 0...1)
        chunkSize = try r.int("chunk_size", default: 50, in: 1...1_000_000)
        observationNx = try r.int("observation_nx", default: 89, in: 1...100_000)
        observationNy = try r.int("observation_ny", default: 30, in: 1...100_000)
        observationGradingX = try r.double("observation_grading_x", default: 1.5, in: 0.1...10)
        observationGradingY = try r.double("observation_grading_y", default: 1.5, in: 0.1...10)
        threads = try r.int("threads", default: 2, in: 1...256)
        inflowDetection = try r.choice("inflow_detection", default: InflowDetection.flux)
        groundInflow = try r.bool("ground_inflow", default: false)
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
    public var observationCount: Int { observationNx * observationNy }
}
