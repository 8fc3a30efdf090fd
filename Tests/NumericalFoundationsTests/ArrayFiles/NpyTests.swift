import XCTest
import Foundation
import _TestSupport
@testable import NumericalFoundations

final class NpyTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("npy-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func fixture(_ name: String) -> URL {
        Bundle.module.url(forResource: name, withExtension: "npy", subdirectory: "Fixtures")!
    }

    func roundTrip<T: NpyElement & Equatable>(_ values: [T], shape: [Int], file: StaticString = #filePath, line: UInt = #line) throws {
        let url = folder.appendingPathComponent("rt-\(T.self)-\(shape.count).npy")
        try Npy.write(values, shape: shape, to: url)
        let back = try Npy.read(T.self, from: url)
        XCTAssertEqual(back.shape, shape, file: file, line: line)
        XCTAssertEqual(back.values, values, file: file, line: line)
        // The header is padded so that the data start on a 64-byte boundary (NumPy's own rule).
        XCTAssertEqual(try Npy.readHeader(from: url).dataOffset % 64, 0, file: file, line: line)
    }

    func testRoundTripEveryDTypeAndRank() throws {
        let shapes: [[Int]] = [[], [5], [2, 3], [2, 3, 4]]
        for shape in shapes {
            let n = shape.reduce(1, *)
            try roundTrip((0..<n).map { Double($0) * 0.1 - 1 }, shape: shape)
            try roundTrip((0..<n).map { Float($0) * 0.5 - 2 }, shape: shape)
            try roundTrip((0..<n).map { Int32($0) - 7 }, shape: shape)
            try roundTrip((0..<n).map { Int64($0) * 1_000_000_007 }, shape: shape)
            try roundTrip((0..<n).map { UInt8($0 % 256) }, shape: shape)
        }
        try roundTrip([Double](), shape: [0, 6])
    }

    func testSpecialValuesSurviveBitExactly() throws {
        let values: [Double] = [.nan, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        let url = folder.appendingPathComponent("special.npy")
        try Npy.write(values, shape: [6], to: url)
        let back = try Npy.read(Double.self, from: url).values
        XCTAssertEqual(back.map(\.bitPattern), values.map(\.bitPattern))
    }

    func testNumPyWrittenFixturesLoad() throws {
        let f8 = try Npy.read(Double.self, from: fixture("f8_2x3"), expectedShape: [2, 3])
        XCTAssertEqual(f8.values, [0, 0.25, 0.5, 0.75, 1, 1.25])
        let f4 = try Npy.read(Float.self, from: fixture("f4_3"))
        XCTAssertEqual(f4.shape, [3]); XCTAssertEqual(f4.values, [1.5, -2.25, 3e-3])
        let i4 = try Npy.read(Int32.self, from: fixture("i4_2x2x2"))
        XCTAssertEqual(i4.shape, [2, 2, 2]); XCTAssertEqual(i4.values, (0..<8).map { Int32($0) - 3 })
        let i8 = try Npy.read(Int64.self, from: fixture("i8_scalar"))
        XCTAssertEqual(i8.shape, []); XCTAssertEqual(i8.values, [-42])
        let u1 = try Npy.read(UInt8.self, from: fixture("u1_5"))
        XCTAssertEqual(u1.values, [0, 1, 255, 7, 9])
        let empty = try Npy.read(Double.self, from: fixture("f8_empty_0x6"), expectedShape: [nil, 6])
        XCTAssertEqual(empty.shape, [0, 6]); XCTAssertTrue(empty.values.isEmpty)
    }

    func assertError(_ body: () throws -> Void, contains fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        do { try body(); XCTFail("expected an error", file: file, line: line) } catch {
            let text = "\(error)"
            for f in fragments { XCTAssertTrue(text.contains(f), "'\(text)' lacks '\(f)'", file: file, line: line) }
        }
    }

    func testMalformedFilesGiveNamedErrors() throws {
        let good = try Data(contentsOf: fixture("f8_2x3"))
        let badMagic = folder.appendingPathComponent("badmagic.npy")
        var bytes = good; bytes[1] = UInt8(ascii: "X")
        try bytes.write(to: badMagic)
        assertError({ _ = try Npy.read(Double.self, from: badMagic) }, contains: ["badmagic.npy", "magic"])

        let truncated = folder.appendingPathComponent("truncated.npy")
        try good.prefix(good.count - 5).write(to: truncated)
        assertError({ _ = try Npy.read(Double.self, from: truncated) }, contains: ["truncated.npy", "truncated", "48 data bytes"])

        let headerOnly = folder.appendingPathComponent("short.npy")
        try good.prefix(20).write(to: headerOnly)
        assertError({ _ = try Npy.read(Double.self, from: headerOnly) }, contains: ["short.npy", "truncated .npy header"])

        assertError({ _ = try Npy.read(Double.self, from: self.fixture("f8_2x3"), expectedShape: [2, 4]) },
                    contains: ["f8_2x3.npy", "shape is (2, 3) but (2, 4) was expected"])
        assertError({ _ = try Npy.read(Double.self, from: self.fixture("f8_2x3"), expectedShape: [nil]) },
                    contains: ["shape is (2, 3) but (any) was expected"])
        assertError({ _ = try Npy.read(Float.self, from: self.fixture("f8_2x3")) },
                    contains: ["f8_2x3.npy", "dtype is float64", "float32"])
        assertError({ _ = try Npy.read(Double.self, from: self.fixture("f8_fortran")) },
                    contains: ["f8_fortran.npy", "Fortran"])
        assertError({ _ = try Npy.read(Double.self, from: self.fixture("f8_bigendian")) },
                    contains: ["f8_bigendian.npy", "unsupported dtype '>f8'"])
        let missing = folder.appendingPathComponent("missing.npy")
        assertError({ _ = try Npy.read(Double.self, from: missing) }, contains: ["missing.npy", "cannot be read"])

        // A header whose shape promises more data than the file holds (header/shape mismatch).
        let mismatch = folder.appendingPathComponent("mismatch.npy")
        var lying = [UInt8](Npy.encode([1.0, 2.0], shape: [2]))
        let at = try XCTUnwrap((0..<(lying.count - 3)).first { lying[$0..<($0 + 4)].elementsEqual("(2,)".utf8) })
        lying[at + 1] = UInt8(ascii: "3")
        try Data(lying).write(to: mismatch)
        assertError({ _ = try Npy.read(Double.self, from: mismatch) }, contains: ["mismatch.npy", "needs 24 data bytes, file has 16"])
    }

    /// A 128-byte file whose declared shape overflows 64 bits when multiplied out: one named error, no trap.
    func testOverflowingShapeIsANamedError() throws {
        for shape in ["(3074457345618258603, 6)", "(9223372036854775807, 2)", "(4294967296, 4294967296, 1)"] {
            let dict = "{'descr': '<f8', 'fortran_order': False, 'shape': \(shape), }"
            var header = [UInt8](dict.utf8)
            while (10 + header.count + 1) % 64 != 0 { header.append(UInt8(ascii: " ")) }
            header.append(UInt8(ascii: "\n"))
            var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count & 0xff), UInt8(header.count >> 8)]
            bytes += header
            let url = folder.appendingPathComponent("overflow.npy")
            try Data(bytes).write(to: url)
            assertError({ _ = try Npy.read(Double.self, from: url) }, contains: ["overflow.npy", "declares more data than any file can hold"])
            assertError({ _ = try Npy.readHeader(from: url) }, contains: ["overflow.npy", "declares more data"])
        }
    }

    /// Seeded mutations of valid files (flipped, inserted and deleted bytes, header text edits): every
    /// outcome is a value or an `ArrayFileError`, never a trap. 4000 cases run in well under a second.
    func testMutatedFilesNeverTrap() throws {
        var generator = SeededGenerator(seed: 20261206)
        let seeds: [Data] = [Npy.encode([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], shape: [2, 3]), Npy.encode([Int32(7)], shape: []),
                             Npy.encode([UInt8](repeating: 1, count: 5), shape: [5]), Npy.encode([Double](), shape: [0, 6])]
        let edits: [String] = ["(", ")", ",", "-1", "99999999999999999999", "9223372036854775807", "'", "True", "<f4", ":", "}", " "]
        var outcomes = (values: 0, errors: 0)
        for case_ in 0..<4000 {
            var bytes = [UInt8](seeds[case_ % seeds.count])
            for _ in 0..<(1 + Int(generator.next() % 3)) {
                let at = Int(generator.next() % UInt64(max(1, bytes.count)))
                switch generator.next() % 4 {
                case 0: if !bytes.isEmpty { bytes[at] ^= UInt8(truncatingIfNeeded: 1 << (generator.next() % 8)) }
                case 1: bytes.insert(UInt8(truncatingIfNeeded: generator.next()), at: min(at, bytes.count))
                case 2: if !bytes.isEmpty { bytes.remove(at: at) }
                default:
                    let text = Array(edits[Int(generator.next() % UInt64(edits.count))].utf8)
                    let start = min(max(10, at), bytes.count)
                    bytes.replaceSubrange(start..<min(start + text.count, bytes.count), with: text)
                }
            }
            do {
                switch try Npy.parseHeader(Data(bytes), path: "mutant.npy").dtype {
                case .float64: _ = try Npy.decode(Data(bytes), as: Double.self, path: "mutant.npy")
                case .float32: _ = try Npy.decode(Data(bytes), as: Float.self, path: "mutant.npy")
                case .int32: _ = try Npy.decode(Data(bytes), as: Int32.self, path: "mutant.npy")
                case .int64: _ = try Npy.decode(Data(bytes), as: Int64.self, path: "mutant.npy")
                case .uint8: _ = try Npy.decode(Data(bytes), as: UInt8.self, path: "mutant.npy")
                }
                outcomes.values += 1
            } catch let error as ArrayFileError {
                XCTAssertTrue(error.description.contains("mutant.npy"), "error without the file's name: \(error)")
                outcomes.errors += 1
            }
        }
        XCTAssertEqual(outcomes.values + outcomes.errors, 4000)
        // Not a measured rate: a guard that the loop exercises the error paths at all (a mutation loop
        // that left every file valid would pass the no-trap check without testing anything).
        XCTAssertGreaterThan(outcomes.errors, 1000)
    }

    func testAtomicWriteLeavesNoTemporaryFiles() throws {
        let url = folder.appendingPathComponent("sub/dir/a.npy")
        try Npy.write([1.0, 2.0], shape: [2], to: url)
        try Npy.write([3.0], shape: [1], to: url)
        XCTAssertEqual(try Npy.read(Double.self, from: url).values, [3.0])
        let listing = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
        XCTAssertEqual(listing, ["a.npy"])
    }

    /// Files written here load in NumPy with the same values (skipped where python3/numpy is absent).
    func testFilesLoadInNumPy() throws {
        guard let python = PythonCheck.numpyPython() else { throw XCTSkip("python3 with numpy not available") }
        let a = folder.appendingPathComponent("a.npy"), b = folder.appendingPathComponent("b.npy")
        let c = folder.appendingPathComponent("c.npy"), d = folder.appendingPathComponent("d.npy")
        try Npy.write((0..<24).map { Double($0) / 8 }, shape: [2, 3, 4], to: a)
        try Npy.write([Float(1.5), -2], shape: [2], to: b)
        try Npy.write([UInt8(0), 1, 0], shape: [3], to: c)
        try Npy.write([Int64(-5)], shape: [], to: d)
        let script = """
        import numpy as np
        a = np.load('\(a.path)'); assert a.shape == (2, 3, 4) and a.dtype == np.float64 and (a.ravel() == np.arange(24) / 8).all()
        b = np.load('\(b.path)'); assert b.dtype == np.float32 and list(b) == [1.5, -2.0]
        c = np.load('\(c.path)'); assert c.dtype == np.uint8 and list(c) == [0, 1, 0]
        d = np.load('\(d.path)'); assert d.shape == () and d.dtype == np.int64 and int(d) == -5
        print('ok')
        """
        XCTAssertEqual(try PythonCheck.run(python, script), "ok")
    }
}

