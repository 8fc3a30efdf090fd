import NumericalFoundations

/// Sobol' low-discrepancy points in [0, 1)^d, 32 binary digits per coordinate, in Gray-code order
/// (Antonov & Saleev 1979): point n + 1 is point n with one direction number XOR-ed in per
/// coordinate, so every block of 2^m consecutive points starting at a multiple of 2^m is a (t, m, d)-net.
///
/// Direction numbers: dimension 1 is van der Corput's (all m_k = 1); dimensions 2 … 12 use the
/// primitive polynomials and initial numbers of Joe & Kuo's table `new-joe-kuo-6.21201`
/// (S. Joe and F. Y. Kuo, SIAM J. Sci. Comput. 30 (2008) 2635–2654; the table at
/// https://web.maths.unsw.edu.au/~fkuo/sobol/), which the recurrence
///     v_k = v_{k−s} ⊕ (v_{k−s} ≫ s) ⊕ ⊕_{i=1}^{s−1} a_i v_{k−i}
/// extends beyond the s initial numbers (a_i the bits of the polynomial's inner coefficients).
///
/// Scrambling (optional, seeded): a random linear matrix scramble — per coordinate a random
/// lower-triangular binary matrix with unit diagonal applied to every direction number — and a random
/// digital shift (Matoušek 1998, Owen 2003 "Variance with alternative scramblings"). Both keep the net
/// property, and make the points uniformly distributed on [0, 1)^d each, so averages are unbiased and
/// independent replicates give error estimates.
public struct SobolSequence: Sendable {
    /// One row of Joe & Kuo's table: degree s, coefficient code a, initial numbers m_1 … m_s.
    struct Primitive: Sendable { let degree: Int; let coefficients: UInt32; let initial: [UInt32] }

    /// Dimensions 2 … 12 of `new-joe-kuo-6.21201` (d = 2 … 12 there).
    static let joeKuo: [Primitive] = [
        Primitive(degree: 1, coefficients: 0, initial: [1]),
        Primitive(degree: 2, coefficients: 1, initial: [1, 3]),
        Primitive(degree: 3, coefficients: 1, initial: [1, 3, 1]),
        Primitive(degree: 3, coefficients: 2, initial: [1, 1, 1]),
        Primitive(degree: 4, coefficients: 1, initial: [1, 1, 3, 3]),
        Primitive(degree: 4, coefficients: 4, initial: [1, 3, 5, 13]),
        Primitive(degree: 5, coefficients: 2, initial: [1, 1, 5, 5, 17]),
        Primitive(degree: 5, coefficients: 4, initial: [1, 1, 5, 5, 5]),
        Primitive(degree: 5, coefficients: 7, initial: [1, 1, 7, 11, 19]),
        Primitive(degree: 5, coefficients: 11, initial: [1, 1, 5, 1, 1]),
        Primitive(degree: 5, coefficients: 13, initial: [1, 1, 1, 3, 11]),
    ]

    /// The largest dimension the typed-in table supports.
    public static let maximumDimension = joeKuo.count + 1
    static let bits = 32

    public let dimension: Int
    /// directions[j * bits + k]: the (k + 1)-th direction number of coordinate j (scrambled when seeded).
    private let directions: [UInt32]
    private var state: [UInt32]
    /// Index of the next point.
    public private(set) var index = 0

    /// The unscrambled sequence (its first point is the origin).
    public init(dimension: Int) throws {
        var none: SeededGenerator? = nil
        try self.init(dimension: dimension, scramble: &none)
    }

    /// The scrambled sequence: the matrices and the shift are drawn from `generator` (32 · 31 / 2 + 32
    /// bits per coordinate, coordinate after coordinate).
    public init(dimension: Int, scrambledBy generator: inout SeededGenerator) throws {
        var scramble: SeededGenerator? = generator
        try self.init(dimension: dimension, scramble: &scramble)
        generator = scramble!
    }

    private init(dimension d: Int, scramble: inout SeededGenerator?) throws {
        guard d >= 1, d <= Self.maximumDimension else {
            throw UQError("a Sobol' sequence of dimension \(d): the direction numbers cover 1 … \(Self.maximumDimension)")
        }
        dimension = d
        var v = [UInt32](repeating: 0, count: d * Self.bits)
        var shift = [UInt32](repeating: 0, count: d)
        for j in 0..<d {
            var column = Self.unscrambledDirections(coordinate: j)
            if scramble != nil {
                column = Self.linearScramble(column, rows: Self.randomLowerTriangular { scramble!.next() })
                shift[j] = UInt32(truncatingIfNeeded: scramble!.next() >> 32)
            }
            v.replaceSubrange((j * Self.bits)..<((j + 1) * Self.bits), with: column)
        }
        directions = v
        state = shift
    }

    /// Direction numbers v_1 … v_32 of coordinate j (0-based), as 32-bit fractions (bit 31 = 1/2).
    static func unscrambledDirections(coordinate j: Int) -> [UInt32] {
        let b = bits
        var v = [UInt32](repeating: 0, count: b)
        guard j > 0 else {
            for k in 0..<b { v[k] = 1 << UInt32(b - 1 - k) }
            return v
        }
        let p = joeKuo[j - 1], s = p.degree
        for k in 0..<min(s, b) { v[k] = p.initial[k] << UInt32(b - 1 - k) }
        if s < b {
            for k in s..<b {
                var x = v[k - s] ^ (v[k - s] >> UInt32(s))
                for i in 1..<s where (p.coefficients >> UInt32(s - 1 - i)) & 1 == 1 { x ^= v[k - i] }
                v[k] = x
            }
        }
        return v
    }

    /// Rows of a random lower-triangular 32 × 32 binary matrix with unit diagonal: row r (digit r + 1
    /// of the output, bit 31 − r) holds its own bit and random bits for the more significant digits.
    static func randomLowerTriangular(_ random: () -> UInt64) -> [UInt32] {
        (0..<bits).map { r -> UInt32 in
            let own: UInt32 = 1 << UInt32(bits - 1 - r)
            let above: UInt32 = r == 0 ? 0 : ~UInt32(0) << UInt32(bits - r)
            return own | (UInt32(truncatingIfNeeded: random() >> 32) & above)
        }
    }

    /// L v for every direction number v (binary digits as vectors over GF(2)).
    static func linearScramble(_ column: [UInt32], rows: [UInt32]) -> [UInt32] {
        column.map { v in
            var out: UInt32 = 0
            for r in 0..<bits where (rows[r] & v).nonzeroBitCount & 1 == 1 { out |= 1 << UInt32(bits - 1 - r) }
            return out
        }
    }

    /// The next point (d coordinates in [0, 1)), appended to `row`.
    public mutating func next(into row: inout [Double]) {
        precondition(index < Int(UInt32.max), "the Sobol' sequence holds 2^32 − 1 points")
        for j in 0..<dimension { row.append(Double(state[j]) * 0x1.0p-32) }
        // Gray code: the next point flips the direction number of the lowest zero bit of the index.
        let c = (~UInt32(truncatingIfNeeded: index)).trailingZeroBitCount
        for j in 0..<dimension { state[j] ^= directions[j * Self.bits + c] }
        index += 1
    }

    /// The next `rows` points, row-major rows × d.
    public mutating func next(rows: Int) -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(rows * dimension)
        for _ in 0..<rows { next(into: &out) }
        return out
    }
}
