import Foundation
import Pipeline

/// The UM-Bridge protocol's messages, independent of the HTTP library: a request body in, a status
/// and a JSON body out. Every error is the protocol's object `{"error": {"type", "message"}}`.
public struct UMBridgeProtocol: Sendable {
    public static let version = "1.0"
    /// The status of a request cancelled before it was computed (its time ran out, or its client left).
    public static let cancelledStatus = 503
    public let catalog: ServeCatalog

    public init(catalog: ServeCatalog) { self.catalog = catalog }

    public struct Reply: Sendable, Equatable {
        public var status: Int
        public var body: String
    }

    /// GET /Info.
    public func info() -> Reply {
        Reply(status: 200, body: "{\"protocolVersion\": \(Self.version), \"models\": [\(catalog.names.map(Self.quoted).joined(separator: ", "))]}")
    }

    /// POST /ROUTE with `body`; every route but /Info.
    public func handle(route: String, body: Data) async -> Reply {
        do {
            let request = try Self.parse(body)
            guard let name = request.name else { throw ServeError.invalidInput("the request names no model (\"name\")") }
            guard let model = catalog.model(name) else {
                throw ServeError("ModelNotFound", "model \(name) not found; served: \(catalog.names.joined(separator: ", "))")
            }
            let config = ServedModelConfig((request.config ?? [:]).mapValues(\.value))
            try model.checkConfigKeys(config)
            switch route {
            case "InputSizes": return Reply(status: 200, body: "{\"inputSizes\": \(Self.integers(model.inputSizes))}")
            case "OutputSizes": return Reply(status: 200, body: "{\"outputSizes\": \(Self.integers(model.outputSizes))}")
            case "ModelInfo":
                let j = model.hasJacobian ? "true" : "false"
                return Reply(status: 200, body: "{\"support\": {\"Evaluate\": true, \"Gradient\": \(j), \"ApplyJacobian\": \(j), \"ApplyHessian\": false}}")
            case "Evaluate":
                let x = try Self.input(request, model)
                return try Self.output("[\(Self.numbers(try await model.evaluate(x, config: config)))]")
            case "Gradient":
                guard model.hasJacobian else { throw ServeError("UnsupportedFeature", "Gradient not supported by model \(name)") }
                let x = try Self.input(request, model)
                try Self.checkIndices(request, model)
                let sens = try Self.sized(request.sens, name: "sens", count: model.outputSizes[0])
                return try Self.output(Self.numbers(try await model.gradient(x, sensitivity: sens, config: config)))
            case "ApplyJacobian":
                guard model.hasJacobian else { throw ServeError("UnsupportedFeature", "ApplyJacobian not supported by model \(name)") }
                let x = try Self.input(request, model)
                try Self.checkIndices(request, model)
                let v = try Self.sized(request.vec, name: "vec", count: model.inputSizes[0])
                return try Self.output(Self.numbers(try await model.applyJacobian(x, vector: v, config: config)))
            case "ApplyHessian":
                throw ServeError("UnsupportedFeature", "ApplyHessian not supported by model \(name)")
            default:
                throw ServeError("UnsupportedFeature", "no route /\(route) in UM-Bridge \(Self.version)", status: 404)
            }
        } catch let e as ServeError {
            return Self.error(e)
        } catch is CancellationError {
            return Self.error(ServeError("Timeout", "the request was cancelled before it was computed", status: Self.cancelledStatus))
        } catch {
            return Self.error(ServeError("ModelError", "\(error)", status: 500))
        }
    }

    public static func error(_ e: ServeError) -> Reply {
        Reply(status: e.status, body: "{\"error\": {\"type\": \(quoted(e.type)), \"message\": \(quoted(e.message))}}")
    }

    // MARK: - Reading

    /// Every field a UM-Bridge request may carry. Read with JSONDecoder: Foundation's JSONSerialization
    /// on Linux rounds some decimal numbers to a neighbouring Double (718 of 2000 random values here),
    /// and a served model must see the caller's parameters bit for bit.
    struct Request: Decodable {
        var name: String?
        var input: [[Double]]?
        var config: [String: AnyJSON]?
        var outWrt: Int?
        var inWrt: Int?
        var sens: [Double]?
        var vec: [Double]?
    }

