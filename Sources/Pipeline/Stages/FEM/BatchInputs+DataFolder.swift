import Foundation
import NumericalFoundations
import PDE

/// Reading the batch's inputs from the data folder: `samples/params.npy` (N × 6) and the
/// `blasius-solve` outputs `wind/status.npy` (N int32), `wind/profiles.npy` (N × K × 4) and
/// `wind/summary.npy` (N × 4), every one checked so that a bad file stops the stage with one clear
/// message before any solve. Here, in the stages layer, because it knows the data folder's paths.
extension BatchInputs {
    public static func paramsURL(_ data: URL) -> URL { DataLayout(data).samples.params }
    public static func windURL(_ data: URL, _ name: String) -> URL { DataLayout(data).wind.folder.appendingPathComponent(name) }

    /// Reads and validates the inputs under `dataDirectory`; ν (`wind.nu`) is used to check that each
    /// profile's f_w matches the sample's u_v (equal, or raised under the `clamp` policy).
    public static func load(dataDirectory data: URL, nu: Double) throws -> BatchInputs {
        try loadRecorded(dataDirectory: data, nu: nu).inputs
    }

    /// As `load`, with the manifest record (SHA-256) of each file taken from the very bytes decoded, in
    /// the order of `files`: a later run of an earlier stage cannot change what the manifest says was read.
    /// `profilePoints`: the `[wind] profile_points` of the configuration, which the profiles must have
    /// (a wind made with another configuration would be solved as if it matched this one).
    public static func loadRecorded(dataDirectory data: URL, nu: Double,
                                    profilePoints: Int? = nil) throws -> (inputs: BatchInputs, files: [Manifest.InputFile]) {
        let paramsURL = paramsURL(data)
        let wind = DataLayout(data).wind
        let statusURL = wind.status, profilesURL = wind.profiles, summaryURL = wind.summary
        for (url, producer) in [(paramsURL, "lhs-sample (pipeline stage `lhs`)"), (statusURL, "blasius-solve (pipeline stage `wind`)"),
                                (profilesURL, "blasius-solve (pipeline stage `wind`)"), (summaryURL, "blasius-solve (pipeline stage `wind`)")]
            where !FileManager.default.fileExists(atPath: url.path) {
            throw PollutantInputError("\(url.path) is missing: run \(producer) first")
        }
        let (paramsBytes, paramsFile) = try Provenance.read(paramsURL)
        let params = try Npy.decode(paramsBytes, as: Double.self, path: paramsURL.path)
        guard params.shape.count == 2, params.shape[1] == 6 else {
            throw PollutantInputError("\(paramsURL.path): expected an N × 6 array (columns \(PollutantParameters.names.joined(separator: ", "))), found shape \(Npy.shapeString(params.shape))")
        }
        let n = params.shape[0]
        guard n > 0 else {
            throw PollutantInputError("\(paramsURL.path) holds no samples (shape \(Npy.shapeString(params.shape))): run lhs-sample with sampling.n_samples ≥ 1")
        }
        var parameters: [PollutantParameters] = []
        parameters.reserveCapacity(n)
        for i in 0..<n {
            let p = try PollutantParameters(row: params.values[(6 * i)..<(6 * i + 6)])
            try p.validate(context: "\(paramsURL.path): sample \(i)")
            parameters.append(p)
        }

        let (statusBytes, statusFile) = try Provenance.read(statusURL)
        let status = try Npy.decode(statusBytes, as: Int32.self, path: statusURL.path)
        guard status.shape == [n] else {
            throw PollutantInputError("\(statusURL.path): expected \(n) status codes (one per sample of params.npy), found shape \(Npy.shapeString(status.shape)); rerun blasius-solve")
        }
        let (summaryBytes, summaryFile) = try Provenance.read(summaryURL)
        let summary = try Npy.decode(summaryBytes, as: Double.self, path: summaryURL.path)
        guard summary.shape == [n, 4] else {
            throw PollutantInputError("\(summaryURL.path): expected shape (\(n), 4) (λ, f_w, f''(0), β per sample), found \(Npy.shapeString(summary.shape)); rerun blasius-solve")
        }
        let (profilesBytes, profilesFile) = try Provenance.read(profilesURL)
        let profiles = try Npy.decode(profilesBytes, as: Double.self, path: profilesURL.path)
        guard profiles.shape.count == 3, profiles.shape[0] == n, profiles.shape[2] == 4, profiles.shape[1] >= 2 else {
            throw PollutantInputError("\(profilesURL.path): expected shape (\(n), K, 4) with K ≥ 2 ((η, f, f', f'') on K nodes per sample), found \(Npy.shapeString(profiles.shape)); rerun blasius-solve")
        }
        let k = profiles.shape[1]
        if let profilePoints, k != profilePoints {
            throw PollutantInputError("\(profilesURL.path) holds \(k) nodes per profile but [wind] profile_points = \(profilePoints): the wind was made with another configuration; rerun blasius-solve")
        }
        var codes: [WindStatus] = []
        var built: [BlasiusProfile?] = []
        codes.reserveCapacity(n); built.reserveCapacity(n)
        for i in 0..<n {
            guard let code = WindStatus(rawValue: status.values[i]) else {
                throw PollutantInputError("\(statusURL.path): sample \(i) has the unknown status code \(status.values[i]) (expected one of \(WindStatus.allCases.map { "\($0.rawValue)" }.joined(separator: ", ")))")
            }
            codes.append(code)
            guard code.hasProfile else { built.append(nil); continue }
            let row = summary.values[(4 * i)..<(4 * i + 4)]
            let profile: BlasiusProfile
            do {
                profile = try BlasiusProfile(slab: profiles.values[(4 * k * i)..<(4 * k * (i + 1))], summaryRow: row)
            } catch {
                throw PollutantInputError("\(profilesURL.path): sample \(i) (status \(code.label)): \(error)")
            }
            // The wind files must belong to these parameters: λ = u_h/U0 (F3) is never changed by a policy.
            let p = parameters[i], lambda = p.uh / p.u0
            guard abs(profile.lambda - lambda) <= 1e-9 * max(1, abs(lambda)) else {
                throw PollutantInputError("sample \(i): λ = \(profile.lambda) in \(summaryURL.path) but u_h/U0 = \(lambda) in \(paramsURL.path): the wind files were made from other parameters; rerun blasius-solve")
            }
            let fw = -2 * p.uv / (nu * p.u0).squareRoot()
            let tolerance = 1e-9 * max(1, abs(fw))
            guard code == .clamped ? profile.fw >= fw - tolerance : abs(profile.fw - fw) <= tolerance else {
                throw PollutantInputError("sample \(i): f_w = \(profile.fw) in \(summaryURL.path) but −2u_v/sqrt(νU0) = \(fw) with ν = \(nu) (wind.nu): the wind files were made from other parameters or another ν; rerun blasius-solve")
            }
            built.append(profile)
        }
        let inputs = BatchInputs(parameters: parameters, windStatus: codes, profiles: built,
                                 files: [paramsURL, statusURL, profilesURL, summaryURL])
        return (inputs, [paramsFile, statusFile, profilesFile, summaryFile])
    }
}
