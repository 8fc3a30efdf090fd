import Foundation
import ArgumentParser
import NumericalFoundations
import PDE

/// The command line of `fem-benchmark`: the meshes, the solver settings and the physical parameters.
public struct FEMBenchmarkOptions: ParsableArguments {
    public static let discussion = """
        For each mesh (nx × ny cells of the terrain-following graded mesh, defaults ground grading 20 and
        source grading 4 as in [fem]) it builds the sparsity pattern and UMFPACK's symbolic analysis once,
        then solves the coupled system (F5)–(F7) by Newton from the K12 = 0 solution, with a boundary-layer
        wind (a smooth stand-in for the Blasius profile: u_x = U0 tanh(η/2), η = height·sqrt(U0/(ν(x+x0)))),
        the two source disks of (F8) and c = 0 on the inflow boundary. It prints, per mesh, the time of
        the assembly, of one numeric factorization, of one solve, and of the whole Newton solve, and checks
        the targets: assembly ≤ 15 % of one factorization; whole solve ≤ (iterations + 1) × factorization × 1.3.
        Run it in release mode; the figures of a debug build mean nothing.
        """

    @Option(help: "Comma-separated meshes as NXxNY (cells). The defaults give ≈ 10k, 40k and 155k nodes.")
    public var meshes: String = "120x80,240x160,480x320"

    @Option(parsing: .unconditional, help: "Solves per mesh; the report shows the fastest of each measurement (the machine may be shared).")
    public var repeats: Int = 3

    @Option(help: "UMFPACK fill-reducing ordering: amd, metis, cholmod or best.")
    public var ordering: String = "amd"

    @Option(help: "UMFPACK strategy: auto, symmetric or unsymmetric.")
    public var strategy: String = "symmetric"

    @Option(parsing: .unconditional, help: "Threads of OpenBLAS under UMFPACK (1 = what a two-thread batch should use).")
    public var blasThreads: Int = 1

    @Option(parsing: .unconditional, help: "UMFPACK iterative-refinement steps in Newton's linear solves.")
    public var refinement: Int = 0

    @Option(help: "Folder to write each mesh's solution to as fem-NXxNY.vtu (c1, c2, c3, wind, height above ground).")
    public var vtu: String? = nil

    @Option(parsing: .unconditional, help: "Reaction rate K12 of c1 + c2 → c3.") public var k12: Double = 10
    @Option(parsing: .unconditional, help: "Decay rate K3 of c3.") public var k3: Double = 5
    @Option(parsing: .unconditional, help: "Diffusion coefficient D (all species).") public var diffusion: Double = 0.01
    @Option(parsing: .unconditional, help: "Free-stream wind speed U0.") public var u0: Double = 1
    @Option(parsing: .unconditional, help: "Terrain bump height at x = 0.5 (0 = flat).") public var bump: Double = 0

    @Option(help: "Instead of the meshes: time a solve with and without its six sensitivities dc3/dθ on the [fem] mesh of this configuration (e.g. configs/paper.toml), for several parameter sets, and print the median ratio (target ≤ 1.3).")
    public var sensitivityConfig: String? = nil

    @Option(parsing: .unconditional, help: "Parameter sets timed with --sensitivity-config (at most \(SensitivityBenchmark.defaultParameters.count)).")
    public var sensitivitySamples: Int = 7

    public init() {}

    public func validate() throws {
        if blasThreads < 1 { throw ValidationError("--blas-threads must be at least 1, got \(blasThreads)") }
    }

    /// The UMFPACK settings of `--strategy` and `--ordering`; an unknown name is a usage error.
    func solverOptions() throws -> UMFPACKOptions {
        let ordering: UMFPACKOptions.Ordering
        switch self.ordering {
        case "amd": ordering = .amd
        case "metis": ordering = .metis
        case "cholmod": ordering = .cholmod
        case "best": ordering = .best
        default: throw ValidationError("--ordering must be amd, metis, cholmod or best, got \(self.ordering)")
        }
        let strategy: UMFPACKOptions.Strategy
        switch self.strategy {
        case "auto": strategy = .automatic
        case "symmetric": strategy = .symmetric
        case "unsymmetric": strategy = .unsymmetric
        default: throw ValidationError("--strategy must be auto, symmetric or unsymmetric, got \(self.strategy)")
        }
        return UMFPACKOptions(strategy: strategy, ordering: ordering)
    }

