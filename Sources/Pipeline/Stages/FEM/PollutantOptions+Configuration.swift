import Foundation
import PDE

// The one translation of `[fem]` and `[wind]` into the options of PollutantModel and FiniteElements:
// the domain libraries take these typed values and know nothing of the configuration file.

extension PollutantDiscretization.Specification {
    /// The mesh, sources, observation grid and inflow sides of `[fem]`.
    public init(_ fem: FEMSettings) {
        let detection: InflowDetection
        switch fem.inflowDetection {
        case .flux: detection = .flux
        case .nodal: detection = .nodal
        }
        self.init(lx: fem.lx, ly: fem.ly, nx: fem.nx, ny: fem.ny, groundGrading: fem.groundGrading, sourceGrading: fem.sourceGrading,
                  terrain: Terrain(bumps: fem.terrain.map { TerrainBump(center: $0.center, height: $0.height, width: $0.width) }),
                  sources: fem.sources.map {
                      SourceDisk(disk: Disk(centerX: $0.x, centerY: $0.y, radius: $0.radius2.squareRoot()), rate: $0.rate)
                  },
                  observationNx: fem.observationNx, observationNy: fem.observationNy,
                  observationGradingX: fem.observationGradingX, observationGradingY: fem.observationGradingY,
                  groundInflow: fem.groundInflow, inflowDetection: detection)
    }
}

extension PollutantDiscretization {
    /// The discretization of `[fem]`; `nx`, `ny` replace the configured resolution. Its input errors
    /// name the section they came from.
    public convenience init(settings fem: FEMSettings, nx: Int? = nil, ny: Int? = nil) throws {
        let specification = Specification(fem).resolution(nx: nx ?? fem.nx, ny: ny ?? fem.ny)
        do { try self.init(specification) } catch let error as PollutantInputError {
            throw PollutantInputError("[fem] \(error.message)")
        }
    }
}

extension NewtonOptions {
    /// `[fem] newton_tolerance` and `newton_max_iterations`; the other options keep their defaults.
    public init(_ fem: FEMSettings) {
        self.init(relativeTolerance: fem.newtonTolerance, maxIterations: fem.newtonMaxIterations)
    }
}

extension InProcessWind.Options {
    /// ν, x0, the no-solution policy and the shooting settings of `[wind]`.
    public init(_ wind: WindSettings) {
        self.init(nu: wind.nu, x0: wind.x0, policy: NoSolutionPolicy(wind), tolerance: wind.tolerance,
                  profilePoints: wind.profilePoints)
    }
}

extension BatchSettings {
    /// Threads, chunking, Newton and sensitivities of `[fem]`; ν, x0 (and, for the sensitivities'
    /// perturbed winds, the whole wind solve) of `[wind]`.
    public init(fem: FEMSettings, wind: WindSettings) {
        self.init(threads: fem.threads, chunkSize: fem.chunkSize, newton: NewtonOptions(fem), nu: wind.nu, x0: wind.x0,
                  sensitivities: fem.sensitivities ? SensitivityOptions(wind: InProcessWind.Options(wind)) : nil)
    }
}

extension FigureFields {
    /// The Figure 2 variations of the configuration (`[fem] fields_center` moved across the `[sampling]`
    /// box), solved under `[fem]` and `[wind]` and written into `folder` (see the domain `write`).
    public static func write(config: PipelineConfig, discretization: PollutantDiscretization, folder: URL,
                             log: (String) -> Void = { _ in }) throws -> [URL] {
        let variations = try variations(center: config.fem.fieldsCenter, ranges: config.sampling.ranges)
        return try write(variations, wind: InProcessWind.Options(config.wind), newton: NewtonOptions(config.fem),
                         threads: config.fem.threads, discretization: discretization, folder: folder, log: log)
    }
}
