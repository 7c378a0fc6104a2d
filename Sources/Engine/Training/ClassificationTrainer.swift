import Datasets
import Foundation
import Models
import NN
import TensorCore

/// Trains an image classifier from a PaddleClas `eval_mode: classification` config: cross-entropy
/// with label smoothing (`CELoss {epsilon}`), mixup/cutmix (`DataLoader.Train.dataset.batch_transform_ops`),
/// any `Optimizer` schedule with warmup, top-k / TprAtFpr evaluation every `eval_interval` epochs
/// from `start_eval_epoch`, best/latest checkpoints, resume and Ctrl-C. With `Arch.name:
/// DistillationModel` it trains the student against a frozen teacher with `DistillationDMLLoss`
/// (SKL-UGI, no labels needed) and/or `DistillationGTCELoss`.
public final class ClassificationTrainer {
    public struct Summary {
        public var epochs: Int
        public var steps: Int
        public var lastReport: ClassificationReport?
        public var bestMetric: Double?
        public var bestEpoch: Int?
        public var bestCheckpoint: String?
        public var latestCheckpoint: String
        public var wallSeconds: Double
        public var interrupted: Bool
        /// Mean training loss of the first and the last epoch run.
        public var firstEpochLoss: Double?
        public var lastEpochLoss: Double?
    }

    /// Weighted loss terms from `Loss.Train`.
    struct Losses {
        var crossEntropy: (weight: Float, epsilon: Float)?
        var dml: Float?
        var groundTruth: (weight: Float, epsilon: Float)?
    }

    public let config: Config
    /// The model being trained (the student of a distillation config).
    public let model: Layer
    public let teacher: Layer?
    public let arch: String
    public let classNum: Int
    let optimizer: Optimizer
    let schedule: (any LRSchedule)?
    let plateau: ReduceOnPlateau?
    let losses: Losses
    let mixing: [BatchMixing]
    let train: DataBuilder.Split
    let evalSplit: DataBuilder.Split?
    let evalMetrics: ClassificationMetrics
    let trainTopK: Bool
    let epochs: Int, itersPerEpoch: Int, printEvery: Int, evalInterval: Int, saveInterval: Int, startEval: Int
    let evalDuringTrain: Bool
    let outputDirectory: URL
    let resumeFrom: String?
    var rng: RNG
    public let log: TrainLog

    public init(config: Config, echo: Bool = true) throws {
        self.config = config
        let global = config.section("Global")
        let seed = UInt64(try global.int("seed", default: 0))
        Initializers.seed(seed)
        rng = RNG(seed: seed &+ 0x6d69_7875_70)
        epochs = try global.int("epochs", default: 1)
        _ = try global.choice("eval_mode", ["classification"], default: "classification")
        let dataLoader = config.section("DataLoader")
        let trainSection = try dataLoader.section("Train")
        let train = try DataBuilder.split(trainSection, seed: seed, defaultIters: nil, training: true)
        self.train = train
        mixing = try BatchMixing.parse(try trainSection.section("dataset").namedList("batch_transform_ops"))
        itersPerEpoch = try global.int("iter_per_epoch") ?? train.sampler.batches(epoch: 0).count
        guard itersPerEpoch > 0 else {
            throw EngineError.config("\(config.path): DataLoader.Train gives no batches (\(train.dataset.count) images, batch size \(train.batchSize), drop_last)")
        }
        printEvery = max(1, try global.int("print_batch_step", default: 10))
        evalInterval = max(1, try global.int("eval_interval", default: 1))
        saveInterval = max(1, try global.int("save_interval", default: 1))
        startEval = try global.int("start_eval_epoch", default: 0)
        evalDuringTrain = try global.bool("eval_during_train", default: true)
        outputDirectory = URL(fileURLWithPath: try global.string("output_dir", default: "./output/"))
        resumeFrom = try global.string("checkpoints")
        for key in ["device", "save_inference_dir", "use_visualdl", "use_dali", "to_static", "image_shape", "use_multilabel"] {
            global.ignore(key)
        }

        let built = try ClassifierBuilder.build(config)
        model = built.model
        teacher = built.teacher
        arch = built.arch
        classNum = built.classNum
        if let path = try global.string("pretrained_model") { try Checkpoint(path: path).load(model: model) }

        losses = try ClassificationTrainer.parseLosses(config, distillation: built.teacher != nil)
        let opt = try OptimizerBuilder.build(config, parameters: model.namedParameters(), stepsPerEpoch: itersPerEpoch, epochs: epochs)
        optimizer = opt.optimizer
        schedule = opt.schedule
        plateau = opt.plateau

        let evalSection = try dataLoader.section("Eval")
        evalSplit = evalSection.exists ? try DataBuilder.split(evalSection, seed: seed, defaultIters: nil, training: false) : nil
        evalMetrics = try ClassificationMetrics.parse(config, key: "Eval")
        trainTopK = try config.section("Metric").namedList("Train").contains { $0.name.hasSuffix("TopkAcc") } && mixing.isEmpty
        config.section("Metric").ignore("Train")
        config.section("Loss").ignore("Eval")
        config.ignore("Infer")
        try config.checkUnknownKeys()
        log = try TrainLog(directory: outputDirectory.appendingPathComponent(arch), echo: echo)
    }

