import Foundation
import NumericalFoundations
import ArgumentParser
import PDE

/// The command line of `blasius-solve profile`: one case, by its similarity or its physical parameters.
public struct WindProfileOptions: ParsableArguments {
    @Option(name: .customLong("lambda"), parsing: .unconditional, help: "λ = f'(0), the wall speed over the free-stream speed.") public var lambda: Double?
    @Option(name: .customLong("fw"), parsing: .unconditional, help: "f_w = f(0) (positive: suction, negative: blowing).") public var fw: Double?
    @Option(name: .customLong("U0"), parsing: .unconditional, help: "Free-stream wind speed U0 > 0.") public var u0: Double?
    @Option(name: .customLong("uh"), parsing: .unconditional, help: "Horizontal slip velocity u_h at the ground.") public var uh: Double?
    @Option(name: .customLong("uv"), parsing: .unconditional, help: "Vertical (transpiration) velocity u_v at the ground.") public var uv: Double?
    @Option(name: .customLong("nu"), parsing: .unconditional, help: "Kinematic viscosity ν > 0.") public var nu: Double = 1e-5
    @Option(parsing: .unconditional, help: "Number of profile nodes K.") public var points: Int = 401
    @Option(parsing: .unconditional, help: "Accuracy of f'(∞) = 1.") public var tolerance: Double = 1e-10
    @Option(help: "Write the profile to this .csv or .npy file instead of standard output.") public var out: String?

    public init() {}

    public func validate() throws {
        let similarity = lambda != nil || fw != nil
        let physical = u0 != nil || uh != nil || uv != nil
        if similarity == physical { throw ValidationError("give either --lambda and --fw, or --U0, --uh and --uv") }
        if similarity, lambda == nil || fw == nil { throw ValidationError("--lambda and --fw go together") }
        if physical, u0 == nil || uh == nil || uv == nil { throw ValidationError("--U0, --uh and --uv go together") }
        guard points >= 16, points <= 100_000 else { throw ValidationError("--points must be between 16 and 100000 (as wind.profile_points)") }
        guard tolerance.isFinite, tolerance >= 1e-12, tolerance <= 1e-3 else { throw ValidationError("--tolerance must be between 1e-12 and 1e-3") }
        if let out, !(out.hasSuffix(".csv") || out.hasSuffix(".npy")) { throw ValidationError("--out must end in .csv or .npy") }
    }

    /// λ and f_w as given, or mapped from the physical parameters by (F3) (after `validate()`).
    func similarityParameters() throws -> SimilarityParameters {
        if let lambda, let fw {
            guard lambda.isFinite, fw.isFinite else { throw StageError("λ and f_w must be finite numbers") }
            return SimilarityParameters(lambda: lambda, fw: fw)
        }
        do { return try SimilarityParameters(U0: u0!, uh: uh!, uv: uv!, nu: nu) } catch let e as WindParameterError {
            throw StageError(e.message)
        }
    }
}

/// The command line of `blasius-solve boundary`: the f_w values of the table.
public struct WindBoundaryOptions: ParsableArguments {
    @Option(name: .customLong("fw-from"), parsing: .unconditional, help: "First f_w.") public var fwFrom: Double
    @Option(name: .customLong("fw-to"), parsing: .unconditional, help: "Last f_w.") public var fwTo: Double
    @Option(parsing: .unconditional, help: "Number of f_w values (≥ 1).") public var count: Int = 11
    @Option(parsing: .unconditional, help: "Accuracy of f'(∞) = 1 in the shots.") public var tolerance: Double = 1e-10

    public init() {}

    public func validate() throws {
        guard fwFrom.isFinite, fwTo.isFinite else { throw ValidationError("--fw-from and --fw-to must be finite") }
        guard count >= 1, count <= 100_000 else { throw ValidationError("--count must be between 1 and 100000") }
        guard tolerance.isFinite, tolerance >= 1e-12, tolerance <= 1e-3 else { throw ValidationError("--tolerance must be between 1e-12 and 1e-3") }
    }
}

extension WindCases {
    /// `blasius-solve profile`: the summary lines and the profile on stdout (or the profile in --out).
    public static func profile(_ options: WindProfileOptions) throws {
        try profile(try options.similarityParameters(), tolerance: options.tolerance, points: options.points,
                    out: options.out.map { URL(fileURLWithPath: $0) }, print: { Swift.print($0) })
    }

    /// `blasius-solve boundary`: the table λ_c(f_w) as CSV on stdout.
    public static func boundaryTable(_ options: WindBoundaryOptions) {
        boundaryTable(fwFrom: options.fwFrom, to: options.fwTo, count: options.count, tolerance: options.tolerance).forEach { Swift.print($0) }
    }
}
