import XCTest
import ArrayFiles
import DenseLinearAlgebra
import Foundation
import Numerics
import Sampling
@testable import DMD

/// The `train-dmd dmd` logic (file in, files out) and an independent cross-check against NumPy.
final class DMDCommandLineTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("dmd-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    /// A linear system with a little noise (so it is not exactly linear and every output matters).
    func noisySnapshots(n: Int, m: Int, seed: UInt64) -> ColumnMajorMatrix {
        let system = LinearSystem(dimension: n, modes: [polar(0.99, 0.3), polar(0.9, 1.1), Complex(0.95), Complex(-0.6)], seed: seed)
        var x = system.snapshots(m)
        var generator = SeededGenerator(seed: seed, stream: 99)
        for j in 0..<m { for i in 0..<n { x[i, j] += 1e-3 * generator.nextGaussian() / Double(n).squareRoot() } }
        return x
    }

    func writeColumnsLayout(_ x: ColumnMajorMatrix, name: String) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try Npy.write(x.rowMajorValues, shape: [x.rows, x.columns], to: url)
        return url
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

    /// Independent check: the textbook DMD written in NumPy (np.linalg.svd of X, eig of Ã,
    /// lstsq for b, λ**s) on noisy data (m = 12, so the weakest singular values are the noise's),
    /// for both mode kinds and both of our SVD paths. Measured differences: QR path 2e-13
    /// (eigenvalues), 2e-15 (mode contributions φ_j b_j), 5e-14 (extrapolation s = 30); method of
    /// snapshots 2e-9, 2e-12, 8e-12, because it squares the condition number (κ² ε). Tolerances:
    /// 1e-11 for the QR path and 1e-7 for the method of snapshots, about 50 times the measurements.
    func testAgreesWithNumPy() throws {
        guard let python = pythonWithNumPy() else { throw XCTSkip("python3 with numpy is not available") }
        let x = noisySnapshots(n: 400, m: 12, seed: 52)
        let input = try writeColumnsLayout(x, name: "snapshots.npy")
        let script = """
        import sys, numpy as np
        X = np.load(sys.argv[1]); tol = float(sys.argv[2]); s = float(sys.argv[3]); kind = sys.argv[4]; out = sys.argv[5]
        A, B = X[:, :-1], X[:, 1:]
        U, S, Vt = np.linalg.svd(A, full_matrices=False)
        r = int(np.sum(S / S[0] > tol))
        Ur, Sr, Vr = U[:, :r], S[:r], Vt[:r].T
        At = Ur.T @ B @ Vr / Sr
        lam, Y = np.linalg.eig(At)
        Phi = (B @ Vr / Sr) @ Y if kind == 'exact' else Ur @ Y
        b = np.linalg.lstsq(Phi, X[:, -1].astype(complex), rcond=None)[0]
        w = (Phi @ (lam ** s * b)).real
        np.save(out + '/S.npy', S)
        np.save(out + '/lam.npy', np.stack([lam.real, lam.imag], 1))
        pb = Phi * b
        np.save(out + '/pb.npy', np.stack([pb.real, pb.imag], 2))
        np.save(out + '/w.npy', w)
        """
        let scriptURL = folder.appendingPathComponent("dmd.py")
        try script.write(to: scriptURL, atomically: true, encoding: .utf8)
        for kind in DMDOptions.ModeKind.allCases {
            let reference = folder.appendingPathComponent("numpy-\(kind)")
            try FileManager.default.createDirectory(at: reference, withIntermediateDirectories: true)
            try run(python, [scriptURL.path, input.path, "1e-10", "30", kind.rawValue, reference.path])
            let sigma = try Npy.read(Double.self, from: reference.appendingPathComponent("S.npy")).values
            let lam = try Npy.read(Double.self, from: reference.appendingPathComponent("lam.npy")).values
            let contributions = try Npy.read(Double.self, from: reference.appendingPathComponent("pb.npy")).values
            let w = try Npy.read(Double.self, from: reference.appendingPathComponent("w.npy")).values
            let numpyLambdas = stride(from: 0, to: lam.count, by: 2).map { Complex(lam[$0], lam[$0 + 1]) }
            for method in DMDOptions.SVDMethod.allCases {
                let label = "\(method) \(kind)"
                let tolerance = method == .householderQR ? 1e-11 : 1e-7
                let model = try DMD.decompose(x, options: DMDOptions(svdMethod: method, modes: kind))
                XCTAssertEqual(model.rank, numpyLambdas.count, label)
                for (ours, theirs) in zip(model.singularValues, sigma) { XCTAssertEqual(ours, theirs, accuracy: 1e-12 * sigma[0], label) }
                XCTAssertLessThan(eigenvalueError(model.eigenvalues, numpyLambdas), tolerance, label)
                // Amplitudes b_j depend on how the eigenvector y_j is scaled (its sign or phase follows the
                // singular vectors' signs, which differ between the two SVDs), but the mode's contribution
                // φ_j b_j to w_m does not: compare those, paired by eigenvalue, relative to ‖w_m‖.
                let phi = try model.modes(kind)
                let r = model.rank
                let lastNorm = x.column(11).reduce(0) { $0 + $1 * $1 }.squareRoot()
                var worstContribution = 0.0
                for (j, lambda) in model.eigenvalues.enumerated() {
                    let match = numpyLambdas.indices.min { (numpyLambdas[$0] - lambda).length < (numpyLambdas[$1] - lambda).length }!
                    var difference = 0.0
                    for i in 0..<400 {
                        let theirs = Complex(contributions[(i * r + match) * 2], contributions[(i * r + match) * 2 + 1])
                        difference += (phi[i, j] * model.amplitudes[j] - theirs).lengthSquared
                    }
                    worstContribution = max(worstContribution, difference.squareRoot() / lastNorm)
                }
                XCTAssertLessThan(worstContribution, tolerance, label)
                XCTAssertLessThan(relativeError(try model.extrapolated(steps: 30), w), tolerance, label)
            }
        }
    }

    func pythonWithNumPy() -> URL? {
        for path in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let url = URL(fileURLWithPath: String(path)).appendingPathComponent("python3")
            guard FileManager.default.isExecutableFile(atPath: url.path) else { continue }
            if (try? run(url, ["-c", "import numpy"])) != nil { return url }
        }
        return nil
    }

    func run(_ executable: URL, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw DMDError.invalidOption("python failed: \(message)") }
    }
}
