import XCTest
import PDE
import _TestSupport
import Foundation
@testable import Pipeline

final class ConfigurationTests: XCTestCase {
    func assertConfigError(_ text: String, overrides: [String] = [], contains fragments: [String],
                           file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try PipelineConfig.parse(text, file: "test.toml", overrides: overrides)
            XCTFail("expected a configuration error", file: file, line: line)
        } catch {
            let message = "\(error)"
            for f in fragments { XCTAssertTrue(message.contains(f), "'\(message)' lacks '\(f)'", file: file, line: line) }
        }
    }

    func testDefaultsAreTheFormulationsValues() throws {
        let c = try PipelineConfig.parse("")
        XCTAssertEqual(c.sampling.samples, 1000)
        XCTAssertEqual(c.sampling.trainFraction, 0.8)
        XCTAssertEqual(c.sampling.ranges, SamplingSettings.defaultRanges)
        XCTAssertEqual(c.wind.nu, 1e-5); XCTAssertEqual(c.wind.x0, 0.1); XCTAssertEqual(c.wind.noSolution, .skip)
        XCTAssertEqual(c.network.hidden, [40, 200, 1000]); XCTAssertEqual(c.network.activation, .softsign)
        XCTAssertEqual(c.training.epochs, 3000); XCTAssertEqual(c.training.batchSize, 32)
        XCTAssertEqual(c.training.learningRate, 1e-3); XCTAssertEqual(c.training.epsilon, 1e-7)
        XCTAssertEqual(c.dmd.m, 14); XCTAssertEqual(c.dmd.s, 55); XCTAssertEqual(c.dmd.tol, 1e-10)
        XCTAssertEqual(c.dmd.snapshotKind, .weights); XCTAssertEqual(c.dmd.scope, .layer)
        XCTAssertEqual(c.fem.observationCount, 2670)
        XCTAssertEqual(c.fem.problem.sources[1], SourceDisk(disk: Disk(centerX: 0.1, centerY: 0.3, radius: 0.5), rate: 0.1))
    }

    func testCommittedConfigsLoad() throws {
        let root = packageRoot(of: #filePath)
        let paper = try PipelineConfig.load(root.appendingPathComponent("configs/paper.toml"))
        XCTAssertEqual(paper.sampling.samples, 1000)
        let smoke = try PipelineConfig.load(root.appendingPathComponent("configs/smoke.toml"))
        XCTAssertLessThan(smoke.sampling.samples, 100)
    }

    func testErrorsNameFileKeyAndExpectation() {
        assertConfigError("[fem]\nnxx = 3\n", contains: ["test.toml", "fem.nxx", "unknown key", "nx"])
        assertConfigError("[femm]\nnx = 3\n", contains: ["test.toml", "femm.nx", "unknown key or section"])
        assertConfigError("[fem]\nnx = \"many\"\n", contains: ["fem.nx", "expected an integer, found a string"])
        assertConfigError("[wind]\nnu = nan\n", contains: ["wind.nu", "finite"])
        assertConfigError("[wind]\nnu = -1e-5\n", contains: ["wind.nu", "out of range"])
        assertConfigError("[sampling]\nn_samples = 0\n", contains: ["sampling.n_samples", "out of range", "1 ≤ value"])
        assertConfigError("[sampling]\nK12 = [5.0, 1.0]\n", contains: ["sampling.K12", "low < high"])
        assertConfigError("[sampling]\nK12 = [5.0]\n", contains: ["sampling.K12", "expected 2 numbers"])
        assertConfigError("[wind]\nno_solution = \"ignore\"\n", contains: ["wind.no_solution", "\"skip\", \"clamp\", \"error\""])
        assertConfigError("[dmd]\nguarded = 1\n", contains: ["dmd.guarded", "true or false"])
        assertConfigError("[dmd]\nscope = \"global\"\n", contains: ["dmd.scope", "\"layer\"", "\"network\""])
        assertConfigError("[dmd]\nsnapshot_kind = \"updates\"\nm = 2\n", contains: ["dmd.m", "at least 3", "updates"])
        assertConfigError("[fem]\nterrain = [{center = 0.5, height = 0.1}]\n", contains: ["fem.terrain", "lacks field 'width'"])
        assertConfigError("[fem\nnx = 3\n", contains: ["test.toml", "malformed TOML", "line 1"])
        assertConfigError("[sampling]\nU0 = [0.0, 2.0]\n", contains: ["sampling.U0", "positive"])
    }

    func testOverridesApplyAndAreValidated() throws {
        let c = try PipelineConfig.parse("[fem]\nnx = 10\n", overrides: ["fem.nx=40", "wind.no_solution=\"clamp\"", "sampling.K3=[1, 2]", "wind.no_solution=error"])
        XCTAssertEqual(c.fem.problem.mesh.nx, 40)
        XCTAssertEqual(c.wind.noSolution, .error) // the bare word is a string; the last override wins
        XCTAssertEqual(c.sampling.ranges[1], 1...2)
        XCTAssertEqual(c.resolved["fem"]?["nx"], .number(40))
        assertConfigError("", overrides: ["fem.nx=abc"], contains: ["fem.nx", "expected an integer"])
        assertConfigError("", overrides: ["fem.bogus=1"], contains: ["fem.bogus", "unknown key"])
        assertConfigError("", overrides: ["nx=1"], contains: ["expected section.key"])
        assertConfigError("", overrides: ["fem.nx"], contains: ["section.key=value"])
    }

    func testMissingFileIsNamed() {
        XCTAssertThrowsError(try PipelineConfig.load(URL(fileURLWithPath: "/nonexistent/x.toml"))) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/x.toml"))
        }
    }

    func testResolvedConfigHoldsDefaults() throws {
        let c = try PipelineConfig.parse("[training]\nepochs = 5\n")
        XCTAssertEqual(c.resolved["training"]?["epochs"], .number(5))
        XCTAssertEqual(c.resolved["training"]?["batch_size"], .number(32))
    }

    func testDurationFormatting() {
        XCTAssertEqual(formatDuration(5.25), "5.2s")
        XCTAssertEqual(formatDuration(125), "2m05s")
        XCTAssertEqual(formatDuration(3725), "1h02m")
        XCTAssertEqual(formatDuration(.infinity), "?")
    }

    // MARK: reliability

    func testTrainFractionMustLeaveATestSample() throws {
        for (fraction, n) in [(1.0, 10), (0.96, 10), (0.95, 10)] {
            XCTAssertThrowsError(try PipelineConfig.parse("[sampling]\nn_samples = \(n)\ntrain_fraction = \(fraction)\n", file: "c.toml")) {
                XCTAssertTrue("\($0)".hasPrefix("c.toml: key 'sampling.train_fraction': value \(fraction) leaves no test sample"), "\($0)")
            }
        }
        XCTAssertEqual(try PipelineConfig.parse("[sampling]\nn_samples = 10\ntrain_fraction = 0.94\n").sampling.trainFraction, 0.94)
    }

    func testOverrideErrorsNameTheOverrideOrFlag() throws {
        XCTAssertThrowsError(try PipelineConfig.parse("[training]\nepochs = 5\n", file: "c.toml", overrides: ["training.epochs=0"])) {
            XCTAssertEqual("\($0)", "--set training.epochs=0: key 'training.epochs': value 0 is out of range; expected 1 ≤ value ≤ 10000000")
        }
        XCTAssertThrowsError(try PipelineConfig.parse("", file: "c.toml", overrides: [ConfigOverride("training.epochs=0", origin: "--epochs 0")])) {
            XCTAssertEqual("\($0)", "--epochs 0: key 'training.epochs': value 0 is out of range; expected 1 ≤ value ≤ 10000000")
        }
        XCTAssertThrowsError(try PipelineConfig.parse("[training]\nepochs = 0\n", file: "c.toml")) {
            XCTAssertEqual("\($0)", "c.toml: key 'training.epochs': value 0 is out of range; expected 1 ≤ value ≤ 10000000")
        }
        XCTAssertThrowsError(try PipelineConfig.parse("", file: "c.toml", overrides: ["fem.bogus=1"])) {
            XCTAssertTrue("\($0)".hasPrefix("--set fem.bogus=1: key 'fem.bogus': unknown key"), "\($0)")
        }
    }

    func testConfigurationThatSetsNoKeysIsFlagged() throws {
        XCTAssertTrue(try PipelineConfig.parse("# only a comment\n").fileSetsNoKeys)
        XCTAssertTrue(try PipelineConfig.parse("", overrides: ["sampling.n_samples=5"]).fileSetsNoKeys)
        XCTAssertFalse(try PipelineConfig.parse("[fem]\nnx = 20\n").fileSetsNoKeys)
    }
}

