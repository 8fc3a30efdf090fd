// swift-tools-version:6.0
// The DMD-accelerated surrogate pipeline: PDE → dataset → neural network → report.
//
// Cut by field: each library is a folder with one sub-folder per concern, and its `README.md` says what
// it owns and what it may import. A library imports only those above it in this list
// (docs/architecture.md draws the picture; scripts/check-layers.py checks the rule).
import PackageDescription

let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let numerics: Target.Dependency = .product(name: "Numerics", package: "swift-numerics")
let toml: Target.Dependency = .product(name: "TOMLKit", package: "TOMLKit")
let flyingFox: Target.Dependency = .product(name: "FlyingFox", package: "FlyingFox")

let package = Package(
    name: "DMDSurrogate",
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        // The HTTP server of `pollutant-serve` (pure Swift on sockets: 25 s of clean debug build against
        // Hummingbird's SwiftNIO stack; docs/serve.md).
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
    ],
    targets: [
        // Internals: OpenBLAS (CBLAS), LAPACKE and UMFPACK (Debian packages; pipeline.sh installs them),
        // and Adam's element-wise update in C (Swift on Linux cannot emit a vector square root).
        .systemLibrary(name: "_LinearAlgebraShims", path: "Sources/_LinearAlgebraShims",
                       providers: [.apt(["libopenblas-dev", "liblapacke-dev", "libsuitesparse-dev"])]),
        .target(name: "_NetworkKernels"),

        // Array files (.npy), atomic writes, manifests, hashing, the clock; the thread pool; dense and
        // sparse linear algebra; the seeded random generator.
        .target(name: "NumericalFoundations", dependencies: ["_LinearAlgebraShims", numerics], exclude: ["README.md"]),
        // The PDE: the generalized Blasius wind, P1 finite elements, the pollutant model (F1)-(F8).
        .target(name: "PDE", dependencies: ["NumericalFoundations"], exclude: ["README.md"]),
        // Sampling, Monte Carlo propagation and Sobol indices of any batched model.
        .target(name: "Uncertainty", dependencies: ["NumericalFoundations"], exclude: ["README.md"]),
        // Surrogates and their training: the network, the trainer, DMD and the training hooks
        // (Algorithm 1), the reduced-order models, `FieldSurrogate`, the error metrics.
        .target(name: "Surrogates", dependencies: ["NumericalFoundations", "_NetworkKernels", "_LinearAlgebraShims", numerics], exclude: ["README.md"]),
        // SVG figures, the figure catalogue and report documents (Markdown, HTML).
        .target(name: "Reporting", dependencies: ["NumericalFoundations", "Surrogates"], exclude: ["README.md"]),
        // The pipeline: configuration, one folder per stage, benchmarks.
        .target(name: "Pipeline", dependencies: ["NumericalFoundations", "PDE", "Uncertainty", "Surrogates", "Reporting",
                                                 "_LinearAlgebraShims", toml, argumentParser, numerics], exclude: ["README.md"]),
        // The UM-Bridge HTTP protocol over FlyingFox, serving the models of Pipeline's Serve stage; only
        // `pollutant-serve` links it.
        .target(name: "ModelServer", dependencies: ["Pipeline", flyingFox], exclude: ["README.md"]),
        // What the tests share: synthetic systems, temporary folders, the checkout's root.
        .target(name: "_TestSupport", dependencies: ["NumericalFoundations", numerics]),

        // Executables: argument parsing and one call into a stage.
        .executableTarget(name: "lhs-sample", dependencies: ["Pipeline", argumentParser]),
        .executableTarget(name: "blasius-solve", dependencies: ["Pipeline", argumentParser]),
        .executableTarget(name: "pollutant-fem", dependencies: ["Pipeline", argumentParser]),
        .executableTarget(name: "train-dmd", dependencies: ["Pipeline", argumentParser]),
        .executableTarget(name: "uq-propagate", dependencies: ["Pipeline", argumentParser]),
        .executableTarget(name: "evaluate", dependencies: ["Pipeline", argumentParser]),
        .executableTarget(name: "pollutant-serve", dependencies: ["ModelServer", "Pipeline", argumentParser]),
        // Benchmarks (swift run -c release NAME): performance figures, never timed unit tests.
        .executableTarget(name: "fem-benchmark", dependencies: ["Pipeline", argumentParser]),

        // Tests, one target per library.
        .testTarget(name: "NumericalFoundationsTests", dependencies: ["NumericalFoundations", "_LinearAlgebraShims", "_TestSupport", numerics],
                    resources: [.copy("ArrayFiles/Fixtures")]),
        .testTarget(name: "PDETests", dependencies: ["PDE", "Pipeline", "NumericalFoundations", "_TestSupport"],
                    resources: [.copy("FiniteElements/Fixtures")]),
        .testTarget(name: "UncertaintyTests", dependencies: ["Uncertainty", "NumericalFoundations", "_TestSupport"]),
        .testTarget(name: "SurrogatesTests", dependencies: ["Surrogates", "PDE", "Pipeline", "Uncertainty", "NumericalFoundations", "_TestSupport", numerics]),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting", "Surrogates", "NumericalFoundations", "_TestSupport"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Surrogates", "PDE", "Uncertainty", "Reporting", "NumericalFoundations", "_TestSupport", numerics]),
        // The executables run as a user runs them (faults: bad input, locked folders, full disks, damaged files).
        .testTarget(name: "FaultTests", dependencies: ["_TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
