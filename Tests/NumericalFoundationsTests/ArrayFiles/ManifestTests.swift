import XCTest
import Foundation
@testable import NumericalFoundations

final class ManifestTests: XCTestCase {
    /// FIPS 180-4 test vectors.
    func testSHA256KnownVectors() {
        XCTAssertEqual(SHA256Digest.hex(of: Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256Digest.hex(of: Data("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256Digest.hex(of: Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256Digest.hex(of: Data(repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // Split updates give the same digest as one.
        var h = SHA256Digest(); h.update(Data("ab".utf8)); h.update(Data("c".utf8))
        XCTAssertEqual(h.hexDigest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func testManifestRecordsInputsOutputsAndRoundTrips() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("manifest-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("in.npy"), output = folder.appendingPathComponent("out.npy")
        try Npy.write([1.0, 2, 3, 4], shape: [2, 2], to: input)
        try Npy.write([UInt8(1), 0], shape: [2], to: output)
        var m = Manifest(stage: "test", version: "0", configFile: "x.toml", config: ["a": 1], seed: 7)
        try m.addInput(input)
        m.addOutput(output)
        m.details = ["note": "hello"]
        let url = folder.appendingPathComponent("manifest.json")
        try m.write(to: url)
        let back = try Manifest.read(from: url)
        XCTAssertEqual(back.inputs.first?.sha256, SHA256Digest.hex(of: try Data(contentsOf: input)))
        XCTAssertEqual(back.inputs.first?.bytes, try Data(contentsOf: input).count)
        XCTAssertEqual(back.outputs.first?.shape, [2]); XCTAssertEqual(back.outputs.first?.dtype, "|u1")
        XCTAssertEqual(back.seed, 7); XCTAssertEqual(back.details["note"], "hello")
        let json = try JSONValue.parse(Data(contentsOf: url))
        XCTAssertNotNil(json["wall_seconds"]); XCTAssertNotNil(json["config_file"])
    }

    func testNonFiniteNumbersBecomeNullInJSON() throws {
        let v: JSONValue = ["x": .number(.nan), "y": 1.5]
        let parsed = try JSONValue.parse(Data(v.jsonText().utf8))
        XCTAssertEqual(parsed["x"], .null); XCTAssertEqual(parsed["y"], 1.5)
    }
}
