import XCTest
import _TestSupport
import NumericalFoundations
@testable import Pipeline

/// Seeded mutations of the committed configurations (characters flipped, inserted and deleted, TOML
/// tokens spliced in): every outcome is a configuration or one error naming the file, never a trap.
final class ConfigurationFuzzTests: XCTestCase {
    /// The inputs on which the TOML parser underneath stopped the process: now one error each.
    func testHeadersAndBracketsTheParserCannotTakeAreNamedErrors() {
        for (text, fragment) in [("[:network]\n", "line 1, column 2: a table header must start with a key"),
                                 ("[[é]]\n", "line 1, column 3"), ("[\nnx = 1]\n", "found the end of the line"),
                                 ("x = [1, }2]\n", "line 1, column 9: this bracket does not close"),
                                 ("x = [\n  1,\n  }\n]\n", "line 3, column 3")] {
            XCTAssertThrowsError(try PipelineConfig.parse(text, file: "bad.toml"), text) {
                XCTAssertTrue("\($0)".contains("bad.toml") && "\($0)".contains(fragment), "\($0)")
            }
        }
        // Brackets and quotes inside strings and comments are text, not structure.
        XCTAssertNoThrow(try PipelineConfig.parse("# [:x] }\n[fem]\n# ]\n", file: "ok.toml"))
    }

    func testMutatedConfigurationsNeverTrap() throws {
        let root = packageRoot(of: #filePath)
        let seeds = try ["smoke.toml", "paper.toml"].map { try String(contentsOf: root.appendingPathComponent("configs/\($0)"), encoding: .utf8) }
        let tokens = ["=", "[", "]", "[[", "\"", "'", "\"\"\"", "#", ",", "{", "}", ".", "-", "nan", "inf", "-inf", "1e999", "0x", "true",
                      "9223372036854775808", "-1", "\u{FEFF}", "\r\n", "\n[fem]\n", "\nnx = ", "\u{0}", "é"]
        // CONFIG_FUZZ_SEED and CONFIG_FUZZ_TRIALS explore further by hand; CI runs the fixed 1500.
        let environment = ProcessInfo.processInfo.environment
        var generator = SeededGenerator(seed: environment["CONFIG_FUZZ_SEED"].flatMap { UInt64($0) } ?? 20261206)
        let trials = environment["CONFIG_FUZZ_TRIALS"].flatMap { Int($0) } ?? 1500
        var outcomes = (configs: 0, errors: 0)
        for trial in 0..<trials {
            var text = Array(seeds[trial % seeds.count].unicodeScalars)
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                let at = Int(generator.next() % UInt64(max(1, text.count)))
                switch generator.next() % 4 {
                case 0: if !text.isEmpty { text.remove(at: at) }
                case 1: text.insert(UnicodeScalar(UInt8(32 + generator.next() % 95)), at: min(at, text.count))
                case 2: if !text.isEmpty { text[at] = UnicodeScalar(UInt8(32 + generator.next() % 95)) }
                default: text.insert(contentsOf: tokens[Int(generator.next() % UInt64(tokens.count))].unicodeScalars, at: min(at, text.count))
                }
            }
            var mutated = ""
            mutated.unicodeScalars.append(contentsOf: text)
            if let trace = ProcessInfo.processInfo.environment["CONFIG_FUZZ_TRACE"] {
                try? mutated.write(toFile: trace, atomically: false, encoding: .utf8)
            }
            do {
                _ = try PipelineConfig.parse(mutated, file: "mutant.toml")
                outcomes.configs += 1
            } catch {
                XCTAssertTrue("\(error)".contains("mutant.toml"), "trial \(trial): an error that names no file: \(error)")
                outcomes.errors += 1
            }
        }
        XCTAssertEqual(outcomes.configs + outcomes.errors, trials)
        // A guard, not a measured rate: the loop must reach the parser's error paths, or the no-trap
        // check above would hold vacuously.
        XCTAssertGreaterThan(outcomes.errors, trials / 3, "the mutations should mostly break the file")
    }
}
