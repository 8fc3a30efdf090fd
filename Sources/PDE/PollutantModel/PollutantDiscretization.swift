import Foundation
import NumericalFoundations

/// One source of (F8): `rate` inside the disk, 0 outside.
public struct SourceDisk: Sendable, Equatable {
    public var disk: Disk
    public var rate: Double
    public init(disk: Disk, rate: Double) { self.disk = disk; self.rate = rate }
}

/// Everything about the pollutant problem that does not depend on the sample, built once per mesh and
/// shared (read-only) by every solver thread: the mesh, the coupled P1 space of c1, c2, c3 with its
/// UMFPACK symbolic analysis, the exact element moments of the two source disks (F8), and the
/// observation points with their interpolation weights.
public final class PollutantDiscretization: Sendable {
    public let mesh: TriangleMesh
    public let space: CoupledP1Space
    /// Q1 (species c1) and Q2 (species c2).
    public let sources: [SourceDisk]
    /// Per source species (c1, c2): ∫_e Q φ_a for the three local vertices a of every triangle e
    /// (index 3e + a), integrated exactly over the part of e inside the disk (`Disk.basisIntegrals`).
    public let sourceMoments: [[Double]]
    /// ∫_Ω Q_s for s = c1, c2: the disk clipped to the domain (exact up to the straight ground edges).
    public let sourceIntegrals: [Double]
    public let observation: ObservationGrid
    public let observationInterpolation: PointInterpolation
    /// Boundary parts where inflow (u·n < 0) makes c = 0 a Dirichlet condition. The ground is not
    /// among them by default: formulation.md §3 prescribes zero (diffusive) flux there.
    public let inflowTags: Set<BoundaryTag>
    /// How inflow nodes are found from the wind (per sample).
    public let inflowDetection: InflowDetection

    /// Observation points may lie this far outside the mesh (relative to the domain size) and are then
    /// moved onto it: the straight ground edges cut a thin sliver off a curved terrain.
    public static let observationSnapFraction = 1e-6

    public init(mesh: TriangleMesh, sources: [SourceDisk], observation: ObservationGrid,
                inflowTags: Set<BoundaryTag> = [.upstream, .top, .downstream], inflowDetection: InflowDetection = .flux,
                solverOptions: UMFPACKOptions = CoupledP1Space.defaultSolverOptions) throws {
        guard sources.count == 2 else {
            throw PollutantInputError("the pollutant problem has two sources (Q1 for c1, Q2 for c2), got \(sources.count)")
        }
        for (s, source) in sources.enumerated() {
            guard source.rate.isFinite, source.disk.radius > 0, source.disk.radius.isFinite,
                  source.disk.centerX.isFinite, source.disk.centerY.isFinite else {
                throw PollutantInputError("source \(s + 1): needs a finite centre, a positive radius and a finite rate, got \(source)")
            }
        }
        self.mesh = mesh
        self.sources = sources
        self.observation = observation
        self.inflowTags = inflowTags
        self.inflowDetection = inflowDetection
        space = try CoupledP1Space(mesh: mesh, speciesCount: 3, solverOptions: solverOptions)
        sourceMoments = sources.map { Self.elementMoments(of: $0, on: mesh) }
        sourceIntegrals = sourceMoments.map { $0.reduce(0, +) }

        var px = [Double](), py = [Double]()
        px.reserveCapacity(observation.count); py.reserveCapacity(observation.count)
        for k in 0..<observation.count {
            let p = observation.point(k)
            px.append(p.x); py.append(p.y)
        }
        let extent = max((mesh.x.max() ?? 1) - (mesh.x.min() ?? 0), (mesh.y.max() ?? 1) - (mesh.y.min() ?? 0))
        do {
            observationInterpolation = try PointInterpolation(locator: PointLocator(mesh: mesh), x: px, y: py,
                                                              snapDistance: Self.observationSnapFraction * extent)
        } catch {
            throw PollutantInputError("observation grid: \(error)")
        }
    }

    /// The structured terrain-following mesh, the sources and the observation grid of `specification`
    /// (formulation.md §3).
    public convenience init(_ specification: Specification) throws {
        let terrain = specification.mesh.terrain
        let mesh: TriangleMesh
        do { mesh = try TriangleMesh.structured(specification.mesh) } catch {
            throw PollutantInputError("mesh: \(error)")
        }
        let grid = ObservationGrid(nx: specification.observationNx, ny: specification.observationNy,
                                   lx: specification.mesh.lx, ly: specification.mesh.ly,
                                   gradingX: specification.observationGradingX, gradingY: specification.observationGradingY,
                                   ground: { terrain.height(at: $0) })
        var sides: Set<BoundaryTag> = [.upstream, .top, .downstream]
        if specification.groundInflow { sides.insert(.ground) }
        try self.init(mesh: mesh, sources: specification.sources, observation: grid, inflowTags: sides,
                      inflowDetection: specification.inflowDetection)
    }