    /// The meshes of `--meshes` as (nx, ny) cells.
    func meshSizes() throws -> [(Int, Int)] {
        try meshes.split(separator: ",").map { item -> (Int, Int) in
            let parts = item.split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts[0] > 0, parts[1] > 0 else { throw ValidationError("mesh \"\(item)\" is not NXxNY") }
            return (parts[0], parts[1])
        }
    }
}

/// Times one nonlinear solve of the 3-species system (F5)–(F7) on graded meshes of growing size and
/// checks the performance targets: assembly ≤ 15 % of a factorization, Newton ≤ (its + 1) × 1.3
/// factorizations. Build with `swift run -c release fem-benchmark`.
public struct FEMBenchmark {
    let options: FEMBenchmarkOptions

    public static func run(_ options: FEMBenchmarkOptions) throws {
        if let path = options.sensitivityConfig {
            return try compareSensitivityCost(configuration: URL(fileURLWithPath: path), options: options)
        }
        let solverOptions = try options.solverOptions()
        let sizes = try options.meshSizes()
        BLASThreads.set(options.blasThreads)
        print("3-species system (F5)-(F7): K12 = \(options.k12), K3 = \(options.k3), D = \(options.diffusion), U0 = \(options.u0); UMFPACK \(options.strategy) strategy, \(options.ordering) ordering; BLAS threads \(BLASThreads.current); best of \(options.repeats)")
        print("wall-clock times in ms (process CPU time in brackets)")
        let benchmark = FEMBenchmark(options: options)
        var rows: [String] = []
        for (nx, ny) in sizes { rows.append(try benchmark.benchmark(nx: nx, ny: ny, solverOptions: solverOptions)) }
        print("\nsummary (ms)")
        print("| mesh | nodes | unknowns | assembly | factorization (linear / Jacobian) | solve | Newton its | Newton total | bound (its+1)·fact·1.3 | assembly/fact | total/Σ own fact |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        rows.forEach { print($0) }
    }

    /// One mesh's problem: the mesh, its coupled space (the symbolic analysis timed), the wind and the problem.
    struct Setup {
        var terrain: Terrain
        var mesh: TriangleMesh
        var space: CoupledP1Space
        var symbolic: Lap
        var ux: [Double]
        var uy: [Double]
        var problem: TransportProblem
    }

    /// The fastest of each measurement over the repeats, and the last solution.
    struct Timings {
        var newton = Lap.slowest, prepare = Lap.slowest, jacobian = Lap.slowest, factorization = Lap.slowest, solve = Lap.slowest
        var jacobianFactorization = Lap.slowest, jacobianStatistics: UMFPACKFactorizationStatistics? = nil
        var report = NewtonReport(), solution: TransportSolution? = nil, residual = Double.nan
    }

    /// Runs one mesh; prints its details and returns its summary row.
    func benchmark(nx: Int, ny: Int, solverOptions: UMFPACKOptions) throws -> String {
        let setup = try makeSetup(nx: nx, ny: ny, solverOptions: solverOptions)
        let solver = SteadyTransportSolver(space: setup.space, options: NewtonOptions(linearRefinementSteps: options.refinement))
        let lu = UMFPACKFactorization(symbolic: setup.space.symbolicAnalysis)
        lu.iterativeRefinementSteps = options.refinement
        let t = try time(solver, lu, setup.problem)
        guard let solution = t.solution, let statistics = lu.statistics else { return "" }
        let mesh = setup.mesh, space = setup.space
        let (build, locate, c3) = try timePointLocation(mesh: mesh, terrain: setup.terrain, solution: solution)

        print("\nmesh \(nx)x\(ny): \(mesh.nodeCount) nodes, \(space.unknownCount) unknowns, nnz(A) \(space.pattern.nonzeroCount), nnz(L+U) \(Int(statistics.factorNonzeros)), \(String(format: "%.3g", statistics.flops)) flops, strategy used \(space.symbolicAnalysis.strategyUsed)")
        print("  pattern + symbolic analysis \(setup.symbolic)")
        print("  assembly: linear operator + load \(t.prepare), Jacobian \(t.jacobian)")
        print("  one numeric factorization \(t.factorization), one solve \(t.solve) (‖Ax − b‖/‖b‖ = \(String(format: "%.1e", t.residual)))")
        if let j = t.jacobianStatistics {
            print("  one factorization of the Jacobian at the solution \(t.jacobianFactorization), nnz(L+U) \(Int(j.factorNonzeros)), \(String(format: "%.3g", j.flops)) flops")
        }
        let report = t.report
        print("  Newton: \(report.iterations) iterations, \(report.factorizations) factorizations, residuals \(report.relativeResiduals.map { String(format: "%.1e", $0) }.joined(separator: " ")), total \(t.newton)")
        print("          [assembly \(ms(report.assemblySeconds)), factorizations \(ms(report.factorizationSeconds)), solves \(ms(report.solveSeconds)), residual evaluations \(ms(report.residualSeconds))]")
        print("  point location: locator built in \(build), 2670 points located in \(locate); c3 ∈ [\(String(format: "%.3g", c3.min()!)), \(String(format: "%.3g", c3.max()!))] at the points")
        if let vtu = options.vtu { try writeVTU(setup, solution: solution, folder: vtu, nx: nx, ny: ny) }
        return checkTargets(t, nx: nx, ny: ny, mesh: mesh, space: space)
    }

    func makeSetup(nx: Int, ny: Int, solverOptions: UMFPACKOptions) throws -> Setup {
        let terrain = Terrain(bumps: options.bump == 0 ? [] : [TerrainBump(center: 0.5, height: options.bump, width: 0.1)])
        let mesh = try TriangleMesh.structured(StructuredMeshSpecification(nx: nx, ny: ny, groundGrading: 20, sourceGrading: 4,
                                                                           sourceX: 0.1, terrain: terrain))
        var clock = Stopwatch()
        let space = try CoupledP1Space(mesh: mesh, speciesCount: 3, solverOptions: solverOptions)
        let symbolic = clock.lap()

        // Boundary-layer wind: u_x = U0 tanh(η/2), i.e. f ≈ 2 log cosh(η/2) in the similarity form (F4),
        // u_y = ½ sqrt(ν U0/(x + x0)) (η f' − f).
        let nu = 1e-5, x0 = 0.1, u0 = options.u0
        var ux = [Double](repeating: 0, count: mesh.nodeCount), uy = ux
        for i in 0..<mesh.nodeCount {
            let eta = mesh.heightAboveGround[i] * (u0 / (nu * (mesh.x[i] + x0))).squareRoot()
            let fPrime = tanh(eta / 2), f = 2 * log(cosh(min(eta, 600) / 2))
            ux[i] = u0 * fPrime
            uy[i] = 0.5 * (nu * u0 / (mesh.x[i] + x0)).squareRoot() * (eta * fPrime - f)
        }
        // (F8) sources, integrated with the degree-5 rule (the disks are not integrated exactly here).
        let source = SourceLoad.integrating([
            { x, y in (x - 0.1) * (x - 0.1) + (y - 0.1) * (y - 0.1) < 0.25 ? 0.1 : 0 },
            { x, y in (x - 0.1) * (x - 0.1) + (y - 0.3) * (y - 0.3) < 0.25 ? 0.1 : 0 },
            nil,
        ], over: mesh)
        let d = options.diffusion
        let problem = TransportProblem(velocityX: ux, velocityY: uy, diffusion: [d, d, d],
                                       reactions: .pollutant(k12: options.k12, k3: options.k3), source: source,
                                       dirichletNodes: try InflowBoundary.nodes(mesh: mesh, velocityX: ux, velocityY: uy))
        return Setup(terrain: terrain, mesh: mesh, space: space, symbolic: symbolic, ux: ux, uy: uy, problem: problem)
    }

    /// Each repeat: one Newton solve, then one assembly of the linear operator and of the Jacobian,
    /// one factorization and one solve on their own. Keeps the fastest of each.
    func time(_ solver: SteadyTransportSolver, _ lu: UMFPACKFactorization, _ problem: TransportProblem) throws -> Timings {
        var t = Timings()
        for _ in 0..<max(1, options.repeats) {
            var clock = Stopwatch()
            let result = try solver.solve(problem)
            let lap = clock.lap()
            if lap.wall < t.newton.wall { t.newton = lap; t.report = result.report }
            t.solution = result
            try solver.prepare(problem)
            t.prepare = min(t.prepare, clock.lap())
            let jacobianMatrix = try solver.jacobian(at: result.values)
            t.jacobian = min(t.jacobian, clock.lap())
            try lu.factorize(jacobianMatrix)
            t.jacobianFactorization = min(t.jacobianFactorization, clock.lap())
            t.jacobianStatistics = lu.statistics
            let (matrix, load) = try solver.linearSystem()
            _ = clock.lap()
            try lu.factorize(matrix)
            t.factorization = min(t.factorization, clock.lap())
            var x = load
            try lu.solve(load, into: &x)
            t.solve = min(t.solve, clock.lap())
            t.residual = try matrix.relativeResidual(solution: x, rightHandSide: load)
        }
        return t
    }

    /// Point location and interpolation at the 89 × 30 observation grid: the two times and c3 there.
    func timePointLocation(mesh: TriangleMesh, terrain: Terrain, solution: TransportSolution) throws -> (Lap, Lap, [Double]) {
        var clock = Stopwatch()
        let locator = PointLocator(mesh: mesh)
        let build = clock.lap()
        var px: [Double] = [], py: [Double] = []
        for j in 0..<30 {
            for i in 0..<89 {
                let x = 0.01 + 0.98 * Double(i) / 88, ground = terrain.height(at: x)
                px.append(x)
                py.append(ground + (0.01 + 0.98 * Double(j) / 29) * (1 - ground))  // heights above the terrain
            }
        }
        _ = clock.lap()
        let interpolation = try PointInterpolation(locator: locator, x: px, y: py, snapDistance: 1e-6)
        let locate = clock.lap()
        let c3 = try interpolation.apply(interleaved: solution.values, species: 2, speciesCount: 3)
        return (build, locate, c3)
    }

    func writeVTU(_ setup: Setup, solution: TransportSolution, folder: String, nx: Int, ny: Int) throws {
        var writer = VTUWriter(mesh: setup.mesh)
        for s in 0..<3 { try writer.addScalar("c\(s + 1)", solution.species(s)) }
        try writer.addVector("wind", x: setup.ux, y: setup.uy)
        try writer.addScalar("height_above_ground", setup.mesh.heightAboveGround)
        let url = URL(fileURLWithPath: folder).appendingPathComponent("fem-\(nx)x\(ny).vtu")
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try writer.write(to: url, encoding: .base64)
        print("  wrote \(url.path)")
    }

    /// Prints the two targets, PASS or FAIL, and returns the mesh's summary row.
    func checkTargets(_ t: Timings, nx: Int, ny: Int, mesh: TriangleMesh, space: CoupledP1Space) -> String {
        let report = t.report
        let assembly = max(t.prepare, t.jacobian)
        let boundFactor = Double(report.iterations + 1) * 1.3
        let assemblyShare = assembly.wall / t.factorization.wall, newtonBound = boundFactor * t.factorization.wall
        print("  target assembly ≤ 15 % of factorization: \(String(format: "%.1f", 100 * assemblyShare)) % (CPU \(String(format: "%.1f", 100 * assembly.cpu / t.factorization.cpu)) %) \(assemblyShare <= 0.15 ? "PASS" : "FAIL")")
        let overhead = report.totalSeconds / report.factorizationSeconds
        print("  Newton total / its own factorizations: \(String(format: "%.2f", overhead))")
        print("  target Newton ≤ (its + 1) × factorization × 1.3 = \(ms(newtonBound)): \(ms(t.newton.wall)) (CPU \(ms(t.newton.cpu)) ≤ \(ms(boundFactor * t.factorization.cpu))) \(t.newton.wall <= newtonBound ? "PASS" : "FAIL")")
        return "| \(nx)x\(ny) | \(mesh.nodeCount) | \(space.unknownCount) | \(f1(assembly.wall)) | \(f1(t.factorization.wall)) / \(f1(t.jacobianFactorization.wall)) | \(f1(t.solve.wall)) | \(report.iterations) | \(f1(t.newton.wall)) | \(f1(newtonBound)) | \(String(format: "%.1f", 100 * assemblyShare)) % | \(String(format: "%.2f", overhead)) |"
    }

    func f1(_ seconds: Double) -> String { String(format: "%.1f", seconds * 1e3) }
    func ms(_ s: Double) -> String { String(format: "%.1f ms", s * 1e3) }

    /// Wall-clock and process CPU time of an interval.
    struct Lap: Comparable, CustomStringConvertible {
        var wall: Double
        var cpu: Double
        static let slowest = Lap(wall: .infinity, cpu: .infinity)
        static func < (a: Lap, b: Lap) -> Bool { a.wall < b.wall }
        var description: String { String(format: "%.1f ms [%.1f]", wall * 1e3, cpu * 1e3) }
    }

    struct Stopwatch {
        private var wall = monotonicSeconds()
        private var cpu = processCPUSeconds()

        /// The time since the previous lap (or the start), and restart.
        mutating func lap() -> Lap {
            let nowWall = monotonicSeconds(), nowCPU = processCPUSeconds()
            defer { wall = nowWall; cpu = nowCPU }
            return Lap(wall: nowWall - wall, cpu: nowCPU - cpu)
        }
    }
}

extension FEMBenchmark {
    /// `--sensitivity-config`: the cost of the six tangent solves (docs/fem.md (S6)) relative to the
    /// solve itself, median over parameter sets, in wall and in thread CPU time.
    static func compareSensitivityCost(configuration: URL, options: FEMBenchmarkOptions) throws {
        BLASThreads.set(options.blasThreads)
        let config = try PipelineConfig.load(configuration)
        let parameters = Array(SensitivityBenchmark.defaultParameters.prefix(max(1, options.sensitivitySamples)))
        let rows = try SensitivityBenchmark.run(config: config, parameters: parameters, repeats: options.repeats, log: { print($0) })
        let ratio = SensitivityBenchmark.median(rows.map(\.ratio))
        print(String(format: "median over %d parameter sets: solve %.3f s, with sensitivities %.3f s, ratio %.3f (target ≤ 1.3: %@)",
                     rows.count, SensitivityBenchmark.median(rows.map(\.solveSeconds)), SensitivityBenchmark.median(rows.map(\.withSensitivitiesSeconds)),
                     ratio, ratio <= 1.3 ? "met" : "not met"))
        let cpu = SensitivityBenchmark.median(rows.map(\.cpuRatio))
        print(String(format: "median in thread CPU time: solve %.3f s, with sensitivities %.3f s, ratio %.3f (target ≤ 1.3: %@)",
                     SensitivityBenchmark.median(rows.map(\.solveCPUSeconds)), SensitivityBenchmark.median(rows.map(\.withSensitivitiesCPUSeconds)),
                     cpu, cpu <= 1.3 ? "met" : "not met"))
    }
}
