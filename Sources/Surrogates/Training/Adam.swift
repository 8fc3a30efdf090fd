import Foundation
import NumericalFoundations

/// Hyper-parameters of Adam (Kingma & Ba 2014) with TensorFlow's defaults (formulation.md §4).
public struct AdamSettings: Codable, Equatable, Sendable {
    public var learningRate: Double = 1e-3
    public var beta1: Double = 0.9
    public var beta2: Double = 0.999
    public var epsilon: Double = 1e-7
    /// Schedule-free AdamW (Defazio et al., "The Road Less Scheduled", 2024) instead of Adam, when
    /// true; `beta1` is then its interpolation weight β1 (nil = Adam, and nothing is encoded, so
    /// the settings of Adam runs encode as before).
    public var scheduleFree: Bool?

    public init(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-7, scheduleFree: Bool? = nil) {
        self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
        self.scheduleFree = scheduleFree == true ? true : nil
    }

    public var isScheduleFree: Bool { scheduleFree == true }
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
/// Schedule-free AdamW (`AdamSettings.scheduleFree`; Defazio et al. 2024, Algorithm 1): with
/// z_1 = x_1 the initial parameters, each step takes the gradient g_t at y_t = (1 − β1) z_t + β1 x_t and
///
///     v_t = β2 v_{t−1} + (1 − β2) g_t²,   γ_t = lr · factor · sqrt(1 − β2^t)
///     z_{t+1} = z_t − γ_t g_t / (sqrt(v_t) + ε) − γ_t λ y_t
///     c_{t+1} = γ_t² / Σ_{i≤t} γ_i²,      x_{t+1} = (1 − c_{t+1}) x_t + c_{t+1} z_{t+1}
///
/// (the paper's warm-up min(1, t/T_warmup) is the learning-rate factor, set per epoch by the
/// caller's constant schedule with warm-up). The network holds y during an epoch's steps and x
/// between epochs (`beginEpoch`, `endEpoch`), so that losses, hooks and the model see x, the
/// point the paper evaluates.
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
    /// Schedule-free AdamW's iterates z and x (nil for Adam) and, per layer, Σ γ_i² so far.
    private let scheduleFreeIterates: (z: UnsafeMutableBufferPointer<Scalar>, x: UnsafeMutableBufferPointer<Scalar>)?
    private var squaredStepSizeSums: [Double]
    private var iteratesStarted = false

    public init(layout: NetworkLayout, settings: AdamSettings) {
        self.layout = layout
        self.settings = settings
        firstMoments = .allocate(capacity: layout.parameterCount)
        firstMoments.initialize(repeating: 0)
        secondMoments = .allocate(capacity: layout.parameterCount)
        secondMoments.initialize(repeating: 0)
        stepCounts = Array(repeating: 0, count: layout.layerCount)
        offsets = (0..<layout.layerCount).map { layout.parameterOffset(ofLayer: $0) }
        squaredStepSizeSums = Array(repeating: 0, count: layout.layerCount)
        if settings.isScheduleFree {
            let z = UnsafeMutableBufferPointer<Scalar>.allocate(capacity: layout.parameterCount)
            let x = UnsafeMutableBufferPointer<Scalar>.allocate(capacity: layout.parameterCount)
            z.initialize(repeating: 0); x.initialize(repeating: 0)
            scheduleFreeIterates = (z, x)
        } else {
            scheduleFreeIterates = nil
        }
    }

    deinit {
        firstMoments.deallocate()
        secondMoments.deallocate()
        scheduleFreeIterates?.z.deallocate()
        scheduleFreeIterates?.x.deallocate()
    }

    /// Schedule-free AdamW's γ_t of the next step of `layer` (t = its step count + 1).
    func scheduleFreeStepSize(ofLayer layer: Int) -> Double {
        settings.learningRate * learningRateFactor * (1 - pow(settings.beta2, Double(stepCounts[layer] + 1))).squareRoot()
    }

