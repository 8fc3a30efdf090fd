import Foundation
import XCTest
import NumericalFoundations
import Surrogates
import PDE
import _TestSupport
@testable import Pipeline

/// The Serve stage's models without the HTTP layer (scripts/test-serve.py drives the server with the
/// real UM-Bridge client): the network's exact Jacobian against central differences, the parameter
/// checks' messages, and the FEM workers' queue.
final class ServeTests: XCTestCase {
    let box: [ClosedRange<Double>] = [1...20, 0...10, 0.01...0.5, 0.01...2.0, -0.2...0.2, -0.2...0.2]

    func network(transform: OutputTransform) throws -> SurrogateModel {
        let folder = try makeTemporaryFolder("serve")
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        let layout = try NetworkLayout(widths: [6, 12, 9, 5], activation: .softsign)
        var description = ModelDescription(layout: layout, precision: .float64, inputNames: PollutantParameters.names,
                                           epochsCompleted: 1, epochsPlanned: 1, trainSamples: 1, testSamples: 1, windViscosity: 1.5e-5)
        description.outputTransform = transform
        try SurrogateModel.write(network: Network<Double>(layout: layout, seed: 5), description: description, inputScaler: InputScaler(ranges: box),
                                 outputScaler: OutputScaler(mean: [-7, -6.5, -6, -5.5, -5], standardDeviation: [0.5, 0.4, 0.3, 0.2, 0.1]), to: folder)
        return try SurrogateModel.load(from: folder)
    }

    /// The forward-mode Jacobian through scaling, network, standardisation and the log transform
    /// agrees with central differences of `predict` (float64: step 1e-5 of the box, error ~1e-9).
    func testNetworkJacobianMatchesCentralDifferences() async throws {
        for transform in [OutputTransform.identity, .logarithm(offset: 1e-4)] {
            let served = SurrogateServedModel(name: "net", surrogate: try network(transform: transform))
            let x = [10.0, 3.0, 0.2, 1.1, 0.05, -0.03]
            let exact = try await served.valueAndJacobian(x)
            // Evaluate computes in a tile of rows (another GEMM shape): the same value to rounding.
            let value = try await served.evaluate(x)
            for p in value.indices { XCTAssertEqual(exact.value[p], value[p], accuracy: 1e-12 * abs(value[p])) }
            var fd = [Double](repeating: 0, count: exact.jacobian.count)
            let model = served.surrogate
            for k in 0..<6 {
                let h = 1e-5 * (box[k].upperBound - box[k].lowerBound)
                var plus = x, minus = x
                plus[k] += h; minus[k] -= h
                let f1 = try model.predict(parameters: plus, rows: 1, threads: 1), f0 = try model.predict(parameters: minus, rows: 1, threads: 1)
                for p in 0..<5 { fd[p * 6 + k] = (f1[p] - f0[p]) / (plus[k] - minus[k]) }
            }
            let scale = fd.map(abs).max()!
            XCTAssertGreaterThan(scale, 0)
            for i in fd.indices { XCTAssertEqual(exact.jacobian[i], fd[i], accuracy: 1e-6 * scale, "\(transform) entry \(i)") }
            // ApplyJacobian and Gradient are J v and Jᵀ s of the same J: <J v, s> = <v, Jᵀ s>.
            let v = [0.3, -1.0, 2.0, 0.5, -0.7, 1.1], s = [1.0, -2.0, 0.5, 0.25, 3.0]
            let jv = try await served.applyJacobian(x, vector: v), jts = try await served.gradient(x, sensitivity: s)
            XCTAssertEqual(zip(jv, s).map(*).reduce(0, +), zip(v, jts).map(*).reduce(0, +), accuracy: 1e-12 * scale * 10)
        }
    }

    /// The served central differences (the POD models' and the ensemble's Jacobian) on a network,
    /// whose exact Jacobian is known: within the O(h²) truncation of h = 1e-3 of the box.
    func testCentralDifferencesAgreeWithTheExactJacobian() async throws {
        let served = SurrogateServedModel(name: "net", surrogate: try network(transform: .logarithm(offset: 1e-4)))
        let x = [5.0, 7.0, 0.3, 0.6, 0.1, 0.02]
        let exact = try await served.valueAndJacobian(x)
        let fd = try served.centralDifferences(x)
        XCTAssertEqual(fd.value, exact.value)
        let scale = exact.jacobian.map(abs).max()!
        for i in fd.jacobian.indices { XCTAssertEqual(fd.jacobian[i], exact.jacobian[i], accuracy: 1e-4 * scale, "entry \(i)") }
    }

