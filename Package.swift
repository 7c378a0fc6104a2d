// swift-tools-version: 6.1
import PackageDescription

// Kernels are written as plain loops over unsafe buffers; -Ounchecked drops the
// overflow/bounds traps in release builds so those loops vectorise. Debug builds of the numeric
// modules are optimised too (-O keeps the traps): tests build real models and check gradients,
// which at -Onone take minutes instead of seconds.
let kernelFlags: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
    .unsafeFlags(["-O"], .when(configuration: .debug)),
]

let package = Package(
    name: "Magpie",
    products: [
        .executable(name: "magpie", targets: ["CLI"]),
        .library(name: "TensorCore", targets: ["TensorCore"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Models", targets: ["Models"]),
        .library(name: "Retrieval", targets: ["Retrieval"]),
        .library(name: "GalleryExport", targets: ["GalleryExport"]),
        .library(name: "Datasets", targets: ["Datasets"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.0"),
        // ONNX export only; Sources/ONNXExport/onnx.pb.swift is generated once and committed (Scripts/onnx).
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        // The HTTP service (Sources/Service); HummingbirdTesting for its tests.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Already in Hummingbird's graph; named here because the service's connection guard is a
        // NIO channel handler and its shutdown deadline a ServiceGroup setting.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // C system libraries (Debian packages); each is imported only by the module directly above it.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        // gzip streams (IDX datasets such as Fashion-MNIST ship gzipped) for Datasets.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // oneDNN (no pkg-config file in Debian): convolution primitives for TensorCore.
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        // A cache prefetch hint (a header only, no library) for the approximate indexes.
        .systemLibrary(name: "CPrefetch"),
        // OpenMPI: the collectives of data-parallel training under `mpirun` (Cluster).
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),

        // setjmp/longjmp error handling for libjpeg and libpng (Swift cannot catch their longjmp).
        .target(
            name: "CImageCodec",
            dependencies: ["CJPEG", "CPNG"],
            linkerSettings: [.linkedLibrary("jpeg"), .linkedLibrary("png16")]
        ),

        .target(name: "TensorCore", dependencies: ["CBLAS", "CDNNL"], swiftSettings: kernelFlags),
        .target(name: "NN", dependencies: ["TensorCore"], swiftSettings: kernelFlags),
        .target(name: "Models", dependencies: ["NN"], swiftSettings: kernelFlags),
        // PaddleClas-style YAML configs (with Yams): the one config model, read by Datasets (transform
        // parameters) and Engine (everything else).
        .target(name: "MagpieConfig", dependencies: [.product(name: "Yams", package: "Yams")]),
        // The processes of one training job: MPI's world under `mpirun`, else one process.
        .target(name: "Cluster", dependencies: ["CMPI"]),
        .target(name: "Engine", dependencies: ["MagpieConfig", "Models", "Datasets", "Retrieval", "Cluster"], swiftSettings: kernelFlags),
        .target(name: "Retrieval", dependencies: ["TensorCore", "CLMDB", "CPrefetch"], swiftSettings: kernelFlags),
        .target(name: "Datasets", dependencies: ["MagpieConfig", "TensorCore", "CImageCodec", "CZlib"], swiftSettings: kernelFlags),
        // Gallery → npy / Parquet / NDJSON files for vector databases (`magpie gallery export`).
        .target(name: "GalleryExport", dependencies: ["Retrieval", "TensorCore"], swiftSettings: kernelFlags),
        .target(name: "Service", dependencies: ["Engine", "Retrieval", "Datasets", "TensorCore",
                                                .product(name: "Hummingbird", package: "hummingbird"),
                                                .product(name: "HummingbirdCore", package: "hummingbird"),
                                                .product(name: "NIOCore", package: "swift-nio"),
                                                .product(name: "NIOHTTP1", package: "swift-nio"),
                                                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                                                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
        .target(name: "ONNXExport", dependencies: ["Models", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .executableTarget(
            name: "CLI",
            dependencies: [
                "TensorCore",
                "Models",
                "Retrieval",
                "Engine",
                "Cluster",
                "Datasets",
                "ONNXExport",
                "GalleryExport",
                "Service",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: kernelFlags
        ),

        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "NNTests", dependencies: ["NN"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ModelsTests", dependencies: ["Models"], resources: [.copy("Fixtures")]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Cluster", "TestSupport"], resources: [.copy("Fixtures")]),
        // Shared by the test targets: fixtures, temporary folders, the built `magpie` binary.
        .target(name: "TestSupport", dependencies: ["TensorCore"], path: "Tests/TestSupport", resources: [.copy("Fixtures")]),
        .testTarget(name: "RetrievalTests", dependencies: ["Retrieval", "TensorCore", "TestSupport"]),
        .testTarget(name: "GalleryExportTests", dependencies: ["GalleryExport", "Retrieval", "TensorCore", "TestSupport"]),
        // The commands end to end through the built executable (argument parsing and printing).
        .testTarget(name: "CLITests", dependencies: ["GalleryExport", "Retrieval", "TensorCore", "TestSupport"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "MagpieConfig"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ServiceTests",
                    dependencies: ["Service", "Engine", "Retrieval", "Datasets", "TensorCore", "TestSupport",
                                   .product(name: "Hummingbird", package: "hummingbird"),
                                   .product(name: "HummingbirdTesting", package: "hummingbird"),
                                   .product(name: "NIOCore", package: "swift-nio"),
                                   .product(name: "NIOEmbedded", package: "swift-nio"),
                                   .product(name: "NIOHTTP1", package: "swift-nio"),
                                   .product(name: "NIOHTTPTypes", package: "swift-nio-extras")]),
        .testTarget(name: "ONNXExportTests",
                    dependencies: ["ONNXExport", "Models", "NN", "TensorCore",
                                   .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
    ],
    swiftLanguageModes: [.v5]
)