final class UQSettingsTests: XCTestCase {
    func testDefaultsAndValidation() throws {
        let c = try PipelineConfig.parse("")
        XCTAssertEqual(c.uq.samples, 100_000); XCTAssertEqual(c.uq.sobolN, 8192); XCTAssertEqual(c.uq.bootstrap, 200)
        XCTAssertEqual(c.uq.batch, 4096); XCTAssertEqual(c.uq.model, "tuned"); XCTAssertEqual(c.uq.region, .feasible)
        XCTAssertEqual(c.uq.distributions, [UQSettings.Distribution](repeating: .uniform, count: 6))
        XCTAssertEqual(c.uq.means[0], 10.5); XCTAssertEqual(c.uq.stds[0], 4.75)
        XCTAssertEqual(c.uq.sobolDesign, .scrambledSobol); XCTAssertEqual(c.uq.referenceSamples, 2000); XCTAssertEqual(c.uq.referenceBootstrap, 1000)
        XCTAssertEqual(try PipelineConfig.parse("[uq]\nsobol_design = \"random\"").uq.sobolDesign, .pseudoRandom)
        let n = try PipelineConfig.parse("[uq]\ndistributions = [\"normal\", \"uniform\", \"log_uniform\", \"uniform\", \"uniform\", \"uniform\"]\nmeans = [5, 0, 0, 0, 0, 0]\n")
        XCTAssertEqual(n.uq.distributions[0], .normal); XCTAssertEqual(n.uq.means[0], 5)
        for (text, fragment) in [("[uq]\nregion = \"everywhere\"", "uq.region"), ("[uq]\nn_samples = 1", "uq.n_samples"),
                                 ("[uq]\nsobol_n = 2.5", "uq.sobol_n"), ("[uq]\nmodel = \"../x\"", "uq.model"),
                                 ("[uq]\ndistributions = [\"uniform\"]", "expected 6 entries"),
                                 ("[uq]\ndistributions = [\"uniform\", \"uniform\", \"uniform\", \"uniform\", \"log_uniform\", \"uniform\"]", "not positive"),
                                 ("[uq]\ndistributions = [\"normal\", \"uniform\", \"uniform\", \"uniform\", \"uniform\", \"uniform\"]\nstds = [0, 1, 1, 1, 1, 1]", "uq.stds"),
                                 ("[uq]\nsobol_design = \"halton\"", "uq.sobol_design"),
                                 ("[uq]\nfem_reference_samples = 1", "uq.fem_reference_samples"),
                                 ("[uq]\nfem_reference_bootstrap = 0", "uq.fem_reference_bootstrap"),
                                 ("[uq]\nbootstrapp = 3", "unknown key")] {
            XCTAssertThrowsError(try PipelineConfig.parse(text, file: "t.toml")) { e in
                XCTAssertTrue("\(e)".contains(fragment), "'\(e)' lacks '\(fragment)'")
            }
        }
    }
}

