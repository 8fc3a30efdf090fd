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
    public var summary: String { "the FEM on a \(config.fem.problem.mesh.nx) x \(config.fem.problem.mesh.ny) mesh, \(workers) solve(s) at once; exact Jacobian (tangent solves)" }

    let config: PipelineConfig
    let workers: Int
    let checks: ParameterChecks
    private let slots: WorkerSlots
    private let discretization: PollutantDiscretization
    // Idle solvers; one is taken per solve (at most `workers` exist).
    private var idle: [PollutantSolver] = []
    private let lock = NSLock()
    private let queue = DispatchQueue(label: "pollutant-serve.fem", attributes: .concurrent)

    public init(config: PipelineConfig, workers: Int) throws {
        // One OpenBLAS thread, as `pollutant-fem solve` runs: the same kernels give the same c3 bit for
        // bit, and the parallel solves are the workers, not BLAS's threads.
        BLASThreads.set(1)
        self.config = config
        self.workers = workers
        discretization = try PollutantDiscretization(settings: config.fem)
        outputSizes = [discretization.observationPoints.count / 2]
        slots = WorkerSlots(capacity: workers)
        checks = ParameterChecks(names: PollutantParameters.names, lower: config.sampling.ranges.map(\.lowerBound),
                                 upper: config.sampling.ranges.map(\.upperBound), viscosity: config.wind.nu)
    }

    public func evaluate(_ parameters: [Double]) async throws -> [Double] {
        try await solve(parameters, sensitivities: false).value
    }

    public func valueAndJacobian(_ parameters: [Double]) async throws -> (value: [Double], jacobian: [Double]) {
        let r = try await solve(parameters, sensitivities: true)
        return (r.value, r.jacobian ?? [])
    }

    /// Requests waiting for a solver.
    public var queued: Int { get async { await slots.queued } }

    func solve(_ values: [Double], sensitivities: Bool) async throws -> (value: [Double], jacobian: [Double]?) {
        try checks.check(values)
        let p = try PollutantParameters(row: values)
        try await slots.acquire()
        defer { Task { await slots.release() } }
        try Task.checkCancellation()
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try self.solveNow(p, sensitivities: sensitivities) })
            }
        }
    }

    /// One solve on a solver of the pool, as `SingleSolve.run` does it.
    private func solveNow(_ p: PollutantParameters, sensitivities: Bool) throws -> (value: [Double], jacobian: [Double]?) {
        let solver = lock.withLock { idle.popLast() } ?? PollutantSolver(discretization: discretization, newton: NewtonOptions(config.fem))
        defer { lock.withLock { idle.append(solver) } }
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
