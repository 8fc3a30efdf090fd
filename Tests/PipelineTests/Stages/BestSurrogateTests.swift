import Foundation
import XCTest
import _TestSupport
@testable import Pipeline

/// `[surrogate] best = "by_validation"`: the fitted model with the smallest validation median wins
/// (ties by p95), models without fit.json are left out, `[uq] model` follows a defaulted best, and
/// nothing fitted leaves the choice open.
final class BestSurrogateTests: XCTestCase {
    private func writeFit(_ folder: URL, _ model: String, median: Double, p95: Double) throws {
        let dir = folder.appendingPathComponent("models/\(model)", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let json = "{\"kind\": \"x\", \"validation_relative_l2\": {\"median\": \(median), \"p95\": \(p95), \"count\": 9}}"
        try Data(json.utf8).write(to: dir.appendingPathComponent("fit.json"))
    }

    func testTheSmallestValidationMedianIsChosen() throws {
        let data = try makeTemporaryFolder("best")
        addTeardownBlock { try? FileManager.default.removeItem(at: data) }
        let config = try PipelineConfig.parse("[surrogate]\nbest = \"by_validation\"\n")
        XCTAssertEqual(config.surrogate.best, .byValidation)
        XCTAssertEqual(config.uq.model, "by_validation")
        // Nothing fitted: the choice stays open.
        XCTAssertEqual(BestSurrogate.resolve(config, data: data).surrogate.best, .byValidation)
        try writeFit(data, "tuned", median: 0.045, p95: 0.31)
        try writeFit(data, "pod_gp", median: 0.0155, p95: 0.177)
        try writeFit(data, "ensemble", median: 0.0155, p95: 0.170)
        try FileManager.default.createDirectory(at: data.appendingPathComponent("models/pod_nn"), withIntermediateDirectories: true)
        let ranked = BestSurrogate.ranking(models: data.appendingPathComponent("models"))
        XCTAssertEqual(ranked.map(\.model), [.ensemble, .podGP, .tuned], "pod_nn has no fit.json; the tie on the median goes to the smaller p95")
        let resolved = BestSurrogate.resolve(config, data: data)
        XCTAssertEqual(resolved.surrogate.best, .model(.ensemble))
        XCTAssertEqual(resolved.uq.model, "ensemble")
        // A [uq] model set by hand is kept.
        let own = BestSurrogate.resolve(try PipelineConfig.parse("[surrogate]\nbest = \"by_validation\"\n[uq]\nmodel = \"tuned\"\n"), data: data)
        XCTAssertEqual(own.uq.model, "tuned")
        XCTAssertEqual(own.surrogate.best, .model(.ensemble))
    }

    func testAnUnknownBestNamesTheChoices() {
        XCTAssertThrowsError(try PipelineConfig.parse("[surrogate]\nbest = \"fastest\"\n")) { error in
            XCTAssertTrue("\(error)".contains("\"by_validation\""), "\(error)")
        }
        XCTAssertEqual(try PipelineConfig.parse("[surrogate]\nbest = \"pod_gp\"\n").surrogate.best, .model(.podGP))
    }
}
