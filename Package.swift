// swift-tools-version:6.0
// The DMD-accelerated surrogate pipeline: PDE → dataset → neural network → report.
// One library target per concern; each executable is a thin command-line shell over them.
import PackageDescription

let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let numerics: Target.Dependency = .product(name: "Numerics", package: "swift-numerics")

let package = Package(
    name: "DMDSurrogate",
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // System libraries (Debian packages; pipeline.sh installs them).
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLAPACKE", path: "Sources/CLAPACKE", providers: [.apt(["liblapacke-dev", "libopenblas-dev"])]),
        .systemLibrary(name: "CUMFPACK", path: "Sources/CUMFPACK", providers: [.apt(["libsuitesparse-dev"])]),

        // Array files (.npy), atomic writes, manifests, hashing.
        .target(name: "ArrayFiles"),
        // The one way of running work on several cores: static ranges and a shared queue (over Dispatch).
        .target(name: "Parallelism"),
        // TOML configuration decoded into typed, validated sections.
        .target(name: "Configuration", dependencies: ["ArrayFiles", .product(name: "TOMLKit", package: "TOMLKit")]),
        // Shared command-line plumbing: stage options, progress/ETA, stage runner; the wind policy of two stages.
        .target(name: "StageSupport", dependencies: ["ArrayFiles", "Blasius", "Configuration", "DenseLinearAlgebra", argumentParser]),
        // Dense linear algebra on OpenBLAS / LAPACKE.
        .target(name: "DenseLinearAlgebra", dependencies: ["Parallelism", "CBLAS", "CLAPACKE", numerics]),
        // Sparse matrices (CSC) and the UMFPACK direct solver.
        .target(name: "SparseLinearAlgebra", dependencies: ["CUMFPACK"]),
        // Latin hypercube sampling and the seeded random generator.
        .target(name: "Sampling"),
        // Generalized Blasius boundary layer by shooting.
        .target(name: "Blasius", dependencies: ["Parallelism", "ArrayFiles"]),
        // P1 finite elements: mesh, SUPG assembly, Newton, VTK output.
        .target(name: "FiniteElements", dependencies: ["SparseLinearAlgebra", "ArrayFiles"]),
        // The pollutant problem (F5)-(F8): wind from Blasius + FEM solve per sample.
        .target(name: "PollutantModel", dependencies: ["Parallelism", "Blasius", "FiniteElements", "SparseLinearAlgebra", "ArrayFiles"]),
        // Adam's element-wise update in C: Swift on Linux cannot emit a vector square root.
        .target(name: "NeuralKernels"),
        // The surrogate MLP, its gradients and Adam.
        .target(name: "NeuralNetwork", dependencies: ["Parallelism", "DenseLinearAlgebra", "CBLAS", "Sampling", "ArrayFiles", "NeuralKernels"]),
        // The train stage's files: TrainingRun (the model folder, the resume policy) and the checkpoint file.
        // Its own library below DMDTraining, whose (m, s) sweep runs a TrainingRun per grid point.
        .target(name: "TrainingStage", dependencies: ["NeuralNetwork", "ArrayFiles"]),
        // Dynamic mode decomposition and Algorithm 1.
        .target(name: "DMD", dependencies: ["Parallelism", "DenseLinearAlgebra", "CLAPACKE", "CBLAS", "ArrayFiles", numerics]),
        // Algorithm 1: the DMD acceleration plugged into the trainer, its safeguards and the (m, s) study.
        .target(name: "DMDTraining", dependencies: ["Parallelism", "DMD", "NeuralNetwork", "Reporting", "DenseLinearAlgebra", "ArrayFiles", numerics]),
        // Classical reduced-order surrogates: POD, Gaussian processes (POD-GP), POD + MLP (POD-NN), L-BFGS.
        .target(name: "ReducedOrderModels", dependencies: ["Parallelism", "DenseLinearAlgebra", "CLAPACKE", "CBLAS", "ArrayFiles", "NeuralNetwork", "Sampling"]),
        // Metrics, SVG figures and the report.
        .target(name: "Reporting", dependencies: ["ArrayFiles"]),
        // The pipeline's stages layer: stage runners over the domain libraries (issue 14's direction).
        .target(name: "PipelineStages", dependencies: ["ArrayFiles", "Blasius", "Configuration", "Parallelism", "DenseLinearAlgebra", "NeuralNetwork", "TrainingStage", "DMDTraining", "ReducedOrderModels",
                                                       "Reporting", "Sampling", "StageSupport"]),
        // Benchmarks and synthetic data sets (release-mode timing, stand-ins for the FEM data): kept out of
        // the domain libraries so that those hold only the science.
        .target(name: "Benchmarks", dependencies: ["Parallelism", "NeuralNetwork", "TrainingStage", "DMD", "DMDTraining", "DenseLinearAlgebra", "CBLAS", "ArrayFiles", "Sampling"]),
        // The fem stage: the data folder's inputs, the batch over the samples, shards and their merge.
        // Its own library, not PipelineStages, so that the trainer's and the report's stages do not link the FEM solver.
        .target(name: "FEMStage", dependencies: ["PollutantModel", "Blasius", "FiniteElements", "SparseLinearAlgebra", "ArrayFiles", "Configuration", "StageSupport"]),
        // Uncertainty propagation and Sobol indices of any batched model (no configuration, no paths).
        .target(name: "UncertaintyQuantification", dependencies: ["Parallelism", "Sampling"]),
        // The uq stage's logic: the surrogate through UncertaintyQuantification, the FEM check, figures, report.
        .target(name: "UQStage", dependencies: ["UncertaintyQuantification", "PipelineStages", "NeuralNetwork", "Blasius", "Reporting", "ArrayFiles", "Configuration", "StageSupport"]),
        // The evaluate stage's logic: the trained models on the FEM data, metrics.json and the report.
        .target(name: "Evaluation", dependencies: ["Reporting", "PipelineStages", "NeuralNetwork", "ArrayFiles", "Configuration", "StageSupport"]),

        // Executables: thin shells.
        .executableTarget(name: "lhs-sample", dependencies: ["StageSupport", "Sampling", "ArrayFiles", "Configuration", argumentParser]),
        .executableTarget(name: "blasius-solve", dependencies: ["StageSupport", "PipelineStages", "Blasius", argumentParser]),
        .executableTarget(name: "pollutant-fem", dependencies: ["StageSupport", "FEMStage", "PollutantModel", argumentParser]),
        .executableTarget(name: "train-dmd", dependencies: ["Parallelism", "StageSupport", "PipelineStages", "Benchmarks", "Reporting", "NeuralNetwork", "TrainingStage", "DMD", "DMDTraining", "DenseLinearAlgebra", "ArrayFiles", "Configuration", argumentParser]),
        // Benchmarks (swift run -c release NAME): performance figures, never timed unit tests.
        .executableTarget(name: "fem-benchmark", dependencies: ["ArrayFiles", "FiniteElements", "SparseLinearAlgebra", argumentParser]),
        .executableTarget(name: "uq-propagate", dependencies: ["StageSupport", "UQStage", "Configuration", argumentParser]),
        .executableTarget(name: "evaluate", dependencies: ["StageSupport", "Evaluation", "ArrayFiles", "Configuration", argumentParser]),

        // Tests, one target per library.
        .testTarget(name: "ArrayFilesTests", dependencies: ["ArrayFiles"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ConfigurationTests", dependencies: ["Configuration", "StageSupport"]),
        .testTarget(name: "ParallelismTests", dependencies: ["Parallelism"]),
        .testTarget(name: "SamplingTests", dependencies: ["Sampling"]),
        .testTarget(name: "DenseLinearAlgebraTests", dependencies: ["DenseLinearAlgebra", numerics]),
        .testTarget(name: "BlasiusTests", dependencies: ["Blasius"]),
        .testTarget(name: "SparseLinearAlgebraTests", dependencies: ["SparseLinearAlgebra"]),
        .testTarget(name: "FiniteElementsTests", dependencies: ["FiniteElements", "SparseLinearAlgebra"], resources: [.copy("Fixtures")]),
        .testTarget(name: "PollutantModelTests", dependencies: ["Parallelism", "PollutantModel", "FEMStage", "StageSupport", "FiniteElements", "SparseLinearAlgebra", "Blasius", "ArrayFiles", "Configuration"]),
        .testTarget(name: "NeuralNetworkTests", dependencies: ["NeuralNetwork", "TrainingStage", "Benchmarks", "ArrayFiles", "Sampling"]),
        .testTarget(name: "DMDTests", dependencies: ["DMD", "DenseLinearAlgebra", "ArrayFiles", "Sampling", numerics]),
        .testTarget(name: "DMDTrainingTests", dependencies: ["DMDTraining", "PipelineStages", "DMD", "NeuralNetwork", "TrainingStage", "Benchmarks", "ArrayFiles", "Sampling"]),
        .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks"]),
        // train-dmd's own logic that is not a stage (the stand-alone DMD tool), tested through @testable import.
        .testTarget(name: "TrainDMDTests", dependencies: ["train-dmd", "DMD", "DenseLinearAlgebra", "ArrayFiles", "Sampling", numerics]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "PipelineStages", "StageSupport", "Reporting", "NeuralNetwork", "TrainingStage", "Configuration", "ArrayFiles"]),
        .testTarget(name: "ReducedOrderModelsTests", dependencies: ["ReducedOrderModels", "DenseLinearAlgebra", "NeuralNetwork", "ArrayFiles", "Sampling"]),
        .testTarget(name: "PipelineStagesTests", dependencies: ["PipelineStages", "NeuralNetwork", "ReducedOrderModels", "ArrayFiles", "Configuration", "Reporting"]),
        .testTarget(name: "UncertaintyQuantificationTests", dependencies: ["UncertaintyQuantification", "Sampling"]),
        .testTarget(name: "UQStageTests", dependencies: ["UQStage", "NeuralNetwork", "Configuration", "StageSupport", "ArrayFiles"]),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting", "ArrayFiles"]),
        // The executables run as a user runs them (faults: bad input, locked folders, full disks, damaged files).
        .testTarget(name: "FaultTests"),
    ],
    swiftLanguageModes: [.v5]
)
