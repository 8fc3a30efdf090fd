import Foundation
import NumericalFoundations
import PDE

/// At most `capacity` holders at once; the rest wait in arrival order. A waiter whose task is
/// cancelled (the server's request timeout) leaves the queue without ever taking a slot.
actor WorkerSlots {
    private var free: Int
    private var waiters: [(id: Int, continuation: CheckedContinuation<Void, any Error>)] = []
    private var nextID = 0

    init(capacity: Int) { free = capacity }

    func acquire() async throws {
        if free > 0 { free -= 1; return }
        let id = nextID
        nextID += 1
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                if Task.isCancelled { continuation.resume(throwing: CancellationError()) } else { waiters.append((id, continuation)) }
            }
        } onCancel: {
            Task { await self.cancel(id) }
        }
    }

    func release() {
        if waiters.isEmpty { free += 1 } else { waiters.removeFirst().continuation.resume() }
    }

    private func cancel(_ id: Int) {
        guard let i = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: i).continuation.resume(throwing: CancellationError())
    }

    /// Requests waiting for a slot.
    var queued: Int { waiters.count }
}

/// The FEM as a served model: `pollutant-fem solve` on one parameter set (the same wind, mesh and
/// Newton settings, hence the same c3 bit for bit), and the Jacobian from the tangent solves of
/// docs/fem.md "Parametric sensitivities" (exact for K12, K3, D; through a difference of the wind for
/// U0, u_h, u_v, as there). Up to `workers` solves run at once, each on its own solver (a solver keeps
/// its Newton factors between a solve and its sensitivities); a solve runs on its own thread, never on
/// the server's.
public final class FEMServedModel: ServedModel, @unchecked Sendable {
    public let name = "pollutant"
    public let inputSizes = [PollutantSensitivities.parameterCount]
    public let outputSizes: [Int]
    public let hasJacobian = true
    public var summary: String {
        "the FEM on a \(config.fem.problem.mesh.nx) x \(config.fem.problem.mesh.ny) mesh (config \"nx\", \"ny\": another mesh), \(workers) solve(s) at once; exact Jacobian (tangent solves)"
    }
    public var configKeys: [(key: String, meaning: String)] {
        [("nx", "cells along the domain (default: [fem] nx)"), ("ny", "cells across it (default: [fem] ny)")]
    }

    /// The largest mesh a caller may ask for, in cells (10× the paper's 120 × 80: its LU fits in memory
    /// beside the workers'), and how many meshes the server keeps built at once.
    public static let maximumCells = 96_000
    public static let maximumMeshes = 4

    let config: PipelineConfig
    let workers: Int
    let checks: ParameterChecks
    private let slots: WorkerSlots

    /// A mesh's discretization and its idle solvers; one solver is taken per solve (at most `workers`).
    private final class MeshPool {
        let discretization: PollutantDiscretization
        var idle: [PollutantSolver] = []
        var inUse = 0
        init(_ discretization: PollutantDiscretization) { self.discretization = discretization }
    }
    struct MeshSize: Hashable { var nx: Int, ny: Int }
    private var pools: [MeshSize: MeshPool] = [:]
    private let defaultMesh: MeshSize
    private let lock = NSLock()
    private let queue = DispatchQueue(label: "pollutant-serve.fem", attributes: .concurrent)

    public init(config: PipelineConfig, workers: Int) throws {
        // One OpenBLAS thread, as `pollutant-fem solve` runs: the same kernels give the same c3 bit for
        // bit, and the parallel solves are the workers, not BLAS's threads.
        BLASThreads.set(1)
        self.config = config
        self.workers = workers
        let discretization = try PollutantDiscretization(settings: config.fem)
        defaultMesh = MeshSize(nx: config.fem.problem.mesh.nx, ny: config.fem.problem.mesh.ny)
        pools[defaultMesh] = MeshPool(discretization)
        outputSizes = [discretization.observationPoints.count / 2]
        slots = WorkerSlots(capacity: workers)
        checks = ParameterChecks(names: PollutantParameters.names, lower: config.sampling.ranges.map(\.lowerBound),
                                 upper: config.sampling.ranges.map(\.upperBound), viscosity: config.wind.nu)
    }

    public func evaluate(_ parameters: [Double], config: ServedModelConfig) async throws -> [Double] {
        try await solve(parameters, sensitivities: false, mesh: try mesh(config)).value
    }

