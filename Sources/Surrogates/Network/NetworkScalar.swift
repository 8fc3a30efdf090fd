import Foundation
import _NetworkKernels
import NumericalFoundations

/// The arithmetic of a network: `Float` (the default, formulation.md §4: "float32 arithmetic in
/// the network") or `Double` (gradient checks, and by option). Matrix products go to `sgemm` or
/// `dgemm` through `BLASScalar`; the element-wise loops are generic and specialised by the compiler
/// for both types (every entry point that trains or predicts picks the type inside this module).
public protocol NetworkScalar: BLASScalar, NpyElement, SIMDScalar, Codable {
    static var precision: NetworkPrecision { get }
    static func hyperbolicTangent(_ x: Self) -> Self
    /// Wraps a buffer of this type for the type-independent `TrainerAccess` interface.
    static func parameterBuffer(_ buffer: UnsafeMutableBufferPointer<Self>) -> ParameterBuffer
    /// Adam's element-wise update on `count` elements (the C kernel of `NeuralKernels`, vectorised
    /// with a packed square root; see `AdamOptimizer` for the formula). The arrays must not overlap.
    static func adamUpdate(w: UnsafeMutablePointer<Self>, g: UnsafePointer<Self>, m: UnsafeMutablePointer<Self>,
                           v: UnsafeMutablePointer<Self>, count: Int, alpha: Self, oneMinusBeta1: Self,
                           oneMinusBeta2: Self, epsilon: Self)
    /// Schedule-free AdamW's element-wise step (the C kernel; see `AdamOptimizer.Rule.scheduleFree`).
    static func scheduleFreeUpdate(w: UnsafeMutablePointer<Self>, g: UnsafePointer<Self>, z: UnsafeMutablePointer<Self>,
                                   x: UnsafeMutablePointer<Self>, v: UnsafeMutablePointer<Self>, count: Int, gamma: Self,
                                   gammaLambda: Self, c: Self, beta1: Self, oneMinusBeta2: Self, epsilon: Self)
    /// out (rows × nOut) = x (rows × nIn) · wᵀ (w row-major nOut × nIn), each row by the same operations
    /// whatever the other rows are (the C kernel `nk_row_products`).
    static func rowProducts(x: UnsafePointer<Self>, rows: Int, nIn: Int, w: UnsafePointer<Self>, nOut: Int, out: UnsafeMutablePointer<Self>)
}

extension Float: NetworkScalar {
    public static var precision: NetworkPrecision { .float32 }
    @inline(__always) public static func hyperbolicTangent(_ x: Float) -> Float { Foundation.tanhf(x) }
    public static func parameterBuffer(_ buffer: UnsafeMutableBufferPointer<Float>) -> ParameterBuffer { .float32(buffer) }
    @inline(__always)
    public static func adamUpdate(w: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
                                  v: UnsafeMutablePointer<Float>, count: Int, alpha: Float, oneMinusBeta1: Float,
                                  oneMinusBeta2: Float, epsilon: Float) {
        nk_adam_f32(w, g, m, v, count, alpha, oneMinusBeta1, oneMinusBeta2, epsilon)
    }
    @inline(__always)
    public static func scheduleFreeUpdate(w: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, z: UnsafeMutablePointer<Float>,
                                          x: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int, gamma: Float,
                                          gammaLambda: Float, c: Float, beta1: Float, oneMinusBeta2: Float, epsilon: Float) {
        nk_schedule_free_f32(w, g, z, x, v, count, gamma, gammaLambda, c, beta1, oneMinusBeta2, epsilon)
    }
    @inline(__always)
    public static func rowProducts(x: UnsafePointer<Float>, rows: Int, nIn: Int, w: UnsafePointer<Float>, nOut: Int, out: UnsafeMutablePointer<Float>) {
        nk_row_products_f32(x, rows, nIn, w, nOut, out)
    }
}

extension Double: NetworkScalar {
    public static var precision: NetworkPrecision { .float64 }
    @inline(__always) public static func hyperbolicTangent(_ x: Double) -> Double { Foundation.tanh(x) }
    public static func parameterBuffer(_ buffer: UnsafeMutableBufferPointer<Double>) -> ParameterBuffer { .float64(buffer) }
    @inline(__always)
    public static func adamUpdate(w: UnsafeMutablePointer<Double>, g: UnsafePointer<Double>, m: UnsafeMutablePointer<Double>,
                                  v: UnsafeMutablePointer<Double>, count: Int, alpha: Double, oneMinusBeta1: Double,
                                  oneMinusBeta2: Double, epsilon: Double) {
        nk_adam_f64(w, g, m, v, count, alpha, oneMinusBeta1, oneMinusBeta2, epsilon)
    }
    @inline(__always)
    public static func scheduleFreeUpdate(w: UnsafeMutablePointer<Double>, g: UnsafePointer<Double>, z: UnsafeMutablePointer<Double>,
                                          x: UnsafeMutablePointer<Double>, v: UnsafeMutablePointer<Double>, count: Int, gamma: Double,
                                          gammaLambda: Double, c: Double, beta1: Double, oneMinusBeta2: Double, epsilon: Double) {
        nk_schedule_free_f64(w, g, z, x, v, count, gamma, gammaLambda, c, beta1, oneMinusBeta2, epsilon)
    }
    @inline(__always)
    public static func rowProducts(x: UnsafePointer<Double>, rows: Int, nIn: Int, w: UnsafePointer<Double>, nOut: Int, out: UnsafeMutablePointer<Double>) {
        nk_row_products_f64(x, rows, nIn, w, nOut, out)
    }
}

/// The floating-point type a network computes in.
public enum NetworkPrecision: String, Codable, Sendable, CaseIterable {
    case float32, float64
}

/// Zero-copy access to one layer's parameters (weights then bias) in the network's own precision.
public enum ParameterBuffer {
    case float32(UnsafeMutableBufferPointer<Float>)
    case float64(UnsafeMutableBufferPointer<Double>)

    public var count: Int {
        switch self {
        case .float32(let b): return b.count
        case .float64(let b): return b.count
        }
    }
}
