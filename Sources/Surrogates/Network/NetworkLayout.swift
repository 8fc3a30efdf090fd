/// The architecture of a fully connected network: layer widths (input first, output last) and the
/// hidden activation. Also the map of the parameter vector: layer ℓ owns one contiguous slice,
/// its weights W_ℓ (outputs × inputs, row-major: y = W x + b) followed by its bias b_ℓ.
public struct NetworkLayout: Codable, Equatable, Sendable, CustomStringConvertible {
    /// n_0 (inputs), n_1 … n_{L−1} (hidden), n_L (outputs).
    public let widths: [Int]
    public let activation: Activation

    public init(widths: [Int], activation: Activation) throws {
        guard widths.count >= 2 else {
            throw NetworkError("a network needs at least an input and an output width, got \(widths)")
        }
        guard widths.allSatisfy({ $0 >= 1 }) else {
            throw NetworkError("every layer width must be at least 1, got \(widths)")
        }
        // The 32-bit BLAS interface bounds every dimension; far beyond any use here.
        guard widths.allSatisfy({ $0 <= 1 << 24 }) else { throw NetworkError("layer width too large in \(widths)") }
        self.widths = widths
        self.activation = activation
    }

    /// Number of weight layers L.
    public var layerCount: Int { widths.count - 1 }
    public var inputWidth: Int { widths[0] }
    public var outputWidth: Int { widths[widths.count - 1] }

    public func inputs(ofLayer layer: Int) -> Int { widths[layer] }
    public func outputs(ofLayer layer: Int) -> Int { widths[layer + 1] }
    public func weightCount(ofLayer layer: Int) -> Int { widths[layer] * widths[layer + 1] }
    /// Weights plus biases of one layer: the length of its snapshot vector in DMD (formulation.md §5).
    public func parameterCount(ofLayer layer: Int) -> Int { widths[layer] * widths[layer + 1] + widths[layer + 1] }
    /// Where layer `layer` starts in the whole parameter vector.
    public func parameterOffset(ofLayer layer: Int) -> Int {
        (0..<layer).reduce(0) { $0 + parameterCount(ofLayer: $1) }
    }
    public var parameterCount: Int { (0..<layerCount).reduce(0) { $0 + parameterCount(ofLayer: $1) } }

    /// Multiply-adds of one sample's forward pass, times two: Σ_ℓ 2·n_ℓ·n_{ℓ+1}.
    public var forwardFlopsPerSample: Double {
        (0..<layerCount).reduce(0.0) { $0 + 2 * Double(weightCount(ofLayer: $1)) }
    }

    /// GEMM floating-point operations of one training sample: the forward product, the weight
    /// gradient δᵀ·a (same size), and the back-propagated δ·W for every layer but the first.
    public var trainingGEMMFlopsPerSample: Double {
        let backwardData = (1..<layerCount).reduce(0.0) { $0 + 2 * Double(weightCount(ofLayer: $1)) }
        return 2 * forwardFlopsPerSample + backwardData
    }

    public var description: String {
        widths.map(String.init).joined(separator: "→") + " (\(activation.rawValue))"
    }
}

/// An error in setting up, training or loading a network, with a message for the user.
public struct NetworkError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ message: String) { description = message }
}

/// An error that means the training diverged (non-finite or overflowing parameters or losses),
/// as opposed to bad input: a run may stop on it and keep what it learnt before
/// (`Trainer.train(untilEpoch:stopOnDivergence:)`). The DMD hook's errors of that kind conform too.
public protocol DivergenceError: Error, CustomStringConvertible {}

/// The trainer's own divergence: the training MSE became non-finite at the end of an epoch.
public struct TrainingDivergedError: DivergenceError, Equatable {
    public let description: String
    public init(_ message: String) { description = message }
}

/// Where and why a training run diverged: `epoch` is the epoch that failed (the run's state is the
/// one after `epoch − 1`), `message` the error's text.
public struct Divergence: Codable, Equatable, Sendable {
    public var epoch: Int
    public var message: String
    public init(epoch: Int, message: String) { self.epoch = epoch; self.message = message }
}
