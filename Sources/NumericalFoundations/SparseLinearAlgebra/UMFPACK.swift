import _LinearAlgebraShims

/// What went wrong in UMFPACK, with the phase it happened in. UMFPACK's integer status codes
/// (umfpack.h, `UMFPACK_ERROR_*` and `UMFPACK_WARNING_singular_matrix`) map to these cases.
public enum UMFPACKError: Error, CustomStringConvertible, Equatable {
    public enum Phase: String, Sendable { case symbolicAnalysis = "symbolic analysis", numericFactorization = "numeric factorization", solve }

    /// Status 1 (`UMFPACK_WARNING_singular_matrix`): a zero pivot; the matrix is singular to working precision.
    case singularMatrix
    /// Status −1: UMFPACK could not allocate its workspace.
    case outOfMemory(Phase)
    /// Status −8: the CSC arrays are malformed (should not happen with a checked `CSCPattern`).
    case invalidMatrix(Phase)
    /// Status −11: the matrix pattern differs from the one the symbolic analysis was done for.
    case differentPattern
    /// A vector or value array of the wrong length was passed.
    case dimensionMismatch(expected: Int, actual: Int, what: String)
    /// `solve` was called before a successful `factorize`.
    case notFactorized
    /// Any other status code, kept verbatim.
    case failed(status: Int, phase: Phase)

    public var description: String {
        switch self {
        case .singularMatrix: return "UMFPACK: the matrix is singular (a zero pivot in the numeric factorization)"
        case .outOfMemory(let phase): return "UMFPACK: out of memory during \(phase.rawValue)"
        case .invalidMatrix(let phase): return "UMFPACK: invalid matrix arrays in \(phase.rawValue)"
        case .differentPattern: return "UMFPACK: the matrix pattern differs from the one of the symbolic analysis"
        case .dimensionMismatch(let expected, let actual, let what): return "UMFPACK: \(what) has length \(actual), expected \(expected)"
        case .notFactorized: return "UMFPACK: solve called before a successful numeric factorization"
        case .failed(let status, let phase): return "UMFPACK: \(phase.rawValue) failed with status \(status)"
        }
    }

    static func check(_ status: Int, _ phase: Phase) throws {
        switch status {
        case Int(UMFPACK_OK), Int(UMFPACK_WARNING_determinant_underflow), Int(UMFPACK_WARNING_determinant_overflow):
            return  // the determinant warnings are about det(A), which we never use
        case Int(UMFPACK_WARNING_singular_matrix): throw UMFPACKError.singularMatrix
        case Int(UMFPACK_ERROR_out_of_memory): throw UMFPACKError.outOfMemory(phase)
        case Int(UMFPACK_ERROR_invalid_matrix): throw UMFPACKError.invalidMatrix(phase)
        case Int(UMFPACK_ERROR_different_pattern): throw UMFPACKError.differentPattern
        default: throw UMFPACKError.failed(status: status, phase: phase)
        }
    }
}

/// UMFPACK settings that matter to us; everything else keeps UMFPACK's defaults (umfpack_dl_defaults).
public struct UMFPACKOptions: Sendable, Equatable {
    public enum Strategy: Sendable, Equatable { case automatic, symmetric, unsymmetric }
    public enum Ordering: Sendable, Equatable { case cholmod, amd, metis, best }

    /// Automatic lets UMFPACK pick from the pattern's symmetry; our FE patterns are structurally
    /// symmetric, for which it chooses the symmetric strategy (AMD on A + Aᵀ, diagonal pivots preferred).
    public var strategy: Strategy = .automatic
    public var ordering: Ordering = .amd
    /// Steps of iterative refinement in `solve` (UMFPACK's default is 2).
    public var iterativeRefinementSteps: Int = 2

    public init(strategy: Strategy = .automatic, ordering: Ordering = .amd, iterativeRefinementSteps: Int = 2) {
        self.strategy = strategy
        self.ordering = ordering
        self.iterativeRefinementSteps = iterativeRefinementSteps
    }

