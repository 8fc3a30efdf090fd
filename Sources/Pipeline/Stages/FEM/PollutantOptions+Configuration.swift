import Foundation
import PDE

// The one translation of `[fem]` (beyond its `problem`, decoded as it is) and `[wind]` into the options of PollutantModel and FiniteElements:
// the domain libraries take these typed values and know nothing of the configuration file.

extension PollutantDiscretization {
    /// The discretization of `[fem]`; `nx`, `ny` replace the configured resolution. Its input errors
    /// name the section they came from.
    public convenience init(settings fem: FEMSettings, nx: Int? = nil, ny: Int? = nil) throws {
        let specification = fem.problem.resolution(nx: nx ?? fem.problem.mesh.nx, ny: ny ?? fem.problem.mesh.ny)
        do { try self.init(specification) } catch let error as PollutantInputError {
            throw PollutantInputError("[fem] \(error.message)")
        } catch {
            // E.g. UMFPACK out of memory in the symbolic analysis: say which mesh it was.
            let mesh = specification.mesh
            throw PollutantInputError("[fem] the \(mesh.nx) × \(mesh.ny) mesh (fem.nx × fem.ny, \(3 * (mesh.nx + 1) * (mesh.ny + 1)) unknowns): \(error)")
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