/// Finds a python3 with numpy for cross-checks.
enum PythonCheck {
    static func numpyPython() -> String? {
        for candidate in ["/usr/bin/env"] {
            if let out = try? run(candidate, "import numpy; print('ok')", args: ["python3"]), out == "ok" { return candidate }
        }
        return nil
    }

    static func run(_ executable: String, _ script: String, args: [String] = ["python3"]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = args + ["-c", script]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// The streamed writer and large headers: a file written block by block is the file `Npy.write` writes;
/// an unfinished one never appears; a v2 header beyond 64 KiB is read whole.
final class NpyStreamTests: XCTestCase {
    func testStreamedFileEqualsTheOneShotFile() throws {
        let folder = try makeTemporaryFolder("npy-stream")
        defer { try? FileManager.default.removeItem(at: folder) }
        let values = (0..<24).map { Double($0) * 0.5 - 3 }
        let oneShot = folder.appendingPathComponent("one.npy"), streamed = folder.appendingPathComponent("streamed.npy")
        try Npy.write(values, shape: [4, 6], to: oneShot)
        let writer = try NpyStreamWriter<Double>(url: streamed, shape: [4, 6])
        try writer.append(values[0..<6]); try writer.append(values[6..<18]); try writer.append(values[18...])
        XCTAssertFalse(FileManager.default.fileExists(atPath: streamed.path), "the file appears only when finished")
        try writer.finish()
        XCTAssertEqual(try Data(contentsOf: streamed), try Data(contentsOf: oneShot))

        // Too few values: an error naming the file, and no file (nor temporary) left.
        let short = folder.appendingPathComponent("short.npy")
        let partial = try NpyStreamWriter<Double>(url: short, shape: [4, 6])
        try partial.append(values[0..<6])
        XCTAssertThrowsError(try partial.finish()) { XCTAssertTrue("\($0)".contains("short.npy") && "\($0)".contains("6 of the 24")) }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(), ["one.npy", "streamed.npy"])
        // Too many: refused at once.
        let long = try NpyStreamWriter<Double>(url: folder.appendingPathComponent("long.npy"), shape: [1, 2])
        XCTAssertThrowsError(try long.append(values[0..<3]))
    }

    /// NumPy writes format 2.0 when the dict exceeds 64 KiB (e.g. a structured dtype); this project's
    /// header reader used to read only 64 KiB and called such a file truncated.
    func testVersion2HeaderOf200KiBIsReadWhole() throws {
        let folder = try makeTemporaryFolder("npy-v2")
        defer { try? FileManager.default.removeItem(at: folder) }
        var dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }"
        dict += String(repeating: " ", count: 200 * 1024)
        while (12 + dict.utf8.count + 1) % 64 != 0 { dict += " " }
        dict += "\n"
        let length = dict.utf8.count
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [2, 0] + (0..<4).map { UInt8((length >> (8 * $0)) & 0xFF) }
        bytes += Array(dict.utf8)
        let values: [Double] = [1, 2, 3, 4, 5, 6]
        values.withUnsafeBytes { bytes += $0 }
        let url = folder.appendingPathComponent("v2.npy")
        try Data(bytes).write(to: url)
        XCTAssertEqual(try Npy.readHeader(from: url).shape, [2, 3])
        XCTAssertEqual(try Npy.read(Double.self, from: url, expectedShape: [2, 3]).values, values)
    }
}