    func controlArray() -> [Double] {
        var control = [Double](repeating: 0, count: Int(UMFPACK_CONTROL))
        umfpack_dl_defaults(&control)
        switch strategy {
        case .automatic: control[Int(UMFPACK_STRATEGY)] = Double(UMFPACK_STRATEGY_AUTO)
        case .symmetric: control[Int(UMFPACK_STRATEGY)] = Double(UMFPACK_STRATEGY_SYMMETRIC)
        case .unsymmetric: control[Int(UMFPACK_STRATEGY)] = Double(UMFPACK_STRATEGY_UNSYMMETRIC)
        }
        switch ordering {
        case .cholmod: control[Int(UMFPACK_ORDERING)] = Double(UMFPACK_ORDERING_CHOLMOD)
        case .amd: control[Int(UMFPACK_ORDERING)] = Double(UMFPACK_ORDERING_AMD)
        case .metis: control[Int(UMFPACK_ORDERING)] = Double(UMFPACK_ORDERING_METIS)
        case .best: control[Int(UMFPACK_ORDERING)] = Double(UMFPACK_ORDERING_BEST)
        }
        control[Int(UMFPACK_IRSTEP)] = Double(max(0, iterativeRefinementSteps))
        return control
    }
}

/// UMFPACK's symbolic analysis (fill-reducing ordering and the frontal matrix tree) of one pattern.
/// Computed once per mesh and shared: `umfpack_dl_numeric` takes it as an input it does not modify
/// (umfpack_numeric.h: "Symbolic ... Input argument, not modified"), so several threads may each
/// run their own numeric factorization from the same object at once. Freed in `deinit`.
public final class UMFPACKSymbolicAnalysis: @unchecked Sendable {
    public let pattern: CSCPattern
    public let options: UMFPACKOptions
    let control: [Double]
    let handle: UnsafeMutableRawPointer

    /// `values` is optional: UMFPACK then treats every pattern entry as nonzero, which is what we want
    /// for a pattern reused for many matrices whose explicit zeros move around (Dirichlet rows).
    public init(pattern: CSCPattern, values: [Double]? = nil, options: UMFPACKOptions = UMFPACKOptions()) throws {
        if let values, values.count != pattern.nonzeroCount {
            throw UMFPACKError.dimensionMismatch(expected: pattern.nonzeroCount, actual: values.count, what: "values")
        }
        self.pattern = pattern
        self.options = options
        let control = options.controlArray()
        self.control = control
        var info = [Double](repeating: 0, count: Int(UMFPACK_INFO))
        var symbolic: UnsafeMutableRawPointer? = nil
        let n = pattern.dimension
        let status: Int
        if let values {
            status = umfpack_dl_symbolic(n, n, pattern.columnStarts, pattern.rowIndices, values, &symbolic, control, &info)
        } else {
            status = umfpack_dl_symbolic(n, n, pattern.columnStarts, pattern.rowIndices, nil, &symbolic, control, &info)
        }
        do {
            try UMFPACKError.check(status, .symbolicAnalysis)
        } catch {
            if symbolic != nil { umfpack_dl_free_symbolic(&symbolic) }
            throw error
        }
        guard let symbolic else { throw UMFPACKError.failed(status: status, phase: .symbolicAnalysis) }
        handle = symbolic
        switch Int32(info[Int(UMFPACK_STRATEGY_USED)]) {
        case UMFPACK_STRATEGY_SYMMETRIC: strategyUsed = .symmetric
        default: strategyUsed = .unsymmetric
        }
        estimatedFlops = info[Int(UMFPACK_FLOPS_ESTIMATE)]
        estimatedFactorNonzeros = info[Int(UMFPACK_LNZ_ESTIMATE)] + info[Int(UMFPACK_UNZ_ESTIMATE)]
    }

    /// The strategy UMFPACK chose (Info[UMFPACK_STRATEGY_USED]).
    public let strategyUsed: UMFPACKOptions.Strategy
    /// UMFPACK's estimates for the numeric factorization (Info[UMFPACK_FLOPS_ESTIMATE], LNZ + UNZ estimates).
    public let estimatedFlops: Double
    public let estimatedFactorNonzeros: Double

    deinit {
        var pointer: UnsafeMutableRawPointer? = handle
        umfpack_dl_free_symbolic(&pointer)
    }
}

/// Statistics of the last numeric factorization, from UMFPACK's Info array.
public struct UMFPACKFactorizationStatistics: Sendable, Equatable {
    public var flops: Double
    public var factorNonzeros: Double
    /// UMFPACK's reciprocal condition estimate (min |U_ii| / max |U_ii|): cheap and rough.
    public var reciprocalPivotRatio: Double
}

