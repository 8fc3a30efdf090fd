import XCTest
@testable import Pipeline

/// Sizes that multiply out beyond the machine are refused when the configuration is read, with one
/// message naming the key, the estimate and the machine's memory (never an allocation failure).
final class MemoryRequirementTests: XCTestCase {
    /// The paper network 6→40→200→1000→2670 has 2,882,150 parameters (hand count: 7·40 + 41·200 +
    /// 201·1000 + 1001·2670); float32 with Adam is 16 bytes each, and m = 14 Double snapshots add 112.
    func testNetworkEstimateCountsParametersExactly() {
        let parameters = 7 * 40 + 41 * 200 + 201 * 1000 + 1001 * 2670
        XCTAssertEqual(parameters, 2_882_150)
        XCTAssertEqual(MemoryRequirement.networkBytes(inputs: 6, hidden: [40, 200, 1000], outputs: 2670, scalarBytes: 4, snapshots: 0),
                       parameters * 16)
        XCTAssertEqual(MemoryRequirement.networkBytes(inputs: 6, hidden: [40, 200, 1000], outputs: 2670, scalarBytes: 4, snapshots: 14),
                       parameters * (16 + 112))
        // 10¹² parameters × 128 bytes does not fit in 64 bits' worth of memory claims: nil, not a trap.
        XCTAssertNil(MemoryRequirement.networkBytes(inputs: 6, hidden: [Int.max / 2, 1_000_000], outputs: 10, scalarBytes: 4, snapshots: 14))
    }

    /// A 2 × 2 mesh: 9 nodes, 27 unknowns, 9·63 nonzeros; two matrices of values and indices and 8 vectors.
    func testFEMEstimateOfATinyMesh() {
        XCTAssertEqual(MemoryRequirement.femBytes(nx: 2, ny: 2, threads: 1), 9 * 63 * 32 + 27 * 64)
        XCTAssertEqual(MemoryRequirement.femBytes(nx: 2, ny: 2, threads: 3), 3 * (9 * 63 * 32 + 27 * 64))
    }

    func testTheCommittedConfigsFitThisMachine() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        var folder = root
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) { folder.deleteLastPathComponent() }
        for name in ["paper.toml", "smoke.toml"] {
            let url = folder.appendingPathComponent("configs/\(name)")
            let config = try PipelineConfig.load(url)
            let bytes = MemoryRequirement.networkBytes(inputs: 6, hidden: config.network.hidden, outputs: config.fem.observationCount,
                                                       scalarBytes: 4, snapshots: config.dmd.m)
            XCTAssertLessThan(try XCTUnwrap(bytes), 1 << 30, "\(name): the paper network needs well under 1 GiB")
        }
    }

    func testHugeSizesAreRefusedWithTheKeyAndTheEstimate() {
        for (text, key) in [("[network]\nhidden = [1000000, 1000000]\n", "network.hidden"),
                            ("[surrogate]\ntuned_hidden = [1000000, 1000000]\n", "surrogate.tuned_hidden"),
                            ("[fem]\nnx = 100000\nny = 100000\n", "fem.nx")] {
            do {
                _ = try PipelineConfig.parse(text, file: "huge.toml")
                XCTFail("\(key): expected a refusal")
            } catch let error as ConfigError {
                XCTAssertEqual(error.key, key)
                XCTAssertTrue(error.file == "huge.toml", "\(error)")
                XCTAssertTrue(error.message.contains("GiB"), "\(error)")
                XCTAssertTrue(error.message.contains("more than this machine's"), "\(error)")
            } catch {
                XCTFail("\(key): unexpected error \(error)")
            }
        }
        // The same through --set names the flag, as every override does.
        XCTAssertThrowsError(try PipelineConfig.parse("", file: "x.toml", overrides: ["network.hidden=[1000000, 1000000]"])) {
            XCTAssertTrue("\($0)".contains("--set network.hidden"), "\($0)")
        }
    }

    func testTheCheckUsesTheGivenMemory() throws {
        let config = try PipelineConfig.parse("", file: "default.toml")
        let source = try ConfigSource(text: "", file: "default.toml")
        XCTAssertNoThrow(try MemoryRequirement.check(config, source: source, available: 1 << 34))
        XCTAssertThrowsError(try MemoryRequirement.check(config, source: source, available: 1 << 20)) {
            XCTAssertEqual(($0 as? ConfigError)?.key, "network.hidden")
        }
    }
}
