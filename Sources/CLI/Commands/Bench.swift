import ArgumentParser
import Models
import Foundation

/// `magpie bench …`: kernel throughput figures against the machine's own sgemm.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure kernel (GFLOP/s) and data-loading (images/s) throughput on this machine.",
        discussion: """
        Use a release build (`swift build -c release`); debug builds are many times slower. \
        OpenBLAS picks its kernels at load time: set OPENBLAS_CORETYPE (e.g. Haswell) in the \
        environment to compare kernel sets.
        """,
        subcommands: [GEMMBenchCommand.self, ConvBenchCommand.self, TrainBenchCommand.self, InferBenchCommand.self,
                      BenchSearchCommand.self, BenchEvalCommand.self, BenchGalleryCommand.self, LoaderBenchCommand.self,
                      FixMatchBenchCommand.self, BenchANNCommand.self],
        defaultSubcommand: nil
    )
}

struct BenchOptions: ParsableArguments {
    @Option(help: "Timed repetitions per case (the best is reported).")
    var repeats: Int = 3

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false
}

struct GEMMBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "sgemm GFLOP/s on square matrices; the best figure is this machine's sgemm peak."
    )

    @Option(help: "Comma-separated matrix sizes.")
    var sizes: String = "256,512,1024,2048"

    @OptionGroup var options: BenchOptions

    func run() throws {
        let list = sizes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !list.isEmpty, list.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--sizes needs positive integers, e.g. 512,1024")
        }
        let report = GEMMBench.run(sizes: list, repeats: options.repeats)
        print(options.json ? report.json : report.table)
    }
}

struct ConvBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conv",
        abstract: "conv2d forward+backward GFLOP/s on ResNet-50 and WRN-28-2 layer shapes vs same-size sgemm.",
        discussion: """
        For every distinct convolution of ResNet-50 (224 px, batch 16) and WRN-28-2 (32 px, batch 64) \
        it times forward + backward (input and weight gradients) and the three sgemm calls of the same \
        sizes, and prints both rates, their ratio, and the network totals weighted by how often each \
        layer occurs.
        """
    )

    @Option(help: "Which network's layers: resnet50, wrn28_2 or all.")
    var model: String = "all"

    @OptionGroup var options: BenchOptions

    @OptionGroup var convolution: ConvolutionFlags

    func run() throws {
        try convolution.apply()
        let nets = try ConvBench.networks(named: model)
        let peak = GEMMBench.run(sizes: [2048], repeats: options.repeats).peak
        let reports = nets.map { ConvBench.run($0, repeats: options.repeats, sgemmPeak: peak) }
        if options.json {
            print("[" + reports.map(\.json).joined(separator: ",") + "]")
        } else {
            for r in reports { print(r.table) }
        }
    }
}

struct ModelBenchOptions: ParsableArguments {
    @Option(help: "Registry name (see `magpie models`).")
    var model: String = "ResNet50"

    @Option(help: "Images per step.")
    var batch: Int = 16

    @Option(help: "Input height and width in pixels (default: the model's own).")
    var size: Int?

    @Option(help: "Timed steps (the median is reported).")
    var steps: Int = 5

    @Option(help: "Untimed warm-up steps.")
    var warmup: Int = 1

    @Flag(help: "Print one JSON object.")
    var json = false

    @OptionGroup var convolution: ConvolutionFlags

    func validate() throws {
        guard batch > 0, steps > 0, warmup >= 0 else { throw ValidationError("--batch and --steps must be positive") }
    }

    /// Runs one of ModelBench's measurements with these options and prints the result.
    func run(_ measure: (String, Int, Int, Int, Int) throws -> ModelBench.Result) throws {
        try convolution.apply()
        let size = try self.size ?? ModelRegistry.entry(model).inputSize
        let r = try measure(model, batch, size, steps, warmup)
        print(json ? r.json : r.line)
    }
}

struct TrainBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training-step throughput (forward + cross-entropy + backward + SGD step) and peak memory.",
        discussion: "Compare with PyTorch CPU on the same step with Scripts/bench-peers.sh."
    )

    @OptionGroup var options: ModelBenchOptions

    func run() throws { try options.run(ModelBench.train) }
}

struct InferBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Inference latency (eval mode, no tape) and peak memory.",
        discussion: "Compare with PyTorch and onnxruntime with Scripts/bench-peers.sh."
    )

    @OptionGroup var options: ModelBenchOptions

    func run() throws { try options.run(ModelBench.infer) }
}

struct LoaderBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loader",
        abstract: "Decode + augment images/s for the XBM training chain at 224 px.",
        discussion: """
        Writes JPEGs with sides of 96-500 px (product-photo-like: an object on a light background), \
        then times decoding alone, decoding plus the XBM chain (Resize 256, RandomResizedCrop 224 \
        scale 0.2-1, RandomHorizontalFlip, ToTensor, Normalize) on one thread, and the threaded \
        DataLoader producing NCHW batches; a last row times FixMatch's weak + strong (RandAugmentMC) \
        views of 32 px images (pairs/s, batch 448 = 7 x 64). Compare with the training step rate: a ResNet-50 step \
        at 224 px runs at about 3-4 images/s on 2 cores, so loading is never the bottleneck \
        when its rate is far above that.
        """
    )

    @Option(help: "Number of JPEGs to generate.")
    var images: Int = 256

    @Option(name: .customLong("batch-size"), help: "Loader batch size.")
    var batchSize: Int = 32

    @Option(help: "Keep the generated JPEGs in this folder (default: a temporary folder, removed afterwards).")
    var folder: String?

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func run() throws {
        guard images >= batchSize, batchSize > 0 else { throw ValidationError("--images must be at least --batch-size (> 0)") }
        let (rows, dir) = try LoaderBench.run(count: images, batchSize: batchSize, folder: folder.map { URL(fileURLWithPath: $0) })
        if folder == nil { try? FileManager.default.removeItem(at: dir) }
        if json {
            let items = rows.map { String(format: "{\"name\":\"%@\",\"images\":%d,\"seconds\":%.4f,\"images_per_s\":%.2f,\"step_images_per_s\":%.1f}", $0.name, $0.images, $0.seconds, $0.rate, $0.stepRate) }
            print("{\"bench\":\"loader\",\"rows\":[\(items.joined(separator: ","))]}")
            return
        }
        print("XBM train chain at 224 px on \(images) JPEGs (96-500 px), \(ProcessInfo.processInfo.activeProcessorCount) cores")
        print("  what                                              images/s   x training step")
        for r in rows {
            print("  " + r.name.padding(toLength: 48, withPad: " ", startingAt: 0) + String(format: " %9.1f   %7.1fx", r.rate, r.rate / r.stepRate))
        }
        print(String(format: "training steps (PyTorch CPU, this machine): ResNet-50 224 px %.1f img/s; WRN-28-2 32 px %.1f img/s (FixMatch row)",
                     LoaderBench.resnet50Step, LoaderBench.wrn28Step))
    }
}