final class SurrogateSettingsTests: XCTestCase {
    /// The POD-NN optimizer keys: defaults, the LM choice, and each bad value named with what was expected.
    func testPODNNOptimizerKeys() throws {
        let d = try PipelineConfig.parse("")
        XCTAssertEqual(d.surrogate.podnnOptimizer, .adam)
        XCTAssertEqual(d.surrogate.podnnLMIterations, 200); XCTAssertEqual(d.surrogate.podnnLMCGIterations, 20)
        XCTAssertEqual(d.surrogate.podnnLMPatience, 10)
        let lm = try PipelineConfig.parse("[surrogate]\npodnn_optimizer = \"levenberg_marquardt\"\npodnn_lm_patience = 0\n")
        XCTAssertEqual(lm.surrogate.podnnOptimizer, .levenbergMarquardt); XCTAssertEqual(lm.surrogate.podnnLMPatience, 0)
        for (text, fragments) in [("podnn_optimizer = \"sgd\"", ["surrogate.podnn_optimizer", "levenberg_marquardt"]),
                                  ("podnn_lm_iterations = 0", ["surrogate.podnn_lm_iterations"]),
                                  ("podnn_lm_cg_iterations = 1.5", ["surrogate.podnn_lm_cg_iterations"]),
                                  ("podnn_lm_patience = -1", ["surrogate.podnn_lm_patience"])] {
            XCTAssertThrowsError(try PipelineConfig.parse("[surrogate]\n" + text + "\n", file: "t.toml")) { e in
                for f in fragments + ["t.toml"] { XCTAssertTrue("\(e)".contains(f), "'\(e)' lacks '\(f)'") }
            }
        }
    }