    /// Before an epoch's steps (schedule-free only): x ← the network's parameters (z = x at the
    /// first call), then the network ← y = (1 − β1) z + β1 x. Returns whether the parameters changed.
    @discardableResult
    public func beginEpoch(parameters: UnsafeMutableBufferPointer<Scalar>) -> Bool {
        guard let (z, x) = scheduleFreeIterates else { return false }
        _ = x.update(fromContentsOf: parameters)
        if !iteratesStarted { _ = z.update(fromContentsOf: parameters); iteratesStarted = true }
        let beta1 = Scalar(settings.beta1), oneMinusBeta1 = Scalar(1 - settings.beta1)
        for i in 0..<parameters.count { parameters[i] = oneMinusBeta1 * z[i] + beta1 * x[i] }
        return true
    }

    /// After an epoch's steps (schedule-free only): the network ← x. Returns whether the parameters changed.
    @discardableResult
    public func endEpoch(parameters: UnsafeMutableBufferPointer<Scalar>) -> Bool {
        guard let (_, x) = scheduleFreeIterates else { return false }
        _ = parameters.update(fromContentsOf: x)
        return true
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
        /// Schedule-free: γ_t, γ_t λ, c_{t+1}, β1.
        var gamma: Scalar = 0, gammaLambda: Scalar = 0, averageWeight: Scalar = 0, beta1: Scalar = 0
    }

    func coefficients(ofLayer layer: Int) -> Coefficients {
        if scheduleFreeIterates != nil {
            let gamma = scheduleFreeStepSize(ofLayer: layer)
            let total = squaredStepSizeSums[layer] + gamma * gamma
            return Coefficients(alpha: 0, oneMinusBeta1: 0, oneMinusBeta2: Scalar(1 - settings.beta2), epsilon: Scalar(settings.epsilon),
                                gamma: Scalar(gamma), gammaLambda: Scalar(gamma * weightDecay),
                                averageWeight: Scalar(total > 0 ? gamma * gamma / total : 1), beta1: Scalar(settings.beta1))
        }
        return Coefficients(alpha: Scalar(stepSize(ofLayer: layer)), oneMinusBeta1: Scalar(1 - settings.beta1),
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
        if let (z, x) = scheduleFreeIterates {
            Scalar.scheduleFreeUpdate(w: w, g: gradient, z: z.baseAddress! + offset, x: x.baseAddress! + offset, v: v, count: range.count,
                                      gamma: c.gamma, gammaLambda: c.gammaLambda, c: c.averageWeight, beta1: c.beta1,
                                      oneMinusBeta2: c.oneMinusBeta2, epsilon: c.epsilon)
            return
        }
        if c.shrink != 1 {
            // AdamW: w ← (1 − η λ) w, then the Adam step (the decay does not enter the moments).
            for i in 0..<range.count { w[i] *= c.shrink }
        }
        Scalar.adamUpdate(w: w, g: gradient, m: m, v: v, count: range.count, alpha: c.alpha, oneMinusBeta1: c.oneMinusBeta1,
                          oneMinusBeta2: c.oneMinusBeta2, epsilon: c.epsilon)
    }

    /// Counts a finished step of `layer` (its next step uses t + 1 in the bias correction).
    func finishStep(ofLayer layer: Int) {
        if scheduleFreeIterates != nil {
            let gamma = scheduleFreeStepSize(ofLayer: layer)
            squaredStepSizeSums[layer] += gamma * gamma
        }
        stepCounts[layer] += 1
    }

    /// Zeroes one layer's moments and restarts its step count, as if training began now.
    public func resetMoments(ofLayer layer: Int) {
        let offset = offsets[layer], count = layout.parameterCount(ofLayer: layer)
        (firstMoments.baseAddress! + offset).update(repeating: 0, count: count)
        (secondMoments.baseAddress! + offset).update(repeating: 0, count: count)
        stepCounts[layer] = 0
        squaredStepSizeSums[layer] = 0
    }
}
