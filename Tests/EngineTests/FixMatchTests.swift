import Foundation
import Testing
@testable import Engine
@testable import Models
@testable import NN
@testable import TensorCore

@Suite(.serialized) struct FixMatchTests {
    /// −log softmax(row)[label], computed directly.
    static func ce(_ row: [Double], _ label: Int) -> Double {
        let m = row.max()!
        return -(row[label] - m - log(row.map { exp($0 - m) }.reduce(0, +)))
    }

    @Test func lossMasksByThresholdAndAveragesOverAllUnlabelled() {
        // Weak rows: [10,0,0] → p ≈ 0.99991 (in); [1,0,0] → e/(e+2) ≈ 0.576 (out);
        // [0,0,5] → e⁵/(e⁵+2) ≈ 0.9867 (in); [0,3,0] → e³/(e³+2) ≈ 0.909 (out).
        let weak = Tensor([10, 0, 0, 1, 0, 0, 0, 0, 5, 0, 3, 0], shape: [4, 3])
        let strongValues: [Float] = [0.5, 1, -1, 2, 0, 0, 1, 2, 0.5, -1, 0, 3]
        let strong = Tensor(strongValues, shape: [4, 3], requiresGrad: true)
        let labeled = Tensor([2, 1, 0, 0, 0, 1], shape: [2, 3], requiresGrad: true)
        let out = FixMatchLoss(threshold: 0.95)(labeledLogits: labeled, labels: [0, 2], weakLogits: weak, strongLogits: strong)
        #expect(out.mask == [true, false, true, false])
        #expect(out.pseudoLabels == [0, 0, 2, 1])
        #expect(out.maskRate == 0.5)
        let s = strongValues.map(Double.init)
        let expectedLu = (Self.ce(Array(s[0..<3]), 0) + Self.ce(Array(s[6..<9]), 2)) / 4   // divided by μB = 4, not by 2
        let expectedLx = (Self.ce([2, 1, 0], 0) + Self.ce([0, 0, 1], 2)) / 2
        #expect(abs(Double(out.unlabeled.item) - expectedLu) < 1e-5)
        #expect(abs(Double(out.labeled.item) - expectedLx) < 1e-5)
        #expect(abs(Double(out.total.item) - (expectedLx + expectedLu)) < 1e-5)
        out.total.backward()
        let g = strong.grad!
        // Rows left out by the mask get no gradient; kept rows get (softmax − onehot) / 4.
        #expect(g[3..<6].allSatisfy { $0 == 0 } && g[9..<12].allSatisfy { $0 == 0 })
        let row0 = s[0..<3].map { exp($0) }, z0 = row0.reduce(0, +)
        for j in 0..<3 { #expect(abs(Double(g[j]) - (row0[j] / z0 - (j == 0 ? 1 : 0)) / 4) < 1e-6) }
    }

    @Test func thresholdIsInclusiveAndTemperatureSharpens() {
        // [0, 0] gives exactly 0.5: kept at τ = 0.5 (≥, as torch's ge).
        let tie = FixMatchLoss(threshold: 0.5)
        let weak = Tensor([0, 0], shape: [1, 2]), strong = Tensor([1, 0], shape: [1, 2])
        let out = tie(labeledLogits: Tensor([0, 0], shape: [1, 2]), labels: [0], weakLogits: weak, strongLogits: strong)
        #expect(out.mask == [true] && out.pseudoLabels == [0])
        // [1, 0, 0]: 0.576 at T = 1, e²/(e²+2) = 0.787 at T = 0.5.
        let row = Tensor([1, 0, 0], shape: [1, 3])
        #expect(abs(Double(FixMatchLoss(temperature: 1).pseudoLabels(weakLogits: row).confidences[0]) - exp(1) / (exp(1) + 2)) < 1e-6)
        let sharp = FixMatchLoss(threshold: 0.7, temperature: 0.5)
        #expect(abs(Double(sharp.pseudoLabels(weakLogits: row).confidences[0]) - exp(2) / (exp(2) + 2)) < 1e-6)
        #expect(sharp(labeledLogits: row, labels: [0], weakLogits: row, strongLogits: row).mask == [true])
        #expect(FixMatchLoss(threshold: 0.7)(labeledLogits: row, labels: [0], weakLogits: row, strongLogits: row).mask == [false])
    }

    @Test func interleaveOrderAndRoundTrip() {
        // B = 2, s = 3: rows viewed as [[0,1,2],[3,4,5]] and transposed → 0,3,1,4,2,5.
        let x = Tensor((0..<12).map(Float.init), shape: [6, 2], requiresGrad: true)
        let y = FixMatchInterleave.interleave(x, groups: 3)
        #expect(y.shape == [6, 2])
        #expect(y.data == [0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11])
        let back = FixMatchInterleave.deInterleave(y, groups: 3)
        #expect(back.data == x.data)
        // Images: [15, 2, 2, 2] round-trips with the gradient intact.
        var rng = RNG(seed: 4)
        let images = Tensor.randn([15, 2, 2, 2], rng: &rng, requiresGrad: true)
        let roundTrip = FixMatchInterleave.deInterleave(FixMatchInterleave.interleave(images, groups: 5), groups: 5)
        #expect(roundTrip.shape == images.shape && roundTrip.data == images.data)
        let weights = Tensor.randn([15, 2, 2, 2], rng: &rng)
        (roundTrip * weights).sum().backward()
        #expect(images.grad! == weights.data)
        _ = x
    }

    @Test func emaAveragesParametersAndCopiesBuffers() throws {
        let model = BatchNorm2d(2), shadow = BatchNorm2d(2)
        model.weight!.data = [1, 2]
        let ema = try ModelEMA(model: model, shadow: shadow, decay: 0.9)
        #expect(shadow.weight!.data == [1, 2])
        model.weight!.data = [3, -2]
        model.runningMean.data = [0.5, 0.25]
        ema.update()
        // 0.9·[1, 2] + 0.1·[3, −2] = [1.2, 1.6]; running mean copied.
        #expect(abs(shadow.weight!.data[0] - 1.2) < 1e-6 && abs(shadow.weight!.data[1] - 1.6) < 1e-6)
        #expect(shadow.runningMean.data == [0.5, 0.25])
        ema.update()
        // 0.9·1.2 + 0.1·3 = 1.38
        #expect(abs(shadow.weight!.data[0] - 1.38) < 1e-6)
    }

    @Test func labelledSubsetIsBalancedSeededAndStreamed() throws {
        let root = try TinyCIFAR.make(classes: 3, trainPerClass: 6)
        defer { try? FileManager.default.removeItem(at: root) }
        func data(seed: Int) throws -> FixMatchData {
            let c = try Config(yaml: TinyCIFAR.config(root: root, output: root.appendingPathComponent("out")))
            return try FixMatchData(config: c, classCount: 3, seed: UInt64(seed), withUnlabeled: true)
        }
        let a = try data(seed: 3), b = try data(seed: 3), c = try data(seed: 4)
        #expect(a.labeled.count == 6 && Set(a.labeled).count == 6)
        for k in 0..<3 { #expect(a.labeled.filter { a.train.labels[$0] == k }.count == 2) }
        #expect(a.labeled == b.labeled)
        #expect(a.labeled != c.labeled)
        // 3 steps × 4 = 12 labelled draws = two passes over the 6: each labelled image twice.
        let (lb, ub) = a.trainBatches(epoch: 1, iterations: 3)
        #expect(lb.count == 3 && lb.allSatisfy { $0.count == 4 })
        let draws = lb.flatMap { $0 }
        #expect(Set(draws) == Set(a.labeled))
        for i in a.labeled { #expect(draws.filter { $0 == i }.count == 2) }
        // Unlabelled: every training image, 8 per step, in passes over all 18.
        #expect(ub.count == 3 && ub.allSatisfy { $0.count == 8 })
        #expect(Set(ub.flatMap { $0 }.prefix(18)).count == 18)
        #expect(a.trainBatches(epoch: 1, iterations: 3).labeled == lb)
        #expect(a.trainBatches(epoch: 2, iterations: 3).labeled != lb)
        // 4 per class does not fit a class of 6? It does; 7 does not.
        let tooMany = try Config(yaml: TinyCIFAR.config(root: root, output: root))
        try tooMany.apply(overrides: ["DataLoader.Train.dataset.sample_per_label=7"])
        #expect(throws: ConfigError.self) { try FixMatchData(config: tooMany, classCount: 3, seed: 0, withUnlabeled: true) }
    }

    @Test func interleavedStepEqualsPlainStep() throws {
        func make() throws -> (WideResNet, FixMatchStep) {
            Initializers.seed(11)
            let net = try WideResNet(depth: 10, widen: 1, options: ModelOptions(classNum: 3))
            let opt = SGD(groups: ParameterGroup.splitDecay(net.namedParameters(), weightDecay: 5e-4), learningRate: 0.03, momentum: 0.9, nesterov: true)
            return (net, FixMatchStep(model: net, optimizer: opt, loss: FixMatchLoss(threshold: 0.3), ema: nil))
        }
        var rng = RNG(seed: 2)
        let x = Tensor.randn([2, 3, 32, 32], rng: &rng), w = Tensor.randn([4, 3, 32, 32], rng: &rng), s = Tensor.randn([4, 3, 32, 32], rng: &rng)
        let (netA, a) = try make(), (netB, b) = try make()
        b.interleaves = false
        let ra = a(labeled: x, labels: [0, 2], weak: w, strong: s, unlabeledLabels: [0, 1, 2, 0])
        let rb = b(labeled: x, labels: [0, 2], weak: w, strong: s, unlabeledLabels: [0, 1, 2, 0])
        #expect(ra.images == 10)
        #expect(abs(ra.loss - rb.loss) < 1e-4 && abs(ra.unlabeledLoss - rb.unlabeledLoss) < 1e-4 && ra.maskRate == rb.maskRate)
        let pa = netA.namedParameters(), pb = netB.namedParameters()
        for ((_, ta), (_, tb)) in zip(pa, pb) {
            #expect(zip(ta.data, tb.data).allSatisfy { abs($0 - $1) < 1e-4 })
        }
        // A supervised step counts only the labelled images and leaves no gradients behind.
        let r = a(labeled: x, labels: [1, 1])
        #expect(r.images == 2 && r.unlabeledLoss == 0)
        #expect(netA.namedParameters().allSatisfy { $0.1.grad == nil })
    }

    @Test func trainerRunsChecksResumesAndEvaluatesEMA() throws {
        let root = try TinyCIFAR.make()
        let out = root.appendingPathComponent("out")
        defer { try? FileManager.default.removeItem(at: root) }
        let config = try Config(yaml: TinyCIFAR.config(root: root, output: out), path: "tiny.yaml")
        #expect(try FixMatchTrainer.handles(config))
        let trainer = try FixMatchTrainer(config: config, echo: false)
        let summary = try trainer.run()
        #expect(summary.steps == 4)
        let accuracy = try #require(summary.lastAccuracy)
        #expect((0...1).contains(accuracy["top1"]!) && accuracy["top2"]! >= accuracy["top1"]!)
        let latest = Checkpoint(path: summary.latestCheckpoint)
        let emaURL = FixMatchTrainer.emaURL(latest)
        #expect(FileManager.default.fileExists(atPath: emaURL.path))
        let live = try SafeTensors.read(latest.weightsURL).tensors, averaged = try SafeTensors.read(emaURL).tensors
        #expect(live["fc.weight"]!.data != averaged["fc.weight"]!.data)
        #expect(live["bn1.running_mean"]!.data == averaged["bn1.running_mean"]!.data)   // buffers copied
        let log = try String(contentsOf: out.appendingPathComponent("WideResNet10_1/train_log.jsonl"), encoding: .utf8)
        let trainLines = log.split(separator: "\n").filter { $0.contains("\"phase\":\"train\"") }
        #expect(trainLines.count == 4)
        for line in trainLines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            #expect((object["loss_u"] as! Double).isFinite && (0...1).contains(object["mask"] as! Double))
            #expect(object["pseudo_acc_all"] != nil && object["lr"] != nil)
        }
        #expect(log.contains("\"phase\":\"eval\"") && log.contains("\"top1\""))

        // Evaluating the saved EMA weights in a fresh model reproduces the trainer's last figure.
        let fresh = try FixMatchTrainer.buildModel(try Config(yaml: TinyCIFAR.config(root: root, output: out)))
        try fresh.model.loadSafeTensors(from: emaURL)
        let again = try FixMatchTrainer.evaluate(fresh.model, data: trainer.data, ks: [1, 2])
        #expect(again.named["top1"] == accuracy["top1"] && again.count == 6)

        // Resume: one more epoch continues the step count.
        let resumed = try Config(yaml: TinyCIFAR.config(root: root, output: out), path: "tiny.yaml")
        try resumed.apply(overrides: ["Global.checkpoints=\(summary.latestCheckpoint)", "Global.epochs=3"])
        #expect(try FixMatchTrainer(config: resumed, echo: false).run().steps == 6)
    }

    @Test func supervisedBaselineAndConfigErrors() throws {
        let root = try TinyCIFAR.make()
        let out = root.appendingPathComponent("out")
        defer { try? FileManager.default.removeItem(at: root) }
        let config = try Config(yaml: TinyCIFAR.config(root: root, output: out, mode: "supervised"), path: "sup.yaml")
        try config.apply(overrides: ["Global.epochs=1", "Global.eval_during_train=False"])
        let summary = try FixMatchTrainer(config: config, echo: false).run()
        #expect(summary.steps == 2 && summary.lastAccuracy == nil)
        let log = try String(contentsOf: out.appendingPathComponent("WideResNet10_1/train_log.jsonl"), encoding: .utf8)
        #expect(log.contains("\"loss_x\"") && !log.contains("\"loss_u\""))

        let typo = try Config(yaml: TinyCIFAR.config(root: root, output: out, extra: "SSl:\n  threshold: 0.9\n"))
        #expect(throws: ConfigError.self) { try FixMatchTrainer(config: typo, echo: false) }
        let badLabel = try Config(yaml: TinyCIFAR.config(root: root, output: out, classes: 2))
        do {
            _ = try FixMatchTrainer(config: badLabel, echo: false)
            Issue.record("accepted label 2 with 2 classes")
        } catch {
            #expect("\(error)".contains("label 2"))
        }
        let noUnlabeled = try Config(yaml: TinyCIFAR.config(root: root, output: out))
        try noUnlabeled.apply(overrides: ["DataLoader.UnLabelTrain=null"])
        #expect(throws: ConfigError.self) { try FixMatchTrainer(config: noUnlabeled, echo: false) }
        // Budget: a zero-second budget stops after the first step, evaluates and saves.
        let budget = try Config(yaml: TinyCIFAR.config(root: root, output: out))
        try budget.apply(overrides: ["Global.max_train_seconds=0"])
        let short = try FixMatchTrainer(config: budget, echo: false).run()
        #expect(short.steps == 1 && short.budgetReached && short.lastAccuracy != nil)
    }
    @Test func bnMomentumComesFromTheArchSection() throws {
        let root = try TinyCIFAR.make()
        defer { try? FileManager.default.removeItem(at: root) }
        func momenta(_ overrides: [String]) throws -> Set<Float> {
            let config = try Config(yaml: TinyCIFAR.config(root: root, output: root.appendingPathComponent("out")))
            try config.apply(overrides: overrides)
            let model = try FixMatchTrainer.buildModel(config).model
            return Set(model.namedModules().compactMap { ($0.1 as? BatchNorm2d)?.momentum })
        }
        #expect(try momenta([]) == [0.001])  // kekmodel's default
        #expect(try momenta(["Arch.bn_momentum=0.01"]) == [0.01])
        for bad in ["0", "1.5", "-0.1"] {
            #expect(throws: ConfigError.self) { try momenta(["Arch.bn_momentum=\(bad)"]) }
        }
    }

    @Test func shippedConfigsLoadWithoutUnknownKeys() throws {
        let root = try TinyCIFAR.make()
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../configs/ssl/FixMatch").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(files.count == 12)
        for file in files {
            var overrides = ["Global.output_dir=\(root.appendingPathComponent("out").path)", "Arch.num_classes=3",
                             "DataLoader.Train.dataset.sample_per_label=2"]
            for split in ["Train", "UnLabelTrain", "Eval"] where split != "UnLabelTrain" || file.hasPrefix("FixMatch") {
                overrides.append("DataLoader.\(split).dataset.data_file=\(root.path)")
            }
            let config = try Config(contentsOf: folder.appendingPathComponent(file).path, overrides: overrides)
            let trainer = try FixMatchTrainer(config: config, echo: false)
            #expect(trainer.mode == (file.hasPrefix("FixMatch") ? .fixmatch : .supervised), "\(file)")
            #expect(trainer.arch == (file.contains("cifar10") ? "WideResNet28_2" : "WideResNet10_2"), "\(file)")
            if file.contains("fashion_mnist") {
                // Labelled images per class as the file name says (40 / 250 / 4000 over 10 classes).
                let total = Int(file.split(separator: "_").last!.dropLast(5))!
                let raw = try Config(contentsOf: folder.appendingPathComponent(file).path)
                #expect(try raw.section("DataLoader").section("Train").section("dataset").int("sample_per_label") == total / 10, "\(file)")
            }
        }
    }
}
