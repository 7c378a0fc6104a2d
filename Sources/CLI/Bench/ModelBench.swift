import Foundation
import Models
import NN
import TensorCore

/// Training-step and inference throughput of zoo models on random data.
enum ModelBench {
    struct Result {
        let kind: String, model: String, batch: Int, size: Int
        let secondsPerStep: Double
        let peakRSSMB: Double
        /// The kernels that ran: the inference graph's when one ran, else every convolution's.
        var kernels = KernelReport.summary
        var imagesPerSecond: Double { Double(batch) / secondsPerStep }

        var line: String {
            String(format: "%@ %@ batch %d @ %d px: %.1f ms/step, %.2f img/s, peak RSS %.0f MB\n  convolutions: %@ (%@); kernels: %@; OpenBLAS %@",
                   kind as NSString, model as NSString, batch, size, secondsPerStep * 1e3, imagesPerSecond, peakRSSMB,
                   ConvolutionOptions.defaults.description as NSString, "oneDNN \(KernelReport.oneDNNVersion)" as NSString,
                   kernels as NSString, GEMM.coreName as NSString)
        }

        var json: String {
            String(format: "{\"bench\":\"%@\",\"model\":\"%@\",\"batch\":%d,\"size\":%d,\"seconds_per_step\":%.6f,"
                   + "\"images_per_second\":%.4f,\"peak_rss_mb\":%.1f,\"blas_core\":\"%@\",\"convolutions\":\"%@\",\"conv_kernels\":\"%@\"}",
                   kind as NSString, model as NSString, batch, size, secondsPerStep, imagesPerSecond, peakRSSMB,
                   GEMM.coreName as NSString, ConvolutionOptions.defaults.description as NSString, kernels as NSString)
        }
    }

    /// Median seconds of forward + cross-entropy + backward + SGD step, after `warmup` untimed steps.
    static func train(model name: String, batch: Int, size: Int, steps: Int, warmup: Int) throws -> Result {
        let entry = try ModelRegistry.entry(name)
        Initializers.seed(0)
        let model = try entry.make()
        model.train()
        let optimizer = SGD(groups: ParameterGroup.splitDecay(model.namedParameters(), weightDecay: 1e-4),
                            learningRate: 0.01, momentum: 0.9)
        var rng = RNG(seed: 1)
        let x = Tensor.randn([batch, 3, size, size], rng: &rng)
        let classes = entry.defaultClassNum
        let labels = (0..<batch).map { _ in rng.int(below: classes) }
        var times: [Double] = []
        for i in 0..<(warmup + steps) {
            let start = DispatchTime.now().uptimeNanoseconds
            let loss = crossEntropy(model(x), labels: labels)
            loss.backward()
            optimizer.step()
            optimizer.zeroGrad()
            if i >= warmup { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
        }
        return Result(kind: "train", model: name, batch: batch, size: size, secondsPerStep: median(times), peakRSSMB: peakRSS())
    }

    /// Median seconds of an eval-mode forward pass without the tape.
    static func infer(model name: String, batch: Int, size: Int, steps: Int, warmup: Int) throws -> Result {
        let model = try ModelRegistry.make(name)
        model.eval()
        var rng = RNG(seed: 1)
        let x = Tensor.randn([batch, 3, size, size], rng: &rng)
        let options = ConvolutionOptions.defaults
        let graph = options.usesInferenceGraph ? try InferenceGraph.compile(input: x, options: options) { model($0) } : nil
        var times: [Double] = []
        withNoGrad {
            for i in 0..<(warmup + steps) {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = graph?(x) ?? model(x)
                if i >= warmup { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
            }
        }
        var result = Result(kind: "infer", model: name, batch: batch, size: size, secondsPerStep: median(times), peakRSSMB: peakRSS())
        if let graph { result.kernels = "graph: " + graph.summary }
        return result
    }

    static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        return s.isEmpty ? .nan : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
    }

    /// Peak resident set size of this process in MB (getrusage's ru_maxrss is in KiB on Linux).
    static func peakRSS() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}