    /// A value of the caller's `config` object: a number, a string or a boolean (anything else is kept
    /// as `other`, which no model takes).
    struct AnyJSON: Decodable {
        var value: ServedModelConfig.Value
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let b = try? container.decode(Bool.self) { value = .flag(b) } else if let x = try? container.decode(Double.self) {
                value = .number(x)
            } else if let t = try? container.decode(String.self) { value = .text(t) } else { value = .other }
        }
    }

    /// The request. Python's json writes a non-finite float as the token NaN or Infinity, which is not
    /// JSON: such a body gets its own message, as the caller's non-finite parameter.
    static func parse(_ body: Data) throws -> Request {
        do { return try JSONDecoder().decode(Request.self, from: body) } catch let DecodingError.typeMismatch(_, context) {
            throw ServeError.invalidInput("\(path(context.codingPath)): \(context.debugDescription)")
        } catch {
            let text = String(decoding: body, as: UTF8.self)
            if text.contains("NaN") || text.contains("Infinity") {
                throw ServeError.invalidInput("the request holds NaN or Infinity: every value must be a finite number")
            }
            throw ServeError.invalidInput("the request body is not a valid UM-Bridge request (a JSON object with \"name\" and numbers)")
        }
    }

    static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop { $0 == "." }.description
    }

    /// "input": one vector per model input, each of its declared size.
    static func input(_ request: Request, _ model: ServedModel) throws -> [Double] {
        guard let lists = request.input else { throw ServeError.invalidInput("\"input\" must be a list of lists of numbers") }
        guard lists.count == model.inputSizes.count else {
            throw ServeError.invalidInput("number of inputs \(lists.count) does not match the model's \(model.inputSizes.count)")
        }
        return try sized(lists[0], name: "input[0]", count: model.inputSizes[0])
    }

    static func sized(_ values: [Double]?, name: String, count: Int) throws -> [Double] {
        guard let values else { throw ServeError.invalidInput("\"\(name)\" must be a list of numbers") }
        guard values.count == count else { throw ServeError.invalidInput("\(name) has length \(values.count); expected \(count)") }
        return values
    }

    /// outWrt must be 0 (the one output) and inWrt 0 (the one input).
    static func checkIndices(_ request: Request, _ model: ServedModel) throws {
        for (key, value, count) in [("outWrt", request.outWrt, model.outputSizes.count), ("inWrt", request.inWrt, model.inputSizes.count)] {
            guard let i = value, (0..<count).contains(i) else {
                throw ServeError.invalidInput("\(key) must be an index in 0..<\(count); got \(value.map(String.init) ?? "nothing")")
            }
        }
    }

    // MARK: - Writing

    static func output(_ json: String) -> Reply {
        Reply(status: 200, body: "{\"output\": \(json)}")
    }

    /// A JSON list of numbers, each written with the fewest digits that read back to the same Double;
    /// a non-finite value (no JSON number) is the model's failure. The digits go straight into a byte
    /// buffer: appending to a String cost twice the formatting itself (2670 numbers per answer).
    static func numbers(_ values: [Double]) throws -> String {
        var sink = ByteSink()
        sink.bytes.reserveCapacity(24 * values.count + 2)
        sink.bytes.append(UInt8(ascii: "["))
        for (i, v) in values.enumerated() {
            guard v.isFinite else { throw ServeError("InvalidOutput", "the model returned \(v) at output \(i)", status: 500) }
            if i > 0 { sink.bytes.append(UInt8(ascii: ",")); sink.bytes.append(UInt8(ascii: " ")) }
            v.write(to: &sink)
        }
        sink.bytes.append(UInt8(ascii: "]"))
        return String(decoding: sink.bytes, as: UTF8.self)
    }

    /// Text written as UTF-8 bytes.
    struct ByteSink: TextOutputStream {
        var bytes: [UInt8] = []
        mutating func write(_ string: String) {
            var string = string
            string.withUTF8 { bytes.append(contentsOf: $0) }
        }
    }

    static func integers(_ values: [Int]) -> String { "[" + values.map(String.init).joined(separator: ", ") + "]" }

    static func quoted(_ s: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }
}
