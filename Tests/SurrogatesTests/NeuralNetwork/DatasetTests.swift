import XCTest
import NumericalFoundations
@testable import Surrogates

final class DatasetTests: XCTestCase {
    func testLoadsAndSplitsUsingOnlySolvedSamples() throws {
        let folder = try TestDataFolder()
        defer { folder.remove() }
        let data = try folder.load()
        XCTAssertEqual(data.sampleCount, 40)
        XCTAssertEqual(data.observationWidth, 5)
        // Every 4th sample is a test sample; samples 3 (test) and 17 (train) failed.
        XCTAssertEqual(data.testIndices, [7, 11, 15, 19, 23, 27, 31, 35, 39])
        XCTAssertEqual(data.trainIndices.count, 30 - 1)
        XCTAssertFalse(data.trainIndices.contains(17))
        XCTAssertEqual(data.excludedByStatus, [2: 2])
    }

    func testShapeMismatchesNameTheFile() throws {
        var folder = try TestDataFolder()
        defer { folder.remove() }
        folder.split.removeLast()
        try folder.write()
        XCTAssertThrowsMessage(try folder.load(), contains: ["split.npy", "39 entries", "40 samples"])

        folder = try TestDataFolder()
        defer { folder.remove() }
        try Npy.write(Array(folder.c3.dropLast(5)), shape: [39, 5], to: folder.observationsURL)
        XCTAssertThrowsMessage(try folder.load(), contains: ["c3.npy", "39 rows", "40 samples"])

        try Npy.write([Double](repeating: 1, count: 40 * 5), shape: [40, 5], to: folder.paramsURL)
        XCTAssertThrowsMessage(try folder.load(), contains: ["params.npy", "shape is (40, 5)", "(any, 6)"])

        try folder.write()
        try Npy.write([Float](repeating: 0, count: 40), shape: [40], to: folder.statusURL)
        XCTAssertThrowsMessage(try folder.load(), contains: ["status.npy", "dtype"])

        try FileManager.default.removeItem(at: folder.statusURL)
        XCTAssertThrowsMessage(try folder.load(), contains: ["status.npy", "missing"])
    }

    func testNaNIsAnErrorOnlyInSolvedSamples() throws {
        var folder = try TestDataFolder()
        defer { folder.remove() }
        // Failed samples carry NaN rows already (status 2) and load fine; a NaN in a solved one is named.
        folder.c3[8 * 5 + 3] = .nan
        try folder.write()
        XCTAssertThrowsMessage(try folder.load(), contains: ["c3.npy", "sample 8", "observation point 3", "nan"])

        folder = try TestDataFolder()
        defer { folder.remove() }
        folder.params[5 * 6 + 2] = .infinity
        try folder.write()
        XCTAssertThrowsMessage(try folder.load(), contains: ["params.npy", "sample 5", "D is inf"])
    }

    func testEmptyTrainingSetIsAnError() throws {
        var folder = try TestDataFolder(samples: 8, failed: [0, 1, 2, 4, 5, 6])   // only test samples (3, 7) solved
        defer { folder.remove() }
        XCTAssertThrowsMessage(try folder.load(), contains: ["training set is empty", "6 without a FEM solution"])
        folder.split = [UInt8](repeating: 1, count: 8)
        folder.status = [Int32](repeating: 0, count: 8)
        folder.c3 = folder.c3.map { $0.isNaN ? 0.5 : $0 }
        try folder.write()
        XCTAssertThrowsMessage(try folder.load(), contains: ["training set is empty", "0 marked for training"])
    }

    func testParametersOutsideTheConfiguredBoxAreAnError() throws {
        var folder = try TestDataFolder()
        defer { folder.remove() }
        folder.params[9 * 6 + 3] = 2.5   // U0 beyond [0.01, 2]
        try folder.write()
        XCTAssertThrowsMessage(try folder.load(), contains: ["sample 9", "U0 = 2.5", "[0.01, 2.0]"])
        folder.split[0] = 7
        try folder.write()
        XCTAssertThrowsMessage(try folder.load(), contains: ["split.npy", "sample 0", "split value 7"])
    }

    // MARK: Scalers

    func testInputScalingMapsTheBoxOntoMinusOneOne() throws {
        let scaler = try InputScaler(ranges: [1...20, 0...0, -0.2...0.2])
        XCTAssertEqual(scaler.scale(1, column: 0), -1)
        XCTAssertEqual(scaler.scale(20, column: 0), 1)
        XCTAssertEqual(scaler.scale(10.5, column: 0), 0, accuracy: 1e-15)
        XCTAssertEqual(scaler.scale(0, column: 1), 0, "a fixed parameter maps to 0")
        XCTAssertEqual(scaler.scale(0.1, column: 2), 0.5, accuracy: 1e-15)
        XCTAssertFalse(scaler.contains(20.001, column: 0))
        XCTAssertTrue(scaler.contains(20 + 1e-12, column: 0), "round-off at the box edge is tolerated")
        XCTAssertThrowsError(try InputScaler(lower: [1], upper: [0]))
    }

    func testOutputStandardisationFromTheTrainingRows() throws {
        // Two outputs over rows 0, 1, 3 (row 2 is not a training row and must be ignored):
        // output 0: 1, 3, 5 → mean 3, population std sqrt(8/3); output 1 constant 7 → floored.
        let values: [Double] = [1, 7, 3, 7, 1000, -1000, 5, 7]
        let scaler = try OutputScaler(fitting: values, width: 2, rows: [0, 1, 3], relativeFloor: 1e-6)
        XCTAssertEqual(scaler.mean, [3, 7])
        XCTAssertEqual(scaler.standardDeviation[0], (8.0 / 3).squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(scaler.standardDeviation[1], 1e-6 * (8.0 / 3).squareRoot(), accuracy: 1e-21)
        XCTAssertEqual(scaler.flooredCount, 1)
        XCTAssertEqual(scaler.unstandardize(scaler.standardize(4.2, column: 0), column: 0), 4.2, accuracy: 1e-15)
        // All outputs constant: scale 1 (nothing to standardise by).
        let flat = try OutputScaler(fitting: [2, 2, 2, 2], width: 2, rows: [0, 1], relativeFloor: 1e-6)
        XCTAssertEqual(flat.standardDeviation, [1, 1])
    }
}