/// A numeric LU factorization of matrices that share a symbolic analysis, with the workspace for
/// solving. Not thread-safe: each thread owns one. `factorize` replaces the previous factors (freed
/// at once); `deinit` frees the last. Iterative refinement in `solve` uses the matrix values of the
/// last `factorize`, which are kept in a buffer allocated once.
public final class UMFPACKFactorization {
    public let symbolic: UMFPACKSymbolicAnalysis
    private var numeric: UnsafeMutableRawPointer? = nil
    private var matrixValues: [Double]
    private var info = [Double](repeating: 0, count: Int(UMFPACK_INFO))
    private var integerWorkspace: [Int]
    private var realWorkspace: [Double]
    public private(set) var statistics: UMFPACKFactorizationStatistics? = nil
    private var control: [Double]

    /// Steps of iterative refinement in `solve` (initially the symbolic analysis' option). Each step
    /// costs a matrix-vector product and two triangular solves; an outer iteration that checks its own
    /// residual (Newton) can set 0.
    public var iterativeRefinementSteps: Int {
        get { Int(control[Int(UMFPACK_IRSTEP)]) }
        set { control[Int(UMFPACK_IRSTEP)] = Double(max(0, newValue)) }
    }

    public init(symbolic: UMFPACKSymbolicAnalysis) {
        self.symbolic = symbolic
        control = symbolic.control
        let n = symbolic.pattern.dimension
        matrixValues = [Double](repeating: 0, count: symbolic.pattern.nonzeroCount)
        integerWorkspace = [Int](repeating: 0, count: n)
        // umfpack_dl_wsolve: W needs 5n doubles with iterative refinement, n without.
        realWorkspace = [Double](repeating: 0, count: 5 * n)
    }

    public var isFactorized: Bool { numeric != nil }

    /// Factorizes the matrix with the symbolic analysis' pattern and these values.
    public func factorize(values: [Double]) throws {
        let pattern = symbolic.pattern
        guard values.count == pattern.nonzeroCount else {
            throw UMFPACKError.dimensionMismatch(expected: pattern.nonzeroCount, actual: values.count, what: "matrix values")
        }
        release()
        matrixValues.withUnsafeMutableBufferPointer { destination in
            values.withUnsafeBufferPointer { source in _ = destination.update(fromContentsOf: source) }
        }
        var handle: UnsafeMutableRawPointer? = nil
        let status = umfpack_dl_numeric(pattern.columnStarts, pattern.rowIndices, matrixValues, symbolic.handle, &handle,
                                        control, &info)
        do {
            try UMFPACKError.check(status, .numericFactorization)
        } catch {
            if handle != nil { umfpack_dl_free_numeric(&handle) }
            throw error
        }
        numeric = handle
        statistics = UMFPACKFactorizationStatistics(flops: info[Int(UMFPACK_FLOPS)],
                                                    factorNonzeros: info[Int(UMFPACK_LNZ)] + info[Int(UMFPACK_UNZ)],
                                                    reciprocalPivotRatio: info[Int(UMFPACK_RCOND)])
    }

    public func factorize(_ matrix: CSCMatrix) throws {
        guard matrix.pattern === symbolic.pattern || (matrix.pattern.columnStarts == symbolic.pattern.columnStarts
                                                      && matrix.pattern.rowIndices == symbolic.pattern.rowIndices) else {
            throw UMFPACKError.differentPattern
        }
        try factorize(values: matrix.values)
    }

    /// Solves A x = b with the last factorization (no allocation).
    public func solve(_ b: [Double], into x: inout [Double]) throws {
        let n = symbolic.pattern.dimension
        guard b.count == n else { throw UMFPACKError.dimensionMismatch(expected: n, actual: b.count, what: "right-hand side") }
        guard x.count == n else { throw UMFPACKError.dimensionMismatch(expected: n, actual: x.count, what: "solution") }
        guard let numeric else { throw UMFPACKError.notFactorized }
        let pattern = symbolic.pattern
        let status = umfpack_dl_wsolve(Int(UMFPACK_A), pattern.columnStarts, pattern.rowIndices, matrixValues, &x, b, numeric,
                                       control, &info, &integerWorkspace, &realWorkspace)
        try UMFPACKError.check(status, .solve)
    }

    public func solve(_ b: [Double]) throws -> [Double] {
        var x = [Double](repeating: 0, count: symbolic.pattern.dimension)
        try solve(b, into: &x)
        return x
    }

    /// Frees the numeric factors now (also done by the next `factorize` and by `deinit`).
    public func release() {
        if numeric != nil { umfpack_dl_free_numeric(&numeric) }
        numeric = nil
        statistics = nil
    }

    deinit { release() }
}