    /// The derivative keys: defaults off, accepted values, and bad ones named (the derivative loss with LM too).
    func testDerivativeKeys() throws {
        let d = try PipelineConfig.parse("")
        XCTAssertEqual(d.surrogate.podnnDerivativeWeight, 0); XCTAssertEqual(d.surrogate.gpDerivativeModes, 0)
        let on = try PipelineConfig.parse("[surrogate]\npodnn_derivative_weight = 0.1\ngp_derivative_modes = 8\n")
        XCTAssertEqual(on.surrogate.podnnDerivativeWeight, 0.1); XCTAssertEqual(on.surrogate.gpDerivativeModes, 8)
        for (text, fragments) in [("podnn_derivative_weight = -1", ["surrogate.podnn_derivative_weight"]),
                                  ("gp_derivative_modes = -2", ["surrogate.gp_derivative_modes"]),
                                  ("podnn_derivative_weight = 1\npodnn_optimizer = \"levenberg_marquardt\"", ["surrogate.podnn_derivative_weight", "adam"])] {
            XCTAssertThrowsError(try PipelineConfig.parse("[surrogate]\n" + text + "\n", file: "t.toml")) { e in
                for f in fragments + ["t.toml"] { XCTAssertTrue("\(e)".contains(f), "'\(e)' lacks '\(f)'") }
            }
        }
    }

    func testEnsembleMustFollowItsMembersAndUQDefaultsToTheBest() throws {
        XCTAssertThrowsError(try PipelineConfig.parse("[surrogate]\nmodels = [\"ensemble\", \"tuned\", \"pod_gp\"]\n", file: "c.toml")) {
            XCTAssertTrue("\($0)".contains("surrogate.models") && "\($0)".contains("after its member tuned"), "\($0)")
        }
        let c = try PipelineConfig.parse("[surrogate]\nbest = \"pod_gp\"\nlog_inputs = [\"D\"]\n", file: "c.toml")
        XCTAssertEqual(c.uq.model, "pod_gp", "[uq] model defaults to [surrogate] best")
        XCTAssertEqual(c.surrogate.logInputs, ["D"])
        XCTAssertThrowsError(try PipelineConfig.parse("[surrogate]\nlog_inputs = [\"Q\"]\n", file: "c.toml"))
    }
}
