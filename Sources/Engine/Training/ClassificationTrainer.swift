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
    public let trainingSchedule: TrainingSchedule
    let itersPerEpoch: Int
    var rng: RNG
    public let log: TrainLog
    public let parallel: DataParallel
    let parameters: [Tensor]
    /// The report of the last evaluation.
    private(set) var lastReport: ClassificationReport?

    /// `parallel`: the ranks of a data-parallel job; each trains on its share of every batch
    /// (BatchMixing mixes within that share) and the gradients are averaged by image count.
    public init(config: Config, echo: Bool = true, parallel: DataParallel = DataParallel()) throws {
        self.parallel = parallel
        self.config = config
        let global = config.section("Global")
        let trainingSchedule = try TrainingSchedule(config)
        self.trainingSchedule = trainingSchedule
        let seed = trainingSchedule.seed
        Initializers.seed(seed)
        rng = RNG(seed: seed &+ 0x6d69_7875_70)
        let epochs = trainingSchedule.epochs
        _ = try global.choice("eval_mode", ["classification"], default: "classification")
        let dataLoader = config.section("DataLoader")
        let trainSection = try dataLoader.section("Train")
        let train = try DataBuilder.split(trainSection, seed: seed, defaultIters: nil, training: true)
        self.train = train
        mixing = try BatchMixing.parse(try trainSection.section("dataset").namedList("batch_transform_ops"))
        itersPerEpoch = trainingSchedule.itersPerEpoch ?? train.sampler.batches(epoch: 0).count
        guard itersPerEpoch > 0 else {
            throw EngineError.config("\(config.path): DataLoader.Train gives no batches (\(train.dataset.count) images, batch size \(train.batchSize), drop_last)")
        }

        let built = try ClassifierBuilder.build(config)
        model = built.model
        teacher = built.teacher
        arch = built.arch
        classNum = built.classNum
        parameters = model.namedParameters().map(\.1)
        if let path = try global.string("pretrained_model") {
            try PretrainedWeights.load(path, into: model, fit: .exact, key: "Global.pretrained_model")
        }

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
        log = try TrainLog.forRank(parallel, directory: trainingSchedule.outputDirectory.appendingPathComponent(arch), echo: echo)
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
        let o = try TrainingLoop.run(self)
        return Summary(epochs: o.epochs, steps: o.steps, lastReport: lastReport, bestMetric: o.best, bestEpoch: o.bestEpoch,
                       bestCheckpoint: o.bestCheckpoint, latestCheckpoint: o.latestCheckpoint, wallSeconds: o.wallSeconds,
                       interrupted: o.interrupted, firstEpochLoss: o.firstEpochLoss, lastEpochLoss: o.lastEpochLoss)
    }
}

extension ClassificationTrainer: TrainingTask {
    var overview: String {
        "model \(arch): \(model.parameterCount) parameters, \(classNum) classes"
            + (teacher.map { " (teacher: \($0.parameterCount) parameters, frozen)" } ?? "")
            + "; train: \(train.dataset.count) images; \(itersPerEpoch) iterations × \(trainingSchedule.epochs) epochs"
    }

    /// The model and optimizer; the augmentation stream moves on by the steps already taken.
    func resume(from path: String) throws -> Checkpoint.State? {
        let (state, _) = try Checkpoint(path: path).load(model: model, optimizer: optimizer)
        rng = RNG(seed: rng.next() &+ UInt64(state?.step ?? 0))
        return state
    }

    func trainEpoch(_ epoch: Int, progress: inout TrainingProgress, step: inout Int) throws -> TrainingProgress.EpochEnd {
        try progress.runEpoch(epoch, of: train, iterations: itersPerEpoch, step: &step,
                              learningRate: { optimizer.applyLearningRate(at: $0, schedule: schedule, plateau: plateau) }) { batch, iter, _ in
            let (total, parts, logits) = loss(images: batch.images, labels: batch.labels)
            guard total.item.isFinite else {
                throw EngineError.data("the loss became \(total.item) at epoch \(epoch), iteration \(iter); lower Optimizer.lr.learning_rate")
            }
            total.backward()
            parallel.averageGradients(of: parameters, images: batch.labels.count)
            optimizer.step()
            optimizer.zeroGrad()
            var values = parts
            if trainTopK {
                var acc = TopKAccuracy(ks: [1])
                try acc.update(logits: logits.data, classes: classNum, labels: batch.labels)
                values.append(("top1", acc.accuracies[0]))
            }
            return parallel.mean(values)
        }
    }

    /// The config's metrics; the first (top-1, or TprAtFpr) chooses `best_model`.
    func evaluate(epoch: Int) throws -> TrainingEvaluation? {
        guard let evalSplit else { return nil }
        let report = try ClassificationEvaluator.evaluate(model: model, split: evalSplit, metrics: evalMetrics)
        lastReport = report
        follow(metric: report.primary)
        return TrainingEvaluation(metric: report.primary, named: report.named,
                                  lines: report.tpr.map { ["[Eval][Epoch \(epoch)][TprAtFpr]\($0.info)"] } ?? [])
    }

    func follow(metric: Double) {
        if let plateau { optimizer.learningRate = plateau.step(metric: metric) }
    }

    func save(_ name: String, state: Checkpoint.State) throws {
        let prefix = trainingSchedule.outputDirectory.appendingPathComponent(arch).appendingPathComponent(name)
        try Checkpoint(prefix: prefix).save(model: model, optimizer: optimizer, state: state, config: config.yaml)
    }
}
