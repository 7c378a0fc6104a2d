import ArgumentParser
import Foundation
import TensorCore

/// conv2d forward + backward throughput on the convolutions of real networks, against sgemm calls
/// of the same sizes (the ceiling an im2col + GEMM scheme can reach).
enum ConvBench {
    /// One distinct convolution and how many times the network uses it.
    struct Layer {
        let inChannels, outChannels, kernel, stride, padding, inputSize, times: Int
        var label: String { "\(inChannels)→\(outChannels) \(kernel)×\(kernel)/\(stride) @\(inputSize)" }
    }

    struct Network { let name: String; let batch: Int; let layers: [Layer] }

    static func networks(named name: String) throws -> [Network] {
        switch name {
        case "resnet50": return [resnet50()]
        case "wrn28_2": return [wideResNet28x2()]
        case "all": return [resnet50(), wideResNet28x2()]
        default: throw ValidationError("unknown --model '\(name)'; use resnet50, wrn28_2 or all")
        }
    }

    /// ResNet-50 at 224 px, batch 16 (torchvision v1.5: stride on the 3×3 conv).
    static func resnet50() -> Network {
        var layers: [Layer] = [Layer(inChannels: 3, outChannels: 64, kernel: 7, stride: 2, padding: 3, inputSize: 224, times: 1)]
        var inC = 64, size = 56
        for (planes, blocks, stride) in [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)] {
            let out = size / stride
            layers.append(Layer(inChannels: inC, outChannels: planes, kernel: 1, stride: 1, padding: 0, inputSize: size, times: 1))
            layers.append(Layer(inChannels: planes, outChannels: planes, kernel: 3, stride: stride, padding: 1, inputSize: size, times: 1))
            layers.append(Layer(inChannels: planes, outChannels: planes * 4, kernel: 1, stride: 1, padding: 0, inputSize: out, times: blocks))
            layers.append(Layer(inChannels: inC, outChannels: planes * 4, kernel: 1, stride: stride, padding: 0, inputSize: size, times: 1))
            layers.append(Layer(inChannels: planes * 4, outChannels: planes, kernel: 1, stride: 1, padding: 0, inputSize: out, times: blocks - 1))
            layers.append(Layer(inChannels: planes, outChannels: planes, kernel: 3, stride: 1, padding: 1, inputSize: out, times: blocks - 1))
            inC = planes * 4
            size = out
        }
        return Network(name: "ResNet-50 (224 px, batch 16)", batch: 16, layers: layers)
    }

    /// WRN-28-2 at 32 px, batch 64 (FixMatch's CIFAR model).
    static func wideResNet28x2() -> Network {
        var layers: [Layer] = [Layer(inChannels: 3, outChannels: 16, kernel: 3, stride: 1, padding: 1, inputSize: 32, times: 1)]
        var inC = 16, size = 32
        for (width, stride) in [(32, 1), (64, 2), (128, 2)] {
            let out = size / stride
            layers.append(Layer(inChannels: inC, outChannels: width, kernel: 3, stride: stride, padding: 1, inputSize: size, times: 1))
            layers.append(Layer(inChannels: inC, outChannels: width, kernel: 1, stride: stride, padding: 0, inputSize: size, times: 1))
            layers.append(Layer(inChannels: width, outChannels: width, kernel: 3, stride: 1, padding: 1, inputSize: out, times: 7))
            inC = width
            size = out
        }
        return Network(name: "WRN-28-2 (32 px, batch 64)", batch: 64, layers: layers)
    }

    struct Row {
        let layer: Layer
        let flops: Double          // forward + both backward GEMM-equivalents
        let convSeconds: Double
        let gemmSeconds: Double
        var convGflops: Double { flops / convSeconds / 1e9 }
        var gemmGflops: Double { flops / gemmSeconds / 1e9 }
    }

    struct Report {
        let network: Network
        let rows: [Row]
        let sgemmPeak: Double

        var totals: (conv: Double, gemm: Double) {
            var flops = 0.0, conv = 0.0, gemm = 0.0
            for r in rows {
                let t = Double(r.layer.times)
                flops += r.flops * t; conv += r.convSeconds * t; gemm += r.gemmSeconds * t
            }
            return (flops / conv / 1e9, flops / gemm / 1e9)
        }

        var table: String {
            var lines = ["\(network.name): conv2d forward + backward (dx, dW) vs same-size sgemm",
                         "  layer                         ×   conv GF/s  sgemm GF/s  conv/sgemm"]
            for r in rows {
                lines.append(String(format: "  %-28@ %2d %10.1f %11.1f %10.0f%%", r.layer.label as NSString, r.layer.times,
                                    r.convGflops, r.gemmGflops, 100 * r.convGflops / r.gemmGflops))
            }
            let (conv, gemm) = totals
            lines.append(String(format: "  network total (weighted)        %10.1f %11.1f %10.0f%%", conv, gemm, 100 * conv / gemm))
            lines.append(String(format: "  conv vs this machine's sgemm peak %.1f GFLOP/s: %.0f%%", sgemmPeak, 100 * conv / sgemmPeak))
            return lines.joined(separator: "\n")
        }

        var json: String {
            let (conv, gemm) = totals
            let items = rows.map {
                String(format: "{\"layer\":\"%@\",\"times\":%d,\"conv_gflops\":%.2f,\"sgemm_gflops\":%.2f}",
                       $0.layer.label as NSString, $0.layer.times, $0.convGflops, $0.gemmGflops)
            }
            return String(format: "{\"bench\":\"conv\",\"network\":\"%@\",\"conv_gflops\":%.2f,\"sgemm_gflops\":%.2f,"
                          + "\"ratio\":%.4f,\"sgemm_peak_gflops\":%.2f,\"fraction_of_peak\":%.4f,",
                          network.name as NSString, conv, gemm, conv / gemm, sgemmPeak, conv / sgemmPeak)
                + "\"layers\":[\(items.joined(separator: ","))]}"
        }
    }

    static func run(_ net: Network, repeats: Int, sgemmPeak: Double) -> Report {
        Report(network: net, rows: net.layers.filter { $0.times > 0 }.map { measure($0, batch: net.batch, repeats: repeats) },
               sgemmPeak: sgemmPeak)
    }

    static func measure(_ layer: Layer, batch: Int, repeats: Int) -> Row {
        var rng = RNG(seed: 7)
        let x = Tensor.randn([batch, layer.inChannels, layer.inputSize, layer.inputSize], rng: &rng, requiresGrad: true)
        let w = Tensor.randn([layer.outChannels, layer.inChannels, layer.kernel, layer.kernel], std: 0.05, rng: &rng,
                             requiresGrad: true)
        let outSize = (layer.inputSize + 2 * layer.padding - layer.kernel) / layer.stride + 1
        let seed = [Float](repeating: 1, count: batch * layer.outChannels * outSize * outSize)
        let convSeconds = Stopwatch.best(repeats: repeats) {
            let y = conv2d(x, w, stride: Size2(layer.stride), padding: Size2(layer.padding))
            y.backward(seed: seed)
            x.zeroGrad(); w.zeroGrad()
        }
        // The same three products as single GEMMs: Y = W·cols, dW = dY·colsᵀ, dcols = Wᵀ·dY.
        let m = layer.outChannels, n = batch * outSize * outSize, k = layer.inChannels * layer.kernel * layer.kernel
        let gemmSeconds = GEMMBench.time(m: m, n: n, k: k, repeats: repeats)
            + GEMMBench.time(m: m, n: k, k: n, transB: true, repeats: repeats)
            + GEMMBench.time(m: k, n: n, k: m, transA: true, repeats: repeats)
        return Row(layer: layer, flops: 3 * 2 * Double(m) * Double(n) * Double(k), convSeconds: convSeconds,
                   gemmSeconds: gemmSeconds)
    }
}
