import ArgumentParser
import Engine
import Foundation
import Models
import NN
import TensorCore

/// `magpie bench fixmatch`: images/s of one full FixMatch training step on WRN-28-2 — labelled
/// weak + unlabelled weak + strong views ((2μ+1)·B images) in one interleaved forward pass,
/// masked pseudo-label loss, backward, Nesterov SGD with BN/bias excluded from weight decay,
/// EMA update — on random 32×32 inputs, as Scripts/bench/fixmatch_peer.py does in PyTorch.
struct FixMatchBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fixmatch",
        abstract: "FixMatch training-step throughput on WRN-28-2 (images/s over all three views).",
        discussion: "Scripts/bench-fixmatch.sh runs this and the PyTorch CPU peer and prints the ratio."
    )

    @Option(help: "Labelled images per step (B).") var batch: Int = 64
    @Option(help: "Unlabelled ratio μ (μ·B unlabelled images, each weak + strong).") var mu: Int = 7
    @Option(help: "Registry name of the model.") var model: String = "WideResNet28_2"
    @Option(help: "Timed steps (the median is reported).") var steps: Int = 3
    @Option(help: "Untimed warm-up steps.") var warmup: Int = 1
    @Flag(help: "Print one JSON object.") var json = false
    @OptionGroup var convolution: ConvolutionFlags

    func validate() throws {
        guard batch > 0, mu >= 0, steps > 0, warmup >= 0 else { throw ValidationError("--batch and --steps must be positive, --mu at least 0") }
    }

    func run() throws {
        try convolution.apply()
        let entry = try ModelRegistry.entry(model)
        Initializers.seed(0)
        let net = try entry.make()
        let ema = try ModelEMA(model: net, shadow: try entry.make(), decay: 0.999)
        let optimizer = SGD(groups: ParameterGroup.splitDecay(net.namedParameters(), weightDecay: 5e-4),
                            learningRate: 0.03, momentum: 0.9, nesterov: true)
        let step = FixMatchStep(model: net, optimizer: optimizer, loss: FixMatchLoss(), ema: ema)
        net.train()
        var rng = RNG(seed: 1)
        let side = entry.inputSize, classes = entry.defaultClassNum
        let labeled = Tensor.randn([batch, 3, side, side], rng: &rng)
        let weak = Tensor.randn([mu * batch, 3, side, side], rng: &rng)
        let strong = Tensor.randn([mu * batch, 3, side, side], rng: &rng)
        let labels = (0..<batch).map { _ in rng.int(below: classes) }
        var times: [Double] = []
        var images = 0
        for i in 0..<(warmup + steps) {
            let start = DispatchTime.now().uptimeNanoseconds
            let r = mu > 0 ? step(labeled: labeled, labels: labels, weak: weak, strong: strong) : step(labeled: labeled, labels: labels)
            images = r.images
            if i >= warmup { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
        }
        let seconds = ModelBench.median(times)
        let rate = Double(images) / seconds
        if json {
            print(String(format: "{\"bench\":\"fixmatch\",\"model\":\"%@\",\"batch\":%d,\"mu\":%d,\"images_per_step\":%d,"
                         + "\"seconds_per_step\":%.6f,\"images_per_second\":%.4f,\"peak_rss_mb\":%.1f,\"conv_kernels\":\"%@\"}",
                         model as NSString, batch, mu, images, seconds, rate, ModelBench.peakRSS(), KernelReport.summary as NSString))
        } else {
            print(String(format: "fixmatch %@ B %d, mu %d (%d images/step): %.2f s/step, %.1f img/s, peak RSS %.0f MB",
                         model as NSString, batch, mu, images, seconds, rate, ModelBench.peakRSS()))
        }
    }
}
