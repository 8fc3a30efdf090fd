import Foundation
import Configuration
import FiniteElements
import SparseLinearAlgebra

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

    /// The structured terrain-following mesh, the sources and the observation grid of `[fem]`
    /// (formulation.md §3); `nx`, `ny` replace the configured resolution (mesh studies).
    public convenience init(settings fem: FEMSettings, nx: Int? = nil, ny: Int? = nil) throws {
        let terrain = Terrain(bumps: fem.terrain.map { TerrainBump(center: $0.center, height: $0.height, width: $0.width) })
        // The mesh is graded in x towards the first source (Q1, the emission corner).
        let sourceX = min(max(fem.sources[0].x, 0), fem.lx)
        let specification = StructuredMeshSpecification(
            lx: fem.lx, ly: fem.ly, nx: nx ?? fem.nx, ny: ny ?? fem.ny, groundGrading: fem.groundGrading,
            sourceGrading: fem.sourceGrading, sourceX: sourceX, terrain: terrain)
        let mesh: TriangleMesh
        do { mesh = try TriangleMesh.structured(specification) } catch {
            throw PollutantInputError("[fem] mesh: \(error)")
        }
        let sources = fem.sources.map {
            SourceDisk(disk: Disk(centerX: $0.x, centerY: $0.y, radius: $0.radius2.squareRoot()), rate: $0.rate)
        }
        let grid = ObservationGrid(nx: fem.observationNx, ny: fem.observationNy, lx: fem.lx, ly: fem.ly,
                                   gradingX: fem.observationGradingX, gradingY: fem.observationGradingY,
                                   ground: { terrain.height(at: $0) })
        var sides: Set<BoundaryTag> = [.upstream, .top, .downstream]
        if fem.groundInflow { sides.insert(.ground) }
        try self.init(mesh: mesh, sources: sources, observation: grid, inflowTags: sides,
                      inflowDetection: InflowDetection(rawValue: fem.inflowDetection.rawValue) ?? .flux)
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
