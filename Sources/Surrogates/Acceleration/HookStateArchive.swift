import Foundation

/// The checkpoint layout of the Lookahead and RRE hooks: 8 bytes of magic, UInt64 little-endian
/// header length, a JSON header, then float64 vectors as raw little-endian bytes, one after the
/// other (their lengths are in the header). Exact: the doubles are stored bit for bit.
struct HookStateArchive<Header: Codable> {
    var header: Header
    var vectors: [[Double]]

    func encoded(magic: [UInt8]) throws -> Data {
        let json = try TrainingCheckpoint.encoder().encode(header)
        var data = Data(capacity: 16 + json.count + vectors.reduce(0) { $0 + 8 * $1.count })
        data.append(contentsOf: magic)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for v in vectors { v.withUnsafeBytes { data.append(contentsOf: $0) } }
        return data
    }

    /// Decodes `data`; `lengths` gives the float64 count of every vector from the header.
    static func decode(_ data: Data, magic: [UInt8], what: String, lengths: (Header) throws -> [Int]) throws -> HookStateArchive {
        func fail(_ message: String) -> DMDTrainingError { DMDTrainingError("checkpoint: \(what) state: \(message)") }
        guard data.count >= 16, Array(data.prefix(8)) == magic else { throw fail("missing or damaged (bad magic)") }
        let length = data.subdata(in: 8..<16).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard length <= UInt64(data.count - 16) else { throw fail("truncated header") }
        let header: Header
        do { header = try TrainingCheckpoint.decoder().decode(Header.self, from: data.subdata(in: 16..<(16 + Int(length)))) } catch {
            throw fail("unreadable header: \(error)")
        }
        let counts = try lengths(header)
        var offset = 16 + Int(length)
        guard counts.allSatisfy({ $0 >= 0 }), data.count - offset == 8 * counts.reduce(0, +) else {
            throw fail("holds \(data.count - offset) bytes of vectors, expected \(8 * counts.reduce(0, +))")
        }
        var vectors: [[Double]] = []
        for count in counts {
            var v = [Double](repeating: 0, count: count)
            v.withUnsafeMutableBytes { raw in
                data.withUnsafeBytes { source in raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<(offset + 8 * count)])) }
            }
            vectors.append(v)
            offset += 8 * count
        }
        return HookStateArchive(header: header, vectors: vectors)
    }
}

/// Canonical JSON (sorted keys) of a settings value, for the hooks' checkpoint fingerprints.
func canonicalJSON<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return (try? encoder.encode(value)).flatMap { String(data: $0, encoding: .utf8) } ?? "\(value)"
}

/// Copies layer `layer`'s parameters out of the trainer as float64.
func copyLayer(_ trainer: TrainerAccess, _ layer: Int) -> [Double] {
    var v = [Double](repeating: 0, count: trainer.layout.parameterCount(ofLayer: layer))
    v.withUnsafeMutableBufferPointer { trainer.copyParameters(ofLayer: layer, into: $0) }
    return v
}

/// Writes `values` into layer `layer` (rounded to the network's precision).
func assignLayer(_ trainer: TrainerAccess, _ layer: Int, _ values: [Double]) {
    values.withUnsafeBufferPointer { trainer.assignParameters(ofLayer: layer, from: $0) }
}
