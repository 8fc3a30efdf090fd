import Foundation

/// Element types that an `.npy` file can hold here. Little-endian, C order only
/// (the byte order of every machine this project runs on).
public enum NpyDType: String, Sendable, CaseIterable {
    case float64 = "<f8"
    case float32 = "<f4"
    case int32 = "<i4"
    case int64 = "<i8"
    case uint8 = "|u1"

    public var itemSize: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .uint8: return 1
        }
    }

    /// Parses a NumPy `descr` string; `=` and `<` mean little-endian here, `|` and `<` both valid for bytes.
    init?(descr: String) {
        switch descr {
        case "<f8", "=f8": self = .float64
        case "<f4", "=f4": self = .float32
        case "<i4", "=i4": self = .int32
        case "<i8", "=i8": self = .int64
        case "|u1", "<u1", "=u1": self = .uint8
        default: return nil
        }
    }
}

/// A Swift scalar type that maps to one `NpyDType`.
public protocol NpyElement: Sendable {
    static var npyDType: NpyDType { get }
}
extension Double: NpyElement { public static var npyDType: NpyDType { .float64 } }
extension Float: NpyElement { public static var npyDType: NpyDType { .float32 } }
extension Int32: NpyElement { public static var npyDType: NpyDType { .int32 } }
extension Int64: NpyElement { public static var npyDType: NpyDType { .int64 } }
extension UInt8: NpyElement { public static var npyDType: NpyDType { .uint8 } }

/// An n-dimensional array in C (row-major) order, as stored in an `.npy` file.
public struct NDArray<Element: NpyElement>: Sendable {
    public var shape: [Int]
    public var values: [Element]

    public init(shape: [Int], values: [Element]) {
        precondition(shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == values.count,
                     "NDArray: shape \(shape) does not hold \(values.count) values")
        self.shape = shape
        self.values = values
    }

    public var count: Int { values.count }
    /// Number of rows of a rank ≥ 1 array (first axis).
    public var rows: Int { shape.first ?? 1 }
    /// Elements per row (product of the trailing axes).
    public var rowLength: Int { shape.dropFirst().reduce(1, *) }

    /// Row `i` of the array flattened along the trailing axes.
    public func row(_ i: Int) -> ArraySlice<Element> {
        values[(i * rowLength)..<((i + 1) * rowLength)]
    }
}

/// Errors of reading or writing array files; each names the file and what was expected.
public struct ArrayFileError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let message: String
    public init(path: String, _ message: String) { self.path = path; self.message = message }
    public var description: String { "\(path): \(message)" }
}

/// NumPy `.npy` format 1.0/2.0/3.0 reader and writer.
/// Format reference: the NEP 1 description of the `.npy` header (magic, version, header length,
/// a Python dict literal with `descr`, `fortran_order` and `shape`, padded to a multiple of 64 bytes).
public enum Npy {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

    // MARK: Writing

    /// Encodes an array into `.npy` bytes (version 1.0, or 2.0 when the header is too long for 1.0).
    public static func encode<T: NpyElement>(_ values: [T], shape: [Int]) -> Data {
        precondition(shape.reduce(1, *) == values.count, "Npy.encode: shape \(shape) does not hold \(values.count) values")
        var out = header(for: T.self, shape: shape)
        out.reserveCapacity(out.count + values.count * T.npyDType.itemSize)
        values.withUnsafeBytes { out.append(contentsOf: $0) }
        return out
    }