    static func parseLosses(_ config: Config, distillation: Bool) throws -> Losses {
        var losses = Losses()
        let entries = try config.section("Loss").namedList("Train")
        guard !entries.isEmpty else { throw ConfigError.missing(path: config.path, key: "Loss.Train") }
        for (name, p) in entries {
            let weight = try p.float("weight", default: 1)
            switch name {
            case "CELoss":
                losses.crossEntropy = (weight, try p.float("epsilon", default: 0))
            case "DistillationGTCELoss":
                _ = try p.string("key")
                p.ignore("model_names")
                losses.groundTruth = (weight, try p.float("epsilon", default: 0))
            case "DistillationDMLLoss", "DMLLoss":
                _ = try p.choice("act", ["softmax"], default: "softmax")
                _ = try p.string("key")
                if let pairs = p.raw("model_name_pairs"), pairs != .list([.list([.string("Student"), .string("Teacher")])]) {
                    throw ConfigError.invalidValue(path: config.path, key: p.full("model_name_pairs"), reason: "only [[\"Student\", \"Teacher\"]] is supported")
                }
                losses.dml = weight
            default:
                throw ConfigError.invalidValue(path: config.path, key: "Loss.Train",
                                               reason: "unknown classification loss '\(name)' (known: CELoss, DistillationDMLLoss, DistillationGTCELoss)")
            }
            if name.hasPrefix("Distillation") || name == "DMLLoss", !distillation {
                throw ConfigError.invalidValue(path: config.path, key: "Loss.Train", reason: "\(name) needs Arch.name: DistillationModel")
            }
        }
        if distillation && losses.dml == nil && losses.groundTruth == nil && losses.crossEntropy == nil {
            throw ConfigError.missing(path: config.path, key: "Loss.Train (a distillation loss)")
        }
        return losses
    }

    /// The loss of one batch and its named parts.
    func loss(images: Tensor, labels: [Int]) -> (total: Tensor, parts: [(String, Double)], logits: Tensor) {
        var input = images
        var targets: Tensor?
        for op in mixing {
            let mixed = op.apply(images: input, labels: labels, classes: classNum, rng: &rng)
            input = mixed.images
            targets = mixed.targets
        }
        let logits = model(input)
        var terms: [(String, Tensor)] = []
        func crossEntropyTerm(_ epsilon: Float) -> Tensor {
            guard var t = targets else { return crossEntropy(logits, labels: labels, labelSmoothing: epsilon) }
            if epsilon > 0 { t = Tensor(shape: t.shape, data: t.data.map { (1 - epsilon) * $0 + epsilon / Float(classNum) }) }
            return crossEntropy(logits, targets: t)
        }
        if let ce = losses.crossEntropy { terms.append(("CELoss", crossEntropyTerm(ce.epsilon) * ce.weight)) }
        if let gt = losses.groundTruth { terms.append(("DistillationGTCELoss", crossEntropyTerm(gt.epsilon) * gt.weight)) }
        if let w = losses.dml, let teacher {
            let teacherLogits = withNoGrad { teacher(input) }
            terms.append(("DistillationDMLLoss", DMLLoss()(logits, teacherLogits.detached()) * w))
        }
        var total = terms[0].1
        for term in terms.dropFirst() { total = total + term.1 }
        var parts: [(String, Double)] = [("loss", Double(total.item))]
        if terms.count > 1 { parts += terms.map { ($0.0, Double($0.1.item)) } }
        return (total, parts, logits)
    }

