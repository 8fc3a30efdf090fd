import Foundation
import NumericalFoundations
import Numerics

/// An exactly linear system w_{k+1} = A w_k in Rⁿ with known eigenvalues, without an n × n matrix:
/// w_k = B D^k c, where B (n × q) has independent columns and D (q × q) is block diagonal with a
/// 2 × 2 block [[a, −b], [b, a]] for each pair λ = a ± ib and a 1 × 1 block for each real λ.
/// On span(B) the operator is A = B D B⁺, whose eigenvalues are exactly those of D.
public struct LinearSystem {
    public let dimension: Int
    public let basis: ColumnMajorMatrix
    public let dynamics: ColumnMajorMatrix
    public let initial: [Double]
    /// Every eigenvalue (both members of each conjugate pair).
    public let eigenvalues: [Complex<Double>]

    /// `modes`: one entry per real eigenvalue or per conjugate pair (give the member with Im > 0).
    /// `scales`: optional factor per entry of `modes` multiplying that mode's basis columns, which
    /// sets how strongly the mode shows in the snapshots (and so the spread of singular values).
    public init(dimension n: Int, modes: [Complex<Double>], scales: [Double]? = nil, seed: UInt64) {
        var generator = SeededGenerator(seed: seed, stream: 7)
        let q = modes.reduce(0) { $0 + ($1.imaginary == 0 ? 1 : 2) }
        var d = ColumnMajorMatrix(rows: q, columns: q)
        var b = ColumnMajorMatrix(rows: n, columns: q)
        var all: [Complex<Double>] = []
        var column = 0
        for (index, lambda) in modes.enumerated() {
            let width = lambda.imaginary == 0 ? 1 : 2
            if width == 1 {
                d[column, column] = lambda.real
                all.append(lambda)
            } else {
                d[column, column] = lambda.real; d[column, column + 1] = -lambda.imaginary
                d[column + 1, column] = lambda.imaginary; d[column + 1, column + 1] = lambda.real
                all.append(lambda); all.append(lambda.conjugate)
            }
            let scale = scales?[index] ?? 1
            for j in column..<(column + width) {
                for i in 0..<n { b[i, j] = scale * generator.nextGaussian() / Double(n).squareRoot() }
            }
            column += width
        }
        dimension = n
        basis = b
        dynamics = d
        initial = (0..<q).map { _ in 1 + 0.5 * generator.nextGaussian() }
        eigenvalues = all
    }

    /// D^k c.
    public func coordinates(_ k: Int, dynamics override: ColumnMajorMatrix? = nil) -> [Double] {
        var x = initial
        for _ in 0..<k { x = try! (override ?? dynamics).multiplied(by: x) }
        return x
    }

    /// w_k = B D^k c (k = 0 is the first snapshot).
    public func state(_ k: Int) -> [Double] { try! basis.multiplied(by: coordinates(k)) }

    /// [w_0 … w_{m−1}], n × m.
    public func snapshots(_ m: Int) -> ColumnMajorMatrix {
        try! ColumnMajorMatrix(columns: (0..<m).map { state($0) })
    }
}

/// max over `expected` of the distance to the nearest computed eigenvalue, after checking the counts.
public func eigenvalueError(_ computed: [Complex<Double>], _ expected: [Complex<Double>]) -> Double {
    guard computed.count == expected.count else { return .infinity }
    let forward = expected.map { e in computed.map { ($0 - e).length }.min()! }.max() ?? 0
    let backward = computed.map { c in expected.map { ($0 - c).length }.min()! }.max() ?? 0
    return max(forward, backward)
}

/// ‖a − b‖ / ‖b‖.
public func relativeError(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    let difference = zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
    let norm = b.reduce(0) { $0 + $1 * $1 }.squareRoot()
    return difference / norm
}

public func polar(_ length: Double, _ phase: Double) -> Complex<Double> { Complex(length * cos(phase), length * sin(phase)) }

/// A linear system with a little noise (so it is not exactly linear and every output matters).
public func noisySnapshots(n: Int, m: Int, seed: UInt64) -> ColumnMajorMatrix {
    let system = LinearSystem(dimension: n, modes: [polar(0.99, 0.3), polar(0.9, 1.1), Complex(0.95), Complex(-0.6)], seed: seed)
    var x = system.snapshots(m)
    var generator = SeededGenerator(seed: seed, stream: 99)
    for j in 0..<m { for i in 0..<n { x[i, j] += 1e-3 * generator.nextGaussian() / Double(n).squareRoot() } }
    return x
}

/// Writes the n × m snapshot matrix `x` as an (n, m) float64 `.npy` (one snapshot per column, the
/// layout `train-dmd dmd` and NumPy's `np.stack(snapshots, axis=1)` use) named `name` in `folder`.
public func writeSnapshotColumns(_ x: ColumnMajorMatrix, named name: String, in folder: URL) throws -> URL {
    let url = folder.appendingPathComponent(name)
    try Npy.write(x.rowMajorValues, shape: [x.rows, x.columns], to: url)
    return url
}