    func testParameterChecksNameTheProblem() {
        let checks = ParameterChecks(names: PollutantParameters.names, lower: box.map(\.lowerBound), upper: box.map(\.upperBound), viscosity: 1.5e-5)
        XCTAssertNoThrow(try checks.check([10, 3, 0.2, 1, 0.1, 0.1]))
        func message(_ x: [Double]) -> String {
            do { try checks.check(x); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(message([10, 3, .nan, 1, 0.1, 0.1]).contains("D = nan is not a finite number"))
        XCTAssertTrue(message([30, 3, 0.2, 1, 0.1, 0.1]).contains("K12 = 30.0 is outside the box [1.0, 20.0]"))
        XCTAssertTrue(message([10, 3, 0.2, 0.02, -0.05, 0.2]).contains("blow-off"))
    }

    /// At most `capacity` holders at once; every waiter gets its turn.
    func testWorkerSlotsQueueBeyondTheirCapacity() async throws {
        let slots = WorkerSlots(capacity: 2)
        actor Count { var now = 0, most = 0, done = 0
            func enter() { now += 1; most = max(most, now) }
            func leave() { now -= 1; done += 1 }
        }
        let count = Count()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<7 {
                group.addTask {
                    try await slots.acquire()
                    await count.enter()
                    try await Task.sleep(nanoseconds: 5_000_000)
                    await count.leave()
                    await slots.release()
                }
            }
            try await group.waitForAll()
        }
        let most = await count.most, done = await count.done
        XCTAssertEqual(done, 7)
        XCTAssertLessThanOrEqual(most, 2)
    }

    /// A stand-in surrogate with a known answer per row, f_p(θ) = Σ θ + p, plus `placeNoise` × the
    /// row's place in the call (a model whose rows depend on their place); it counts calls and rows
    /// and sleeps `delay` per call, so that requests pile up behind a running call.
    final class CountingSurrogate: FieldSurrogate, @unchecked Sendable {
        let kind = "counting", inputNames = PollutantParameters.names, inputWidth = 6, outputWidth = 3, parameterCount = 0
        let windViscosity: Double? = nil
        let descriptorInputs: DescriptorInputs? = nil
        let inputScaler: InputScaler
        let placeNoise: Double
        var delay = 0.0
        private let lock = NSLock()
        private(set) var calls = 0, rows = 0
        init(box: [ClosedRange<Double>], placeNoise: Double) throws { inputScaler = try InputScaler(ranges: box); self.placeNoise = placeNoise }
        static func answer(_ x: [Double]) -> [Double] { (0..<3).map { x.reduce(0, +) + Double($0) } }
        func predict(parameters: [Double], rows n: Int, threads: Int) throws -> [Double] {
            lock.withLock { calls += 1; rows += n }
            if delay > 0 { Thread.sleep(forTimeInterval: delay) }
            return (0..<n).flatMap { i in Self.answer(Array(parameters[(6 * i)..<(6 * i + 6)])).map { $0 + placeNoise * Double(i) } }
        }
        func predictWithUncertainty(parameters: [Double], rows: Int, threads: Int) throws -> (mean: [Double], standardDeviation: [Double])? { nil }
    }

    private func concurrentAnswers(_ evaluation: CoalescedEvaluation, _ inputs: [[Double]]) async throws -> [[Double]] {
        try await withThrowingTaskGroup(of: (Int, [Double]).self) { group in
            for (i, x) in inputs.enumerated() { group.addTask { (i, try await evaluation.evaluate(x)) } }
            var answers = [[Double]](repeating: [], count: inputs.count)
            for try await (i, y) in group { answers[i] = y }
            return answers
        }
    }

    private func inputs(_ count: Int) -> [[Double]] {
        var g = SeededGenerator(seed: 4)
        return (0..<count).map { _ in box.map { $0.lowerBound + g.nextUniform() * ($0.upperBound - $0.lowerBound) } }
    }

    /// 40 requests sent at once while a call sleeps 20 ms: they share calls (at most 8 rows each, so
    /// at least 5 calls after the first; far fewer than 40), and each gets its own row's answer.
    func testConcurrentRequestsShareCallsAndEachGetsItsOwnAnswer() async throws {
        let model = try CountingSurrogate(box: box, placeNoise: 0)
        let evaluation = CoalescedEvaluation(surrogate: model, cores: 2)
        XCTAssertTrue(evaluation.coalesces, "a model whose rows do not depend on their place coalesces")
        model.delay = 0.02
        let before = model.calls
        let x = inputs(40)
        let answers = try await concurrentAnswers(evaluation, x)
        for i in x.indices { XCTAssertEqual(answers[i], CountingSurrogate.answer(x[i]), "request \(i)") }
        XCTAssertLessThanOrEqual(model.calls - before, 20, "40 requests in \(model.calls - before) calls")
        XCTAssertGreaterThanOrEqual(model.calls - before, 5)
    }

    /// A model whose rows depend on their place in the call fails the start-up check and answers one
    /// request per call: every answer is the row alone (place 0), whatever the load.
    func testAModelWhoseRowsDependOnTheirPlaceAnswersOneRequestPerCall() async throws {
        let model = try CountingSurrogate(box: box, placeNoise: 1e-9)
        let evaluation = CoalescedEvaluation(surrogate: model, cores: 2)
        XCTAssertFalse(evaluation.coalesces)
        let before = (model.calls, model.rows)
        let x = inputs(24)
        let answers = try await concurrentAnswers(evaluation, x)
        for i in x.indices { XCTAssertEqual(answers[i], CountingSurrogate.answer(x[i]), "request \(i)") }
        XCTAssertEqual(model.calls - before.0, 24)
        XCTAssertEqual(model.rows - before.1, 24)
    }

    /// A float32 network served to 32 concurrent requests: every answer the same bits as the same
    /// request alone, and within float32 rounding of `predict`.
    func testConcurrentNetworkAnswersEqualSequentialOnes() async throws {
        let folder = try makeTemporaryFolder("serve-f32")
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        let layout = try NetworkLayout(widths: [6, 40, 200, 50], activation: .softsign)
        var description = ModelDescription(layout: layout, precision: .float32, inputNames: PollutantParameters.names,
                                           epochsCompleted: 1, epochsPlanned: 1, trainSamples: 1, testSamples: 1, windViscosity: 1.5e-5)
        description.outputTransform = .logarithm(offset: 1e-4)
        try SurrogateModel.write(network: Network<Float>(layout: layout, seed: 8), description: description, inputScaler: InputScaler(ranges: box),
                                 outputScaler: OutputScaler(mean: [Double](repeating: -6, count: 50), standardDeviation: [Double](repeating: 0.5, count: 50)),
                                 to: folder)
        let network = try SurrogateModel.load(from: folder)
        let evaluation = CoalescedEvaluation(surrogate: network, cores: 2)
        XCTAssertTrue(evaluation.coalesces, "a network's rows are independent by construction")
        let x = inputs(32)
        var sequential = [[Double]]()
        for row in x { sequential.append(try await evaluation.evaluate(row)) }
        let concurrent = try await concurrentAnswers(evaluation, x)
        XCTAssertEqual(concurrent, sequential)
        let reference = try network.predict(parameters: Array(x.joined()), rows: x.count)
        for i in 0..<x.count {
            for p in 0..<50 { XCTAssertEqual(concurrent[i][p], reference[i * 50 + p], accuracy: 1e-5 * abs(reference[i * 50 + p]), "row \(i) output \(p)") }
        }
    }

    /// The FEM's config: "nx" and "ny" choose the mesh (the same c3 as a solver built on that mesh);
    /// an unknown key, a non-integer, a value out of range or too many cells is the caller's error, and
    /// a surrogate takes no key at all.
    func testConfigChoosesTheFEMMeshAndRefusesWhatNoModelTakes() async throws {
        let config = try PipelineConfig.load(packageRoot(of: #filePath).appendingPathComponent("configs/smoke.toml"))
        let fem = try FEMServedModel(config: config, workers: 1)
        let theta = [10.0, 3.0, 0.2, 1.0, 0.05, -0.02]
        let coarse = try await fem.evaluate(theta, config: ServedModelConfig(["nx": .number(12), "ny": .number(8)]))
        let p = try PollutantParameters(row: theta)
        let wind = try InProcessWind.profile(for: p, options: InProcessWind.Options(config.wind))
        let reference = try PollutantSolver(discretization: PollutantDiscretization(settings: config.fem, nx: 12, ny: 8), newton: NewtonOptions(config.fem))
            .solve(p, profile: wind.profile, nu: config.wind.nu, x0: config.wind.x0).c3AtObservations
        XCTAssertEqual(coarse, reference)
        let standard = try await fem.evaluate(theta)
        XCTAssertEqual(standard.count, coarse.count)
        XCTAssertNotEqual(standard, coarse)
        func message(_ values: [String: ServedModelConfig.Value], model: ServedModel? = nil) async -> String {
            do { _ = try await (model ?? fem).evaluate(theta, config: ServedModelConfig(values)); return "" } catch { return "\(error)" }
        }
        let unknown = await message(["mesh": .number(3)])
        XCTAssertTrue(unknown.contains("no config key \"mesh\": it takes nx, ny"), unknown)
        let fraction = await message(["nx": .number(12.5)])
        XCTAssertTrue(fraction.contains("\"nx\" of model pollutant must be an integer in 2...2000"), fraction)
        let text = await message(["ny": .text("8")])
        XCTAssertTrue(text.contains("must be an integer"), text)
        let huge = await message(["nx": .number(2000), "ny": .number(2000)])
        XCTAssertTrue(huge.contains("4000000 cells"), huge)
        let surrogate = SurrogateServedModel(name: "net", surrogate: try network(transform: .identity))
        let refused = await message(["nx": .number(12)], model: surrogate)
        XCTAssertTrue(refused.contains("model net has no config key \"nx\": it takes no config keys"), refused)
    }
}