    /// Trains for the configured epochs (resuming from `Global.checkpoints` when set).
    public func run() throws -> Summary {
        let start = Date()
        var epoch = 1, step = 0
        var best: Double?, bestEpoch: Int?
        var lastReport: ClassificationReport?
        if let resumeFrom {
            let (state, _) = try Checkpoint(path: resumeFrom).load(model: model, optimizer: optimizer)
            if let state { epoch = state.epoch + 1; step = state.step; best = state.bestMetric; bestEpoch = state.bestEpoch }
            rng = RNG(seed: rng.next() &+ UInt64(step))
            log.line("resumed from \(resumeFrom) at epoch \(epoch - 1), step \(step)")
        }
        log.line("[Config] \(config.path)\n" + config.yaml)
        log.line("model \(arch): \(model.parameterCount) parameters, \(classNum) classes"
                 + (teacher.map { " (teacher: \($0.parameterCount) parameters, frozen)" } ?? "")
                 + "; train: \(train.dataset.count) images; \(itersPerEpoch) iterations × \(epochs) epochs")
        var latest = outputDirectory.appendingPathComponent(arch).appendingPathComponent("latest").path
        var bestPath: String?
        var interrupted = false
        var firstLoss: Double?, lastLoss: Double?
        var progress = TrainingProgress(log: log, epochs: epochs, totalSteps: epochs * itersPerEpoch, printEvery: printEvery)
        model.train()
        while epoch <= epochs && !interrupted {
            let batches = Array(train.sampler.batches(epoch: epoch).prefix(itersPerEpoch))
            let iterator = train.loader.makeIterator(batches: batches, epoch: epoch)
            interrupted = try !progress.runEpoch(epoch, iterator: iterator, iters: batches.count, step: &step,
                                                 learningRate: applyLearningRate) { batch, iter, _ in
                let (total, parts, logits) = loss(images: batch.images, labels: batch.labels)
                guard total.item.isFinite else {
                    throw EngineError.data("the loss became \(total.item) at epoch \(epoch), iteration \(iter); lower Optimizer.lr.learning_rate")
                }
                total.backward()
                optimizer.step()
                optimizer.zeroGrad()
                var values = parts
                if trainTopK {
                    var acc = TopKAccuracy(ks: [1])
                    try acc.update(logits: logits.data, classes: classNum, labels: batch.labels)
                    values.append(("top1", acc.accuracies[0]))
                }
                return values
            }
            progress.endEpoch(epoch)
            if let l = progress.epochAverage("loss") { firstLoss = firstLoss ?? l; lastLoss = l }
            if interrupted {
                latest = try save("latest", epoch: epoch - 1, step: step, best: best, bestEpoch: bestEpoch)
                log.line("saved \(latest) (interrupted); resume with -o Global.checkpoints=\(latest)")
                break
            }
            if evalDuringTrain, let evalSplit, epoch >= startEval, epoch % evalInterval == 0 || epoch == epochs {
                let report = try ClassificationEvaluator.evaluate(model: model, split: evalSplit, metrics: evalMetrics)
                lastReport = report
                let metric = report.primary
                if let plateau { optimizer.learningRate = plateau.step(metric: metric) }
                if best == nil || metric > best! {
                    best = metric
                    bestEpoch = epoch
                    bestPath = try save("best_model", epoch: epoch, step: step, best: best, bestEpoch: bestEpoch)
                }
                log.eval(epoch: epoch, step: step, metrics: report.named, best: best)
                if let tpr = report.tpr { log.line("[Eval][Epoch \(epoch)][TprAtFpr]\(tpr.info)") }
            }
            latest = try save("latest", epoch: epoch, step: step, best: best, bestEpoch: bestEpoch)
            if epoch % saveInterval == 0 && saveInterval > 1 { _ = try save("epoch_\(epoch)", epoch: epoch, step: step, best: best, bestEpoch: bestEpoch) }
            epoch += 1
        }
        return Summary(epochs: epoch - 1, steps: step, lastReport: lastReport, bestMetric: best, bestEpoch: bestEpoch, bestCheckpoint: bestPath,
                       latestCheckpoint: latest, wallSeconds: Date().timeIntervalSince(start), interrupted: interrupted,
                       firstEpochLoss: firstLoss, lastEpochLoss: lastLoss)
    }

    /// The learning rate of `step` (schedule, else ReduceOnPlateau's, else the optimizer's), set on the optimizer.
    func applyLearningRate(step: Int) -> Float {
        optimizer.learningRate = schedule?.learningRate(at: step) ?? plateau?.current ?? optimizer.learningRate
        return optimizer.learningRate
    }

    func save(_ name: String, epoch: Int, step: Int, best: Double?, bestEpoch: Int?) throws -> String {
        let prefix = outputDirectory.appendingPathComponent(arch).appendingPathComponent(name)
        try Checkpoint(prefix: prefix).save(model: model, optimizer: optimizer,
                                            state: .init(epoch: epoch, step: step, bestMetric: best, bestEpoch: bestEpoch, arch: arch),
                                            config: config.yaml)
        return prefix.path
    }
}
