import Foundation
import Testing
@testable import NN
@testable import TensorCore

@Suite struct OptimizerTests {
    static let file: SafeTensorsFile = {
        let url = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/optimizers.safetensors")
        return try! SafeTensors.read(url)
    }()

    static let cases = ["sgd_plain", "sgd_momentum_wd", "sgd_nesterov_wd", "adam_wd", "adamw", "rmsprop", "rmsprop_momentum"]

    /// Three steps with the fixture's gradients must reproduce PyTorch's parameters after each step.
    @Test(arguments: cases)
    func matchesPyTorch(name: String) throws {
        let file = Self.file
        let params = try JSONSerialization.jsonObject(with: Data(file.metadata[name]!.utf8)) as! [String: Any]
        let w = try file.tensor("w0").detached(), b = try file.tensor("b0").detached()
        w.requiresGrad = true; b.requiresGrad = true
        let decay = Float(params["weight_decay"] as? Double ?? 0)
        let groups = [ParameterGroup([("w", w)], weightDecay: decay), ParameterGroup([("b", b)])]
        let lr = Float(params["lr"] as! Double)
        let optimizer: Optimizer
        switch params["optimizer"] as! String {
        case "SGD":
            optimizer = SGD(groups: groups, learningRate: lr, momentum: Float(params["momentum"] as? Double ?? 0),
                            nesterov: params["nesterov"] as? Bool ?? false)
        case "Adam": optimizer = Adam(groups: groups, learningRate: lr)
        case "AdamW": optimizer = Adam(groups: groups, learningRate: lr, decoupled: true)
        default:
            optimizer = RMSProp(groups: groups, learningRate: lr, alpha: Float(params["alpha"] as! Double),
                                momentum: Float(params["momentum"] as? Double ?? 0))
        }
        for k in 1...3 {
            w.grad = try file.tensor("gw_\(k)").data
            b.grad = try file.tensor("gb_\(k)").data
            optimizer.step()
            let ew = try file.tensor("\(name)/w_\(k)").data, eb = try file.tensor("\(name)/b_\(k)").data
            #expect(maxDiff(w.data, ew) < 2e-6, "\(name) step \(k) weight")
            #expect(maxDiff(b.data, eb) < 2e-6, "\(name) step \(k) bias")
        }
    }

    @Test func stateRoundTripContinuesIdentically() throws {
        func run(resumeAfter: Int?) throws -> [Float] {
            let w = Tensor([1, -2, 3], requiresGrad: true)
            var opt = SGD(groups: [ParameterGroup([("w", w)], weightDecay: 0.01)], learningRate: 0.1, momentum: 0.9, nesterov: true)
            for k in 0..<4 {
                if k == resumeAfter {
                    let saved = opt.stateDict()
                    opt = SGD(groups: [ParameterGroup([("w", w)], weightDecay: 0.01)], learningRate: 0.1, momentum: 0.9, nesterov: true)
                    try opt.load(stateDict: saved)
                }
                w.grad = w.data.map { $0 * 0.5 + Float(k) }
                opt.step()
            }
            return w.data
        }
        #expect(try run(resumeAfter: nil) == run(resumeAfter: 2))
        let opt = SGD(groups: [ParameterGroup([("w", Tensor([1], requiresGrad: true))])], learningRate: 0.1, momentum: 0.9)
        #expect(throws: NNError.self) { try opt.load(stateDict: ["v.momentum_buffer": Tensor([1])]) }
    }

    @Test func splitDecayExemptsBiasAndNorm() {
        let fc = Linear(3, 2), bn = BatchNorm1d(2)
        let groups = ParameterGroup.splitDecay(fc.namedParameters(prefix: "fc.") + bn.namedParameters(prefix: "bn."), weightDecay: 5e-4)
        #expect(groups[0].parameters.map(\.0) == ["fc.weight"])
        #expect(groups[1].parameters.map(\.0) == ["fc.bias", "bn.weight", "bn.bias"])
        #expect(groups[1].weightDecay == 0)
    }

    @Test func gradientClippingScalesToMaxNorm() {
        let a = Tensor([0, 0], requiresGrad: true), b = Tensor([0], requiresGrad: true)
        a.grad = [3, 0]; b.grad = [4]
        let norm = clipGradientNorm([a, b], maxNorm: 1)
        #expect(abs(norm - 5) < 1e-6)
        #expect(abs(a.grad![0] - 0.6) < 1e-5 && abs(b.grad![0] - 0.8) < 1e-5)
        a.grad = [0.3, 0]
        clipGradientNorm([a], maxNorm: 1)
        #expect(a.grad == [0.3, 0])
    }

    @Test func emaAveragesParametersAndCopiesBuffers() throws {
        let model = Sequential(Linear(2, 2), BatchNorm1d(2)), shadow = Sequential(Linear(2, 2), BatchNorm1d(2))
        let ema = try ModelEMA(model: model, shadow: shadow, decay: 0.9)
        let p = model.namedParameters()[0].1, e = shadow.namedParameters()[0].1
        #expect(e.data == p.data)
        let before = e.data
        for i in 0..<p.count { p.data[i] += 1 }
        (model.layers[1] as! BatchNorm1d).runningMean.data = [5, 6]
        ema.update()
        for i in 0..<p.count { #expect(abs(e.data[i] - (0.9 * before[i] + 0.1 * p.data[i])) < 1e-6) }
        #expect((shadow.layers[1] as! BatchNorm1d).runningMean.data == [5, 6])
        #expect(!shadow.isTraining)
    }
}

@Suite struct ScheduleTests {
    @Test func cosineEndpointsAndMidpoint() {
        let s = CosineSchedule(base: 0.1, totalSteps: 100)
        #expect(s.learningRate(at: 0) == 0.1)
        #expect(abs(s.learningRate(at: 50) - 0.05) < 1e-7)
        #expect(abs(s.learningRate(at: 100)) < 1e-7)
        #expect(abs(CosineSchedule(base: 1, totalSteps: 10, minimum: 0.2).learningRate(at: 10) - 0.2) < 1e-7)
    }

    @Test func fixMatchCosineEndsAtSevenSixteenthsPi() {
        let s = FixMatchCosineSchedule(base: 0.03, totalSteps: 1 << 20)
        #expect(s.learningRate(at: 0) == 0.03)
        #expect(abs(s.learningRate(at: 1 << 20) - 0.03 * Float(cos(7 * Double.pi / 16))) < 1e-7)
    }

    @Test func piecewiseAndWarmup() {
        let p = PiecewiseSchedule(boundaries: [10, 20], values: [0.1, 0.01, 0.001])
        #expect([0, 9, 10, 19, 20, 99].map(p.learningRate(at:)) == [0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
        let w = LinearWarmup(ConstantSchedule(0.4), warmupSteps: 4, startLR: 0)
        #expect([0, 1, 2, 4, 10].map(w.learningRate(at:)) == [0, 0.1, 0.2, 0.4, 0.4])
    }
}

func maxDiff(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? 0 }