    /// ∫_e Q φ_a for every triangle e and local vertex a. Triangles whose bounding box misses the disk
    /// get 0, triangles with all three vertices inside (the disk is convex) get rate·|e|/3 each, and
    /// only the triangles that the circle cuts need the exact clipping of `Disk.basisIntegrals`.
    static func elementMoments(of source: SourceDisk, on mesh: TriangleMesh) -> [Double] {
        let disk = source.disk, r = disk.radius, r2 = r * r
        var moments = [Double](repeating: 0, count: 3 * mesh.triangleCount)
        for t in 0..<mesh.triangleCount {
            let (a, b, c) = mesh.nodes(ofTriangle: t)
            let p = [(mesh.x[a], mesh.y[a]), (mesh.x[b], mesh.y[b]), (mesh.x[c], mesh.y[c])]
            let minX = min(p[0].0, p[1].0, p[2].0), maxX = max(p[0].0, p[1].0, p[2].0)
            let minY = min(p[0].1, p[1].1, p[2].1), maxY = max(p[0].1, p[1].1, p[2].1)
            if minX >= disk.centerX + r || maxX <= disk.centerX - r || minY >= disk.centerY + r || maxY <= disk.centerY - r { continue }
            let inside = p.allSatisfy { ($0.0 - disk.centerX) * ($0.0 - disk.centerX) + ($0.1 - disk.centerY) * ($0.1 - disk.centerY) <= r2 }
            if inside {
                let third = source.rate * mesh.area(ofTriangle: t) / 3
                moments[3 * t] = third; moments[3 * t + 1] = third; moments[3 * t + 2] = third
            } else {
                let w = disk.basisIntegrals(p[0], p[1], p[2])
                moments[3 * t] = source.rate * w.0; moments[3 * t + 1] = source.rate * w.1; moments[3 * t + 2] = source.rate * w.2
            }
        }
        return moments
    }

    /// The observation points as a P × 2 row-major array (x, y), the content of points.npy.
    public var observationPoints: [Double] { observation.points }
}

extension PollutantDiscretization {
    /// The sample-independent problem of formulation.md §3 that a discretization is built from: the
    /// domain and its structured terrain-following mesh, the two sources (F8), the observation grid
    /// and which boundary parts may be inflow. `[fem]` decodes into it (FEMSettings).
    public struct Specification: Sendable, Equatable {
        /// The domain [0, Lx] × [h(x), Ly] and its mesh, graded in x towards Q1 (`sourceX`).
        public var mesh: StructuredMeshSpecification
        /// Q1 (species c1) and Q2 (species c2).
        public var sources: [SourceDisk]
        public var observationNx: Int
        public var observationNy: Int
        /// The exponents of `ObservationGrid` (> 1 crowds the points towards x = 0 and the ground).
        public var observationGradingX: Double
        public var observationGradingY: Double
        /// Whether a blowing ground (u·n < 0) is an inflow with c = 0 like the other sides; formulation.md
        /// §3 prescribes zero (diffusive) flux there, so the configuration's default is false.
        public var groundInflow: Bool
        public var inflowDetection: InflowDetection

        /// `mesh.sourceX` becomes Q1's x position (clamped to the domain): the mesh is refined towards the
        /// emission corner. Without sources the discretization refuses the specification.
        public init(mesh: StructuredMeshSpecification, sources: [SourceDisk], observationNx: Int, observationNy: Int,
                    observationGradingX: Double, observationGradingY: Double, groundInflow: Bool, inflowDetection: InflowDetection) {
            self.mesh = mesh
            self.mesh.sourceX = min(max(sources.first?.disk.centerX ?? 0, 0), mesh.lx)
            self.sources = sources
            self.observationNx = observationNx; self.observationNy = observationNy
            self.observationGradingX = observationGradingX; self.observationGradingY = observationGradingY
            self.groundInflow = groundInflow; self.inflowDetection = inflowDetection
        }

        /// The same problem on an nx × ny mesh (mesh studies).
        public func resolution(nx: Int, ny: Int) -> Specification {
            var copy = self
            copy.mesh.nx = nx; copy.mesh.ny = ny
            return copy
        }
    }
}
