import Foundation
import Testing
@testable import NN
@testable import TensorCore

/// A torchvision-shaped block: conv1/bn1/conv2/bn2 plus a Sequential downsample.
final class TinyBlock: Layer {
    let conv1 = Conv2d(3, 4, kernel: 3, padding: 1, bias: false)
    let bn1 = BatchNorm2d(4)
    let downsample = Sequential(Conv2d(3, 4, kernel: 1, bias: false), BatchNorm2d(4))
    override var children: [(String, Module)] { [("conv1", conv1), ("bn1", bn1), ("downsample", downsample)] }
    override func forward(_ x: Tensor) -> Tensor { bn1(conv1(x)).relu() + downsample(x) }
}

@Suite struct ModuleTests {
    @Test func stateDictUsesTorchKeysAndOrder() {
        let keys = TinyBlock().stateDict().map(\.0)
        #expect(keys == [
            "conv1.weight",
            "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked",
            "downsample.0.weight",
            "downsample.1.weight", "downsample.1.bias", "downsample.1.running_mean", "downsample.1.running_var",
            "downsample.1.num_batches_tracked",
        ])
        #expect(TinyBlock().parameterCount == 4 * 3 * 9 + 8 + 4 * 3 + 8)
    }

    @Test func loadCopiesInPlaceAndReportsProblemsByName() throws {
        let source = TinyBlock(), target = TinyBlock()
        let weightRef = target.conv1.weight
        var dict = Dictionary(uniqueKeysWithValues: source.stateDict().map { ($0.0, $0.1.detached()) })
        try target.load(stateDict: dict)
        #expect(weightRef.data == source.conv1.weight.data)
        #expect(target.conv1.weight === weightRef)

        dict["bn1.weight"] = nil
        dict["head.fc.weight"] = Tensor.zeros([2])
        dict["conv1.weight"] = Tensor.zeros([4, 3, 1, 1])
        do {
            try target.load(stateDict: dict)
            Issue.record("strict load accepted a bad state dict")
        } catch let NNError.stateDictMismatch(report) {
            #expect(report.missing == ["bn1.weight"])
            #expect(report.unexpected == ["head.fc.weight"])
            #expect(report.mismatched.map(\.key) == ["conv1.weight"])
            #expect("\(NNError.stateDictMismatch(report))".contains("conv1.weight expects [4, 3, 3, 3]"))
        }
        let report = try target.load(stateDict: dict, strict: false)
        #expect(!report.isClean)
        #expect(target.bn1.bias.map { $0.data } == source.bn1.bias.map { $0.data })
    }

    /// The normalising wrapper adds no key level and passes train/eval to the model it wraps.
    @Test func normalizedOutputIsTransparent() {
        let block = TinyBlock()
        let wrapped = L2NormalizedOutput(block)
        #expect(wrapped.stateDict().map(\.0) == block.stateDict().map(\.0))
        #expect(wrapped.namedParameters().map(\.0) == block.namedParameters().map(\.0))
        wrapped.eval()
        #expect(!block.isTraining && !block.bn1.isTraining)
        let x = Tensor(shape: [2, 3, 5, 5], data: (0..<150).map { Float($0 % 13) / 13 })
        let y = wrapped(x)  // normalised over the last axis
        let width = y.shape.last!
        for row in 0..<(y.count / width) {
            let norm = (0..<width).reduce(Float(0)) { $0 + y.data[row * width + $1] * y.data[row * width + $1] }
            #expect(abs(norm - 1) < 1e-4)
        }
    }

    @Test func trainAndEvalPropagate() {
        let block = TinyBlock()
        block.eval()
        #expect(block.namedModules().allSatisfy { !$0.1.isTraining })
        block.train()
        #expect(block.downsample.layers[1].isTraining)
    }

    @Test func batchNormCountsBatchesOnlyInTraining() {
        let bn = BatchNorm2d(2)
        var rng = RNG(seed: 1)
        let x = Tensor.randn([3, 2, 2, 2], rng: &rng)
        _ = bn(x); _ = bn(x)
        bn.eval(); _ = bn(x)
        #expect(bn.numBatchesTracked.item == 2)
    }

    @Test func linearMatchesMatmulAndHasGradients() {
        Initializers.seed(3)
        let fc = Linear(4, 3)
        var rng = RNG(seed: 2)
        let x = Tensor.randn([5, 4], rng: &rng)
        let y = fc(x)
        let expected = matmul(x, fc.weight, transposeB: true) + fc.bias!
        #expect(y.data == expected.data)
        y.sum().backward()
        #expect(fc.bias!.grad == [5, 5, 5])
        #expect(fc(Tensor.randn([2, 5, 4], rng: &rng)).shape == [2, 5, 3])
    }

    @Test func initializersAreSeededAndScaled() {
        Initializers.seed(7)
        let a = Initializers.kaimingNormal([64, 32, 3, 3], fanOut: true)
        Initializers.seed(7)
        let b = Initializers.kaimingNormal([64, 32, 3, 3], fanOut: true)
        #expect(a.data == b.data)
        let std = (a.data.map { Double($0 * $0) }.reduce(0, +) / Double(a.count)).squareRoot()
        #expect(abs(std - (2.0 / Double(64 * 9)).squareRoot()) < 0.003)
    }

    @Test func seededBuildsDoNotDependOnOtherThreads() {
        // Reference: seed 11, then two draws on this thread alone.
        Initializers.seed(11)
        let expected = [Initializers.normal([256], std: 1).data, Initializers.normal([256], std: 1).data]
        // Four threads seed 11 and draw the same way while the others draw too: each must see the reference.
        nonisolated(unsafe) var results = [[[Float]]](repeating: [], count: 4)
        let lock = NSLock()
        let group = DispatchGroup()
        for t in 0..<4 {
            group.enter()
            Thread.detachNewThread {
                Initializers.seed(11)
                var mine: [[Float]] = []
                for _ in 0..<2 {
                    mine.append(Initializers.normal([256], std: 1).data)
                    usleep(1000)
                }
                lock.withLock { results[t] = mine }
                group.leave()
            }
        }
        group.wait()
        for r in results { #expect(r == expected) }
    }

    @Test func squeezeExciteScalesChannels() {
        let se = SqueezeExcite(channels: 4, squeezeChannels: 2, gate: .sigmoid)
        #expect(se.stateDict().map(\.0) == ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"])
        var rng = RNG(seed: 4)
        let x = Tensor.randn([2, 4, 3, 3], rng: &rng)
        let y = se(x)
        #expect(y.shape == x.shape)
        // Every channel is scaled by one factor in (0, 1).
        for c in 0..<4 {
            let ratio = y.data[c * 9] / x.data[c * 9]
            #expect(ratio > 0 && ratio < 1)
            #expect(abs(y.data[c * 9 + 5] / x.data[c * 9 + 5] - ratio) < 1e-5)
        }
    }
}
