import Foundation

/// The small JSON files that describe a model folder (model.json, surrogate.json, ensemble.json):
/// read and decoded in one place, with one-line errors naming the file and what was expected.
public enum JSONDescription {
    /// Decodes `T` from `url`. `missing` says what the file should have been when it cannot be read;
    /// keys are snake_case on disk when `snakeCase` (the project's convention for model folders).
    public static func read<T: Decodable>(_ type: T.Type, from url: URL, missing: String, snakeCase: Bool = true) throws -> T {
        guard let data = try? Data(contentsOf: url) else { throw ArrayFileError(path: url.path, missing) }
        let decoder = JSONDecoder()
        if snakeCase { decoder.keyDecodingStrategy = .convertFromSnakeCase }
        do { return try decoder.decode(T.self, from: data) } catch {
            throw ArrayFileError(path: url.path, "not a readable \(T.self) (\(error))")
        }
    }
}
