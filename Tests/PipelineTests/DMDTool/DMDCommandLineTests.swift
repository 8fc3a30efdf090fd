import XCTest
import _TestSupport
import NumericalFoundations
@testable import Surrogates
@testable import Pipeline
import Foundation
import Numerics

/// The `train-dmd dmd` logic (file in, files out); the NumPy cross-check of the library is in DMDTests.
final class DMDCommandLineTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = try makeTemporaryFolder("dmd-cli")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    func writeColumnsLayout(_ x: ColumnMajorMatrix, name: String) throws -> URL {
        try writeSnapshotColumns(x, named: name, in: folder)
    }

    func testOutputsMatchTheLibraryAndBothLayoutsAgree() throws {
        let x = noisySnapshots(n: 300, m: 10, seed: 51)
        let input = try writeColumnsLayout(x, name: "snapshots.npy")
        let out = folder.appendingPathComponent("out")
        let summary = try DMDCommandLine.run(.init(snapshotsURL: input, outputDirectory: out, steps: 20, writeModes: true))
        let model = try DMD.decompose(x)
        XCTAssertEqual(summary.dimension, 300); XCTAssertEqual(summary.snapshotCount, 10)
        XCTAssertEqual(summary.rank, model.rank)
        let r = model.rank
        XCTAssertEqual(try Npy.read(Double.self, from: out.appendingPathComponent("singular_values.npy"), expectedShape: [9]).values, model.singularValues)
        XCTAssertEqual(try Npy.read(Double.self, from: out.appendingPathComponent("eigenvalues.npy"), expectedShape: [r, 2]).values,
                       model.eigenvalues.flatMap { [$0.real, $0.imaginary] })
        XCTAssertEqual(try Npy.read(Double.self, from: out.appendingPathComponent("amplitudes.npy"), expectedShape: [r, 2]).values,
                       model.amplitudes.flatMap { [$0.real, $0.imaginary] })
        XCTAssertEqual(try Npy.read(Double.self, from: out.appendingPathComponent("reduced_operator.npy"), expectedShape: [r, r]).values,
                       model.reducedOperator.rowMajorValues)
        XCTAssertEqual(try Npy.read(Double.self, from: out.appendingPathComponent("extrapolated.npy"), expectedShape: [300]).values,
                       try model.extrapolated(steps: 20))
        let modes = try Npy.read(Double.self, from: out.appendingPathComponent("modes.npy"), expectedShape: [300, r, 2]).values
        let phi = try model.modes(.exact)
        XCTAssertEqual(modes[(7 * r + 2) * 2], phi[7, 2].real)
        XCTAssertEqual(modes[(7 * r + 2) * 2 + 1], phi[7, 2].imaginary)
        let json = try JSONValue.parse(Data(contentsOf: out.appendingPathComponent("summary.json")))
        XCTAssertEqual(json["rank"]?.number, Double(r))
        XCTAssertEqual(json["svd"]?.string, "qr")

        // The same data as (m, n) rows, in float32: same rank, results equal to float32 input precision.
        let rowsURL = folder.appendingPathComponent("rows.npy")
        try Npy.write(x.storage.map(Float.init), shape: [10, 300], to: rowsURL)
        let rowsOut = folder.appendingPathComponent("rows-out")
        _ = try DMDCommandLine.run(.init(snapshotsURL: rowsURL, outputDirectory: rowsOut, steps: 20, layout: .rows))
        let fromRows = try Npy.read(Double.self, from: rowsOut.appendingPathComponent("extrapolated.npy")).values
        // float32 rounding of the input (6e-8 relative), amplified by the conditioning of the noisy fit.
        XCTAssertLessThan(relativeError(fromRows, try model.extrapolated(steps: 20)), 1e-4)
    }

    func testBadFilesGiveErrorsNamingTheFile() throws {
        let oneD = folder.appendingPathComponent("vector.npy")
        try Npy.write([1.0, 2, 3], shape: [3], to: oneD)
        let out = folder.appendingPathComponent("o")
        XCTAssertThrowsError(try DMDCommandLine.run(.init(snapshotsURL: oneD, outputDirectory: out, steps: 1))) { error in
            XCTAssertTrue("\(error)".contains("vector.npy") && "\(error)".contains("2-D"), "\(error)")
        }
        let single = folder.appendingPathComponent("single.npy")
        try Npy.write([1.0, 2, 3], shape: [3, 1], to: single)
        XCTAssertThrowsError(try DMDCommandLine.run(.init(snapshotsURL: single, outputDirectory: out, steps: 1))) { error in
            XCTAssertTrue("\(error)".contains("at least 2"), "\(error)")
        }
        let nan = folder.appendingPathComponent("nan.npy")
        try Npy.write([1.0, 2, 3, .nan, 5, 6], shape: [3, 2], to: nan)
        XCTAssertThrowsError(try DMDCommandLine.run(.init(snapshotsURL: nan, outputDirectory: out, steps: 1))) { error in
            // Row-major (3, 2): value index 3 is entry (1, 1), i.e. snapshot 1.
            XCTAssertTrue("\(error)".contains("nan.npy") && "\(error)".contains("(1, 1)"), "\(error)")
        }
        let ints = folder.appendingPathComponent("ints.npy")
        try Npy.write([Int32(1), 2, 3, 4], shape: [2, 2], to: ints)
        XCTAssertThrowsError(try DMDCommandLine.run(.init(snapshotsURL: ints, outputDirectory: out, steps: 1))) { error in
            XCTAssertTrue("\(error)".contains("float64"), "\(error)")
        }
        XCTAssertThrowsError(try DMDCommandLine.run(.init(snapshotsURL: folder.appendingPathComponent("missing.npy"), outputDirectory: out, steps: 1)))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "no output is written on error")
    }
}
