import Foundation
import NumericalFoundations

/// Hyper-parameters of Adam (Kingma & Ba 2014) with TensorFlow's defaults (formulation.md §4).
public struct AdamSettings: Codable, Equatable, Sendable {
    public var learningRate: Double = 1e-3
    public var beta1: Double = 0.9
    public var beta2: Double = 0.999
    public var epsilon: Double = 1e-7

    public init(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-7) {
        self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
    }
}

/// Adam in TensorFlow's form (the `ApplyAdam` kernel the paper's Keras model ran), per parameter:
///
///     α_t = lr · sqrt(1 − β2^t) / (1 − β1^t)
///     m  ← m + (g − m)(1 − β1)
///     v  ← v + (g² − v)(1 − β2)
///     w  ← w − α_t · m / (sqrt(v) + ε)
///
/// This is Kingma & Ba's Algorithm 1 rewritten with the bias corrections folded into α_t; ε then
/// plays the role of their "ε̂" (TensorFlow's documentation says so), i.e. it is added to the
/// uncorrected sqrt(v). α_t is computed in double precision, the update in the network's precision.
///
/// The first and second moments m, v have the layout of the parameter vector. Each layer keeps its
/// own step count t, so that a DMD jump can reset one layer's moments (and its bias correction)
/// without touching the others (`resetMoments(ofLayer:)`).
public final class AdamOptimizer<Scalar: NetworkScalar> {
    public let settings: AdamSettings
    public let layout: NetworkLayout
    /// First moments, in the layout of `Network.parameters`.
    public let firstMoments: UnsafeMutableBufferPointer<Scalar>
    /// Second moments, in the layout of `Network.parameters`.
    public let secondMoments: UnsafeMutableBufferPointer<Scalar>
    /// Steps taken per layer since the start or since that layer's last reset.
    public internal(set) var stepCounts: [Int]
    private let offsets: [Int]
    /// Multiplies the learning rate of the next steps: a learning-rate schedule sets it once per
    /// epoch (`RegularizedTraining`); 1 for the paper's constant rate.
    public var learningRateFactor: Double = 1
    /// Decoupled weight decay λ (AdamW, Loshchilov & Hutter, ICLR 2019, Algorithm 2 line 12): each
    /// step also shrinks every parameter by lr · factor · λ, apart from the adaptive step. 0 = Adam.
    public var weightDecay: Double = 0

    public init(layout: NetworkLayout, settings: AdamSettings) {
        self.layout = layout
        self.settings = settings
        firstMoments = .allocate(capacity: layout.parameterCount)
        firstMoments.initialize(repeating: 0)
        secondMoments = .allocate(capacity: layout.parameterCount)
        secondMoments.initialize(repeating: 0)
        stepCounts = Array(repeating: 0, count: layout.layerCount)
        offsets = (0..<layout.layerCount).map { layout.parameterOffset(ofLayer: $0) }
    }

    deinit {
        firstMoments.deallocate()
        secondMoments.deallocate()
    }

    /// The step size α_t of the next step of `layer` (t = its step count + 1).
    public func stepSize(ofLayer layer: Int) -> Double {
        let t = Double(stepCounts[layer] + 1)
        return settings.learningRate * learningRateFactor * (1 - pow(settings.beta2, t)).squareRoot() / (1 - pow(settings.beta1, t))
    }

    /// One Adam step of every layer: `parameters` ← update with `gradient` (both in the layout of
    /// `Network.parameters`). Element-wise, split over `threads` cores.
    public func step(parameters: UnsafeMutablePointer<Scalar>, gradient: UnsafePointer<Scalar>, threads: Int = 1) {
        for layer in 0..<layout.layerCount {
            let offset = offsets[layer]
            let w = parameters + offset, g = gradient + offset
            let coefficients = coefficients(ofLayer: layer)
            ParallelWork.forEachRange(count: layout.parameterCount(ofLayer: layer), threads: threads, grain: ParallelWork.elementGrain) { range in
                update(coefficients, layer: layer, range: range, parameters: w, gradient: g + range.lowerBound)
            }
            finishStep(ofLayer: layer)
        }
    }

    /// The per-step constants of one layer's update (α_t for its next step, 1 − β1, 1 − β2, ε).
    struct Coefficients {
        var alpha: Scalar, oneMinusBeta1: Scalar, oneMinusBeta2: Scalar, epsilon: Scalar
        /// 1 − lr · factor · λ (AdamW's shrink), exactly 1 without weight decay.
        var shrink: Scalar = 1
    }

    func coefficients(ofLayer layer: Int) -> Coefficients {
        Coefficients(alpha: Scalar(stepSize(ofLayer: layer)), oneMinusBeta1: Scalar(1 - settings.beta1),
                     oneMinusBeta2: Scalar(1 - settings.beta2), epsilon: Scalar(settings.epsilon),
                     shrink: Scalar(1 - settings.learningRate * learningRateFactor * weightDecay))
    }

    /// The Adam update of elements `range` of layer `layer` (indices within the layer's slice):
    /// `parameters` is the layer's first parameter, `gradient` the gradient of element
    /// `range.lowerBound`. Does not advance the step count (`finishStep` does, once per step), so
    /// that a step can be applied in pieces, e.g. block by block while each gradient block is in cache.
    @inline(__always)
    func update(_ c: Coefficients, layer: Int, range: Range<Int>, parameters: UnsafeMutablePointer<Scalar>, gradient: UnsafePointer<Scalar>) {
        let offset = offsets[layer] + range.lowerBound
        let w = parameters + range.lowerBound
        let m = firstMoments.baseAddress! + offset, v = secondMoments.baseAddress! + offset
        if c.shrink != 1 {
            // AdamW: w ← (1 − η λ) w, then the Adam step (the decay does not enter the moments).
            for i in 0..<range.count { w[i] *= c.shrink }
        }
        Scalar.adamUpdate(w: w, g: gradient, m: m, v: v, count: range.count, alpha: c.alpha, oneMinusBeta1: c.oneMinusBeta1,
                          oneMinusBeta2: c.oneMinusBeta2, epsilon: c.epsilon)
    }

    /// Counts a finished step of `layer` (its next step uses t + 1 in the bias correction).
    func finishStep(ofLayer layer: Int) { stepCounts[layer] += 1 }

    /// Zeroes one layer's moments and restarts its step count, as if training began now.
    public func resetMoments(ofLayer layer: Int) {
        let offset = offsets[layer], count = layout.parameterCount(ofLayer: layer)
        (firstMoments.baseAddress! + offset).update(repeating: 0, count: count)
        (secondMoments.baseAddress! + offset).update(repeating: 0, count: count)
        stepCounts[layer] = 0
    }
}
