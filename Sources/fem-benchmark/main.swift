import ArgumentParser
import Dispatch
import FiniteElements
import Foundation
import SparseLinearAlgebra

/// Times one nonlinear solve of the 3-species system (F5)–(F7) on graded meshes of growing size and
/// checks the performance targets of issue 5. Build with `swift run -c release fem-benchmark`.
struct FEMBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fem-benchmark",
        abstract: "Time assembly, UMFPACK factorization and solve of the 3-species pollutant system.",
        discussion: """
        For each mesh (nx × ny cells of the terrain-following graded mesh, defaults ground grading 20 and
        source grading 4 as in [fem]) it builds the sparsity pattern and UMFPACK's symbolic analysis once,
        then solves the coupled system (F5)–(F7) by Newton from the K12 = 0 solution, with a boundary-layer
        wind (a smooth stand-in for the Blasius profile: u_x = U0 tanh(η/2), η = height·sqrt(U0/(ν(x+x0)))),
        the two source disks of (F8) and c = 0 on the inflow boundary. It prints, per mesh, the time of
        the assembly, of one numeric factorization, of one solve, and of the whole Newton solve, and checks
        the targets: assembly ≤ 15 % of one factorization; whole solve ≤ (iterations + 1) × factorization × 1.3.
        Run it in release mode; the figures of a debug build mean nothing.
        """)

    @Option(help: "Comma-separated meshes as NXxNY (cells). The defaults give ≈ 10k, 40k and 155k nodes.")
    var meshes: String = "120x80,240x160,480x320"

    @Option(help: "Solves per mesh; the report shows the fastest of each measurement (the machine may be shared).")
    var repeats: Int = 3

    @Option(help: "UMFPACK fill-reducing ordering: amd, metis, cholmod or best.")
    var ordering: String = "amd"

    @Option(help: "UMFPACK strategy: auto, symmetric or unsymmetric.")
    var strategy: String = "symmetric"

    @Option(help: "Threads of OpenBLAS under UMFPACK (1 = what a two-thread batch should use).")
    var blasThreads: Int = 1

    @Option(help: "UMFPACK iterative-refinement steps in Newton's linear solves.")
    var refinement: Int = 0

    @Flag(help: "Keep freed memory in the heap (AllocatorTuning.retainFreedMemory) to avoid page faults per factorization.")
    var retainMemory = false

    @Option(help: "Reaction rate K12 of c1 + c2 → c3.") var k12: Double = 10
    @Option(help: "Decay rate K3 of c3.") var k3: Double = 5
    @Option(help: "Diffusion coefficient D (all species).") var diffusion: Double = 0.01
    @Option(help: "Free-stream wind speed U0.") var u0: Double = 1
    @Option(help: "Terrain bump height at x = 0.5 (0 = flat).") var bump: Double = 0

    mutating func run() throws {
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
        let sizes = try meshes.split(separator: ",").map { item -> (Int, Int) in
            let parts = item.split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts[0] > 0, parts[1] > 0 else { throw ValidationError("mesh \"\(item)\" is not NXxNY") }
            return (parts[0], parts[1])
        }
        if retainMemory && !AllocatorTuning.retainFreedMemory() { print("note: mallopt not available; --retain-memory ignored") }
        if !BLASThreads.set(blasThreads) { print("note: the BLAS is not OpenBLAS; --blas-threads ignored") }
        print("3-species system (F5)-(F7): K12 = \(k12), K3 = \(k3), D = \(diffusion), U0 = \(u0), ordering \(self.ordering)")
        print("times in ms; fact = one numeric factorization (mean), asm = assembly of one operator")
        print(String(format: "%9@ %8@ %9@ %8@ %8@ %8@ %7@ %5@ %9@ %9@ %7@ %8@ %8@", "mesh" as NSString, "nodes" as NSString, "unknowns" as NSString,
                     "symbolic" as NSString, "asm" as NSString, "fact" as NSString, "solve" as NSString, "iter" as NSString,
                     "newton" as NSString, "bound" as NSString, "asm/f" as NSString, "locate" as NSString, "residual" as NSString))
        for (nx, ny) in sizes { try benchmark(nx: nx, ny: ny, options: UMFPACKOptions(strategy: strategy, ordering: ordering)) }
    }

    func benchmark(nx: Int, ny: Int, options: UMFPACKOptions) throws {
        let terrain = Terrain(bumps: bump == 0 ? [] : [TerrainBump(center: 0.5, height: bump, width: 0.1)])
        let mesh = try TriangleMesh.structured(StructuredMeshSpecification(nx: nx, ny: ny, groundGrading: 20, sourceGrading: 4,
                                                                           sourceX: 0.1, terrain: terrain))
        var started = DispatchTime.now().uptimeNanoseconds
        let space = try CoupledP1Space(mesh: mesh, speciesCount: 3, solverOptions: options)
        let symbolicSeconds = seconds(since: started)

        // Boundary-layer wind: u_x = U0 tanh(η/2), u_y from continuity of the similarity form (F4)
        // with f ≈ 2 log cosh(η/2): u_y = ½ sqrt(ν U0/(x + x0)) (η f' − f).
        let nu = 1e-5, x0 = 0.1
        var ux = [Double](repeating: 0, count: mesh.nodeCount), uy = ux
        for i in 0..<mesh.nodeCount {
            let eta = mesh.heightAboveGround[i] * (u0 / (nu * (mesh.x[i] + x0))).squareRoot()
            let fPrime = tanh(eta / 2), f = 2 * log(cosh(min(eta, 600) / 2))
            ux[i] = u0 * fPrime
            uy[i] = 0.5 * (nu * u0 / (mesh.x[i] + x0)).squareRoot() * (eta * fPrime - f)
        }
        // (F8) sources, integrated with the degree-5 rule (the exact disk integration is the next issue's).
        let source = SourceLoad.integrating([
            { x, y in (x - 0.1) * (x - 0.1) + (y - 0.1) * (y - 0.1) < 0.25 ? 0.1 : 0 },
            { x, y in (x - 0.1) * (x - 0.1) + (y - 0.3) * (y - 0.3) < 0.25 ? 0.1 : 0 },
            nil,
        ], over: mesh)
        let problem = TransportProblem(velocityX: ux, velocityY: uy, diffusion: [diffusion, diffusion, diffusion],
                                       reactions: .pollutant(k12: k12, k3: k3), source: source,
                                       dirichletNodes: try InflowBoundary.nodes(mesh: mesh, velocityX: ux, velocityY: uy))

        let solver = SteadyTransportSolver(space: space, options: NewtonOptions(linearRefinementSteps: refinement))
        var best: NewtonReport? = nil
        var solution: TransportSolution? = nil
        for _ in 0..<max(1, repeats) {
            let result = try solver.solve(problem)
            if best == nil || result.report.totalSeconds < best!.totalSeconds { best = result.report }
            solution = result
        }
        guard let report = best, let solution else { return }
        // One assembly of the linear operator alone, and one Jacobian assembly (the per-iteration cost).
        started = DispatchTime.now().uptimeNanoseconds
        try solver.prepare(problem)
        let prepareSeconds = seconds(since: started)
        started = DispatchTime.now().uptimeNanoseconds
        _ = try solver.jacobian(at: solution.values)
        let jacobianSeconds = seconds(since: started)
        let assembly = max(prepareSeconds, jacobianSeconds)
        // One factorization and one solve of the linear operator on their own, with UMFPACK's statistics.
        let (matrix, load) = try solver.linearSystem()
        let lu = UMFPACKFactorization(symbolic: space.symbolicAnalysis)
        lu.iterativeRefinementSteps = refinement
        var singleFactorization = Double.infinity, singleSolve = Double.infinity
        var x = load
        for _ in 0..<max(1, repeats) {
            started = DispatchTime.now().uptimeNanoseconds
            try lu.factorize(matrix)
            singleFactorization = min(singleFactorization, seconds(since: started))
            started = DispatchTime.now().uptimeNanoseconds
            try lu.solve(load, into: &x)
            singleSolve = min(singleSolve, seconds(since: started))
        }
        let residual = try matrix.relativeResidual(solution: x, rightHandSide: load)
        let statistics = lu.statistics!
        let factorization = singleFactorization
        let solve = singleSolve
        let bound = Double(report.iterations + 1) * factorization * 1.3

        // Point location: the 89 × 30 observation grid.
        let locator = PointLocator(mesh: mesh)
        var px: [Double] = [], py: [Double] = []
        for j in 0..<30 { for i in 0..<89 { px.append(0.01 + 0.98 * Double(i) / 88); py.append(0.01 + 0.98 * Double(j) / 29) } }
        started = DispatchTime.now().uptimeNanoseconds
        let interpolation = try PointInterpolation(locator: locator, x: px, y: py, snapDistance: 1e-9)
        let locateSeconds = seconds(since: started)
        _ = try interpolation.apply(interleaved: solution.values, species: 2, speciesCount: 3)

        print(String(format: "%9@ %8d %9d %8.1f %8.1f %8.1f %7.1f %5d %9.1f %9.1f %6.1f%% %8.2f %8.1e",
                     "\(nx)x\(ny)" as NSString, mesh.nodeCount, space.unknownCount, symbolicSeconds * 1e3, assembly * 1e3,
                     factorization * 1e3, solve * 1e3, report.iterations, report.totalSeconds * 1e3, bound * 1e3,
                     100 * assembly / factorization, locateSeconds * 1e3, report.relativeResiduals.last ?? .nan))
        print("    newton: assembly \(ms(report.assemblySeconds)), factorizations \(report.factorizations), \(ms(report.factorizationSeconds)), solves \(ms(report.solveSeconds)), residuals \(ms(report.residualSeconds)); linear operator \(ms(prepareSeconds)), Jacobian \(ms(jacobianSeconds)); nnz(A) \(space.pattern.nonzeroCount), nnz(L+U) \(Int(statistics.factorNonzeros)), flops \(String(format: "%.3g", statistics.flops)), strategy \(space.symbolicAnalysis.strategyUsed), linear solve residual \(String(format: "%.1e", residual)); c3 max \(String(format: "%.4g", solution.species(2).max() ?? .nan))")
        print("    targets: assembly/factorization \(String(format: "%.1f", 100 * assembly / factorization)) % (≤ 15 %) \(assembly <= 0.15 * factorization ? "PASS" : "FAIL"); newton \(ms(report.totalSeconds)) ≤ \(ms(bound)) \(report.totalSeconds <= bound ? "PASS" : "FAIL")")
    }

    func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 }
    func ms(_ s: Double) -> String { String(format: "%.1f ms", s * 1e3) }
}

FEMBenchmark.main()
