/// The element-wise loops of the passes, written on SIMD vectors of 8 lanes.
///
/// Why by hand: the compiler does not vectorise these loops by itself (they read and write through
/// pointers it cannot prove distinct), and scalar code made the element-wise work a sizeable part of
/// a small-batch step. `SIMD8<Scalar>` lowers to vector instructions for the build's target (two
/// 4-lane SSE operations on baseline x86-64). Each kernel ends with a scalar loop for the remainder.
/// Adam's update is in C (`NeuralKernels`): it needs a vector square root, which Swift cannot emit.
enum Kernels {
    static let width = 8

    @inline(__always)
    static func load<T: NetworkScalar>(_ p: UnsafePointer<T>, _ i: Int) -> SIMD8<T> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<T>.self)
    }

    @inline(__always)
    static func store<T: NetworkScalar>(_ v: SIMD8<T>, _ p: UnsafeMutablePointer<T>, _ i: Int) {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD8<T>.self)
    }

    /// row[j] ← σ(row[j] + bias[j]) for one row, σ one of softsign, relu, linear (tanh stays scalar).
    @inline(__always)
    static func biasAndActivation<T: NetworkScalar>(_ row: UnsafeMutablePointer<T>, bias: UnsafePointer<T>, count: Int,
                                                    activation: Activation) {
        var j = 0
        switch activation {
        case .softsign:
            while j + width <= count {
                let z = load(UnsafePointer(row), j) + load(bias, j)
                store(z / (1 + magnitude(z)), row, j)
                j += width
            }
            while j < count { let z = row[j] + bias[j]; row[j] = z / (1 + z.magnitude); j += 1 }
        case .relu:
            while j + width <= count {
                let z = load(UnsafePointer(row), j) + load(bias, j)
                store(z.replacing(with: 0, where: .!(z .> 0)), row, j)
                j += width
            }
            while j < count { let z = row[j] + bias[j]; row[j] = z > 0 ? z : 0; j += 1 }
        case .linear:
            while j + width <= count {
                store(load(UnsafePointer(row), j) + load(bias, j), row, j)
                j += width
            }
            while j < count { row[j] += bias[j]; j += 1 }
        case .tanh:
            while j < count { row[j] = T.hyperbolicTangent(row[j] + bias[j]); j += 1 }
        }
    }

    /// delta[i] ← delta[i]·σ'(z_i) from the activation output a (see `Activation`), i in range.
    @inline(__always)
    static func multiplyByDerivative<T: NetworkScalar>(_ delta: UnsafeMutablePointer<T>, output a: UnsafePointer<T>,
                                                       range: Range<Int>, activation: Activation) {
        var i = range.lowerBound
        let end = range.upperBound
        switch activation {
        case .softsign:
            while i + width <= end {
                let s = 1 - magnitude(load(a, i))
                store(load(UnsafePointer(delta), i) * (s * s), delta, i)
                i += width
            }
            while i < end { let s = 1 - a[i].magnitude; delta[i] *= s * s; i += 1 }
        case .tanh:
            while i + width <= end {
                let ai = load(a, i)
                store(load(UnsafePointer(delta), i) * (1 - ai * ai), delta, i)
                i += width
            }
            while i < end { delta[i] *= 1 - a[i] * a[i]; i += 1 }
        case .relu:
            while i + width <= end {
                store(load(UnsafePointer(delta), i).replacing(with: 0, where: .!(load(a, i) .> 0)), delta, i)
                i += width
            }
            while i < end { if !(a[i] > 0) { delta[i] = 0 }; i += 1 }
        case .linear:
            break
        }
    }

    /// d[j] ← scale·(a[j] − y[j]) for one row; returns Σ_j e_j² and Σ_j w_j e_j² (e = a − y), summed in
    /// double precision (per lane, then the lanes in order: a fixed order, so the values are reproducible).
    @inline(__always)
    static func squaredErrorDelta<T: NetworkScalar>(a: UnsafePointer<T>, y: UnsafePointer<T>, d: UnsafeMutablePointer<T>,
                                                    weights: UnsafePointer<Double>, count: Int, scale: T) -> (plain: Double, weighted: Double) {
        var sums = SIMD8<Double>(repeating: 0), weighted = SIMD8<Double>(repeating: 0)
        var j = 0
        while j + width <= count {
            let e = load(a, j) - load(y, j)
            store(scale * e, d, j)
            let e2 = widen(e) * widen(e)
            sums += e2
            weighted += load(weights, j) * e2
            j += width
        }
        var s = sums.sum(), w = weighted.sum()
        while j < count { let e = a[j] - y[j]; d[j] = scale * e; let e2 = Double(e) * Double(e); s += e2; w += weights[j] * e2; j += 1 }
        return (s, w)
    }

    /// (Σ_j e_j², Σ_j w_j e_j²) with e = a − y for one row, in double precision (fixed order).
    @inline(__always)
    static func squaredErrors<T: NetworkScalar>(a: UnsafePointer<T>, y: UnsafePointer<T>, weights: UnsafePointer<Double>,
                                                count: Int) -> (plain: Double, weighted: Double) {
        var sums = SIMD8<Double>(repeating: 0), weighted = SIMD8<Double>(repeating: 0)
        var j = 0
        while j + width <= count {
            let e = widen(load(a, j) - load(y, j))
            let e2 = e * e
            sums += e2
            weighted += load(weights, j) * e2
            j += width
        }
        var s = sums.sum(), w = weighted.sum()
        while j < count { let e = Double(a[j] - y[j]); let e2 = e * e; s += e2; w += weights[j] * e2; j += 1 }
        return (s, w)
    }

    @inline(__always)
    static func magnitude<T: NetworkScalar>(_ v: SIMD8<T>) -> SIMD8<T> {
        v.replacing(with: -v, where: v .< 0)
    }

    /// Exact conversion of a vector to double precision.
    @inline(__always)
    static func widen<T: NetworkScalar>(_ v: SIMD8<T>) -> SIMD8<Double> { SIMD8<Double>(v) }
}