    public func valueAndJacobian(_ parameters: [Double], config: ServedModelConfig) async throws -> (value: [Double], jacobian: [Double]) {
        let r = try await solve(parameters, sensitivities: true, mesh: try mesh(config))
        return (r.value, r.jacobian ?? [])
    }

    /// The mesh a config asks for: "nx" and "ny" (each 2...2000, at most `maximumCells` cells), else [fem]'s.
    func mesh(_ config: ServedModelConfig) throws -> MeshSize {
        try checkConfigKeys(config)
        let nx = try config.integer("nx", in: 2...2000, model: name) ?? defaultMesh.nx
        let ny = try config.integer("ny", in: 2...2000, model: name) ?? defaultMesh.ny
        guard nx * ny <= Self.maximumCells else {
            throw ServeError.invalidInput("a \(nx) x \(ny) mesh has \(nx * ny) cells; model \(name) solves on at most \(Self.maximumCells)")
        }
        return MeshSize(nx: nx, ny: ny)
    }

    /// A solver on `size`, building the mesh's discretization on first use; a built mesh other than
    /// [fem]'s is dropped, when no solve uses it, to make room for a new one beyond `maximumMeshes`.
    private func takeSolver(_ size: MeshSize) throws -> (PollutantSolver, MeshPool) {
        let existing = lock.withLock { () -> MeshPool? in
            guard let pool = pools[size] else { return nil }
            pool.inUse += 1
            return pool
        }
        let pool: MeshPool
        if let existing { pool = existing } else {
            let built = MeshPool(try PollutantDiscretization(settings: config.fem, nx: size.nx, ny: size.ny))
            pool = try lock.withLock {
                if let raced = pools[size] { raced.inUse += 1; return raced }
                if pools.count >= Self.maximumMeshes {
                    guard let spare = pools.first(where: { $0.key != defaultMesh && $0.value.inUse == 0 })?.key else {
                        throw ServeError("ModelError", "the server holds \(Self.maximumMeshes) meshes, all in use: try again", status: 503)
                    }
                    pools[spare] = nil
                }
                pools[size] = built
                built.inUse += 1
                return built
            }
        }
        let solver = lock.withLock { pool.idle.popLast() } ?? PollutantSolver(discretization: pool.discretization, newton: NewtonOptions(config.fem))
        return (solver, pool)
    }

    /// Requests waiting for a solver.
    public var queued: Int { get async { await slots.queued } }

    func solve(_ values: [Double], sensitivities: Bool, mesh: MeshSize) async throws -> (value: [Double], jacobian: [Double]?) {
        try checks.check(values)
        let p = try PollutantParameters(row: values)
        try await slots.acquire()
        defer { Task { await slots.release() } }
        try Task.checkCancellation()
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try self.solveNow(p, sensitivities: sensitivities, mesh: mesh) })
            }
        }
    }

    /// One solve on a solver of the pool, as `SingleSolve.run` does it.
    private func solveNow(_ p: PollutantParameters, sensitivities: Bool, mesh: MeshSize) throws -> (value: [Double], jacobian: [Double]?) {
        let (solver, pool): (PollutantSolver, MeshPool)
        do { (solver, pool) = try takeSolver(mesh) } catch let e as PollutantInputError { throw ServeError.invalidInput("mesh \(mesh.nx) x \(mesh.ny): \(e.message)") }
        defer { lock.withLock { pool.idle.append(solver); pool.inUse -= 1 } }
        do {
            try p.validate(context: "parameters")
            let windOptions = InProcessWind.Options(config.wind)
            let wind = try InProcessWind.profile(for: p, options: windOptions)
            let solution = try solver.solve(p, profile: wind.profile, nu: config.wind.nu, x0: config.wind.x0)
            guard sensitivities else { return (solution.c3AtObservations, nil) }
            let s = try solver.sensitivities(of: solution, parameters: p, options: SensitivityOptions(wind: windOptions))
            return (solution.c3AtObservations, s.observations)
        } catch let e as PollutantInputError {
            throw ServeError.invalidInput(e.message)
        } catch let failure as NewtonFailure {
            throw ServeError("ModelError", "the FEM solve failed: \(failure)", status: 500)
        }
    }
}
