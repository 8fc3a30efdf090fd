import XCTest
import _TestSupport
import NumericalFoundations
@testable import Surrogates
import Foundation
import Numerics

/// An independent cross-check of `DMD.decompose` against the textbook DMD written in NumPy.
final class DMDNumPyCrossCheckTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = try makeTemporaryFolder("dmd-numpy")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    func writeColumnsLayout(_ x: ColumnMajorMatrix, name: String) throws -> URL {
        try writeSnapshotColumns(x, named: name, in: folder)
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
