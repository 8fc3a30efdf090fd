import Foundation
import NumericalFoundations
import PDE

/// DATA/fem/dc3_dtheta.npy: N × P × 6 float64, ∂c3(x_p)/∂θ_k of every sample (θ = K12, K3, D, U0, u_h, u_v
/// in the column order of params.npy), zeros where the sample did not converge (docs/pollutant-fem.md).
public enum SensitivityFile {
    public static let parameterCount = PollutantSensitivities.parameterCount

    /// Reads the file and checks that it holds float64 of shape (samples, points, 6); every mismatch is
    /// one error naming the file and what was expected.
    public static func load(_ url: URL, samples: Int, points: Int) throws -> [Double] {
        guard let data = try? Data(contentsOf: url) else {
            throw PollutantInputError("\(url.path): cannot read it; it is written by `pollutant-fem` with [fem] sensitivities = true")
        }
        return try decode(data, path: url.path, samples: samples, points: points)
    }

    static func decode(_ data: Data, path: String, samples: Int, points: Int) throws -> [Double] {
        let expected = [samples, points, parameterCount]
        do {
            return try Npy.decode(data, as: Double.self, path: path, expectedShape: expected).values
        } catch let error as ArrayFileError {
            throw PollutantInputError("\(error) (\(DataLayout.FEM.sensitivitiesFile) holds float64 of shape (samples, observation points, 6): ∂c3/∂θ for K12, K3, D, U0, u_h, u_v)")
        }
    }
}