    /// The magic string, version, header length and the padded dict of an array of `T` with `shape`:
    /// everything before the data (its length a multiple of 64, NumPy's rule). Format 2.0 only when
    /// the dict does not fit in 1.0's 16-bit length.
    public static func header<T: NpyElement>(for type: T.Type, shape: [Int]) -> Data {
        let shapeText: String
        switch shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(shape[0]),)"
        default: shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        var dict = "{'descr': '\(T.npyDType.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        var version: UInt8 = 1
        var prefix = magic.count + 2 + 2
        if (dict.utf8.count + prefix + 1 + 63) / 64 * 64 - prefix > 65535 { version = 2; prefix = magic.count + 2 + 4 }
        let total = (prefix + dict.utf8.count + 1 + 63) / 64 * 64
        dict += String(repeating: " ", count: total - prefix - dict.utf8.count - 1) + "\n"
        var out = Data(capacity: total)
        out.append(contentsOf: magic)
        out.append(contentsOf: [version, 0])
        let headerLength = dict.utf8.count
        if version == 1 {
            out.append(contentsOf: [UInt8(headerLength & 0xFF), UInt8(headerLength >> 8)])
        } else {
            out.append(contentsOf: (0..<4).map { UInt8((headerLength >> (8 * $0)) & 0xFF) })
        }
        out.append(contentsOf: Array(dict.utf8))
        return out
    }

    public static func write<T: NpyElement>(_ values: [T], shape: [Int], to url: URL) throws {
        try AtomicFile.write(encode(values, shape: shape), to: url)
    }

    public static func write<T: NpyElement>(_ array: NDArray<T>, to url: URL) throws {
        try write(array.values, shape: array.shape, to: url)
    }

    // MARK: Reading

    /// The header of an `.npy` file: its element type, shape and where the data start.
    public struct Header: Equatable, Sendable {
        public var dtype: NpyDType
        public var shape: [Int]
        public var dataOffset: Int
    }

    /// Parses and checks the header; `path` is only used in error messages.
    public static func parseHeader(_ bytes: Data, path: String) throws -> Header {
        let b = [UInt8](bytes.prefix(12))
        guard b.count >= 10, Array(b[0..<6]) == magic else {
            throw ArrayFileError(path: path, "not a NumPy .npy file (bad magic string; expected \\x93NUMPY)")
        }
        let major = b[6]
        let headerLength: Int
        let prefix: Int
        switch major {
        case 1:
            headerLength = Int(b[8]) | Int(b[9]) << 8
            prefix = 10
        case 2, 3:
            guard b.count >= 12 else { throw ArrayFileError(path: path, "truncated .npy header") }
            headerLength = Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24
            prefix = 12
        default:
            throw ArrayFileError(path: path, "unsupported .npy format version \(major).\(b[7]) (expected 1.0, 2.0 or 3.0)")
        }
        guard bytes.count >= prefix + headerLength else {
            throw ArrayFileError(path: path, "truncated .npy header (expected \(headerLength) header bytes)")
        }
        let start = bytes.startIndex + prefix
        guard let text = String(data: bytes[start..<(start + headerLength)], encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw ArrayFileError(path: path, "unreadable .npy header")
        }
        guard let descr = dictValue(text, key: "descr") else {
            throw ArrayFileError(path: path, "malformed .npy header (no 'descr'): \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let descrString = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
        guard let dtype = NpyDType(descr: descrString) else {
            throw ArrayFileError(path: path, "unsupported dtype '\(descrString)' (expected one of <f8, <f4, <i4, <i8, |u1, little-endian)")
        }
        guard let fortran = dictValue(text, key: "fortran_order") else {
            throw ArrayFileError(path: path, "malformed .npy header (no 'fortran_order')")
        }
        if fortran == "True" {
            throw ArrayFileError(path: path, "Fortran-ordered array; expected C order (save with numpy.ascontiguousarray)")
        }
        guard fortran == "False" else { throw ArrayFileError(path: path, "malformed 'fortran_order' value \(fortran)") }
        guard let shapeText = dictValue(text, key: "shape"), shapeText.hasPrefix("("), shapeText.hasSuffix(")") else {
            throw ArrayFileError(path: path, "malformed .npy header (no 'shape' tuple)")
        }
        let inner = shapeText.dropFirst().dropLast()
        var shape: [Int] = []
        for part in inner.split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            guard let n = Int(t.hasSuffix("L") ? String(t.dropLast()) : t), n >= 0 else {
                throw ArrayFileError(path: path, "malformed shape \(shapeText) in .npy header")
            }
            shape.append(n)
        }
        // The data size must be representable: a hostile or damaged header may declare a shape whose
        // product overflows, which would otherwise trap when the count is computed.
        var bytesNeeded = dtype.itemSize
        for n in shape {
            let (product, overflow) = bytesNeeded.multipliedReportingOverflow(by: n)
            guard !overflow else {
                throw ArrayFileError(path: path, "shape \(shapeText) in .npy header declares more data than any file can hold")
            }
            bytesNeeded = product
        }
        return Header(dtype: dtype, shape: shape, dataOffset: prefix + headerLength)
    }

    /// The raw text of the value for `key` in a Python dict literal (strings keep their quotes).
    static func dictValue(_ text: String, key: String) -> String? {
        for quote in ["'", "\""] {
            guard let keyRange = text.range(of: quote + key + quote) else { continue }
            var rest = text[keyRange.upperBound...].drop { $0 == " " }
            guard rest.first == ":" else { return nil }
            rest = rest.dropFirst().drop { $0 == " " }
            if rest.first == "(" {
                guard let close = rest.firstIndex(of: ")") else { return nil }
                return String(rest[...close])
            }
            if let q = rest.first, q == "'" || q == "\"" {
                guard let close = rest.dropFirst().firstIndex(of: q) else { return nil }
                return String(rest[...close])
            }
            let end = rest.firstIndex { $0 == "," || $0 == "}" } ?? rest.endIndex
            return rest[..<end].trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    /// Decodes `.npy` bytes as an array of `T`. `expectedShape` may hold `nil` for free axes;
    /// a different rank or extent, another dtype, or a wrong data length is an error naming `path`.
    public static func decode<T: NpyElement>(_ bytes: Data, as type: T.Type = T.self, path: String,
                                             expectedShape: [Int?]? = nil) throws -> NDArray<T> {
        let header = try parseHeader(bytes, path: path)
        guard header.dtype == T.npyDType else {
            throw ArrayFileError(path: path, "dtype is \(header.dtype) but \(T.npyDType) (\(T.npyDType.rawValue)) was expected")
        }
        if let expected = expectedShape {
            let matches = expected.count == header.shape.count
                && zip(expected, header.shape).allSatisfy { $0.0 == nil || $0.0 == $0.1 }
            if !matches {
                let want = "(" + expected.map { $0.map(String.init) ?? "any" }.joined(separator: ", ") + ")"
                throw ArrayFileError(path: path, "shape is \(shapeString(header.shape)) but \(want) was expected")
            }
        }
        let count = header.shape.reduce(1, *)
        let needed = count * T.npyDType.itemSize
        let available = bytes.count - header.dataOffset
        if available < needed {
            throw ArrayFileError(path: path, "truncated: shape \(shapeString(header.shape)) needs \(needed) data bytes, file has \(available)")
        }
        if available > needed {
            throw ArrayFileError(path: path, "has \(available - needed) bytes beyond the data of shape \(shapeString(header.shape))")
        }
        var values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            bytes.withUnsafeBytes { src in
                raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[header.dataOffset..<(header.dataOffset + needed)]))
            }
            initialized = count
        }
        if values.isEmpty { values = [] }
        return NDArray(shape: header.shape, values: values)
    }

    public static func read<T: NpyElement>(_ type: T.Type = T.self, from url: URL, expectedShape: [Int?]? = nil) throws -> NDArray<T> {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ArrayFileError(path: url.path, "cannot be read (missing file?): expected a .npy array of \(T.npyDType)")
        }
        return try decode(data, as: type, path: url.path, expectedShape: expectedShape)
    }

    /// Reads only the header (dtype and shape) of a file.
    /// The largest header `readHeader` reads (NumPy writes a few hundred bytes; 2.0 allows 4 GiB).
    public static let maximumHeaderLength = 64 << 20

    public static func readHeader(from url: URL) throws -> Header {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw ArrayFileError(path: url.path, "cannot be opened (missing file?)")
        }
        defer { try? handle.close() }
        // The header's own length field says how much to read (format 2.0 allows headers far beyond
        // 64 KiB); a length beyond any sensible header is refused before it is read.
        let prefix = handle.readData(ofLength: 12)
        var length = 65536
        if prefix.count >= 10, Array(prefix.prefix(6)) == magic {
            let b = [UInt8](prefix)
            if b[6] == 1 { length = Int(b[8]) | Int(b[9]) << 8 }
            if b[6] >= 2, b.count >= 12 { length = Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24 }
        }
        guard length <= maximumHeaderLength else {
            throw ArrayFileError(path: url.path, "declares a \(length)-byte .npy header; at most \(maximumHeaderLength) bytes are read")
        }
        let data = prefix + handle.readData(ofLength: length)
        return try parseHeader(data, path: url.path)
    }

    public static func shapeString(_ shape: [Int]) -> String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }
}
