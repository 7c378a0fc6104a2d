import Datasets
import Foundation
import Models
import NN
import TensorCore

/// Trains a classifier with FixMatch (`Global.train_mode: fixmatch`) or, for the baseline, on the
/// labelled subset alone (`Global.train_mode: supervised`), from a PaddleClas-shaped config
/// (configs/ssl/FixMatch/). Evaluates top-1/top-5 of the EMA model (the live model without an
/// `EMA` section) on `DataLoader.Eval`; checkpoints `latest` and `best_model` with the EMA weights
/// beside them (`<name>.ema.safetensors`); resumes from `Global.checkpoints`; stops cleanly on
/// Ctrl-C or after `Global.max_train_seconds` of training.
public final class FixMatchTrainer {
    public enum Mode: String, CaseIterable { case fixmatch, supervised }

    public struct Summary {
        public var epochs: Int
        public var steps: Int
        /// Top-k accuracies of the last evaluation ("top1", "top5").
        public var lastAccuracy: [String: Double]?
        public var bestTop1: Double?
        public var bestCheckpoint: String?
        public var latestCheckpoint: String
        public var wallSeconds: Double
        public var interrupted: Bool
        public var budgetReached: Bool
    }

    public let config: Config
    public let mode: Mode
    public let model: Layer
    /// The model evaluated and used for `best_model`: the EMA shadow, or `model` without EMA.
    public let evalModel: Layer
    public let arch: String
    public let data: FixMatchData
    let ema: ModelEMA?
    let optimizer: Optimizer
    let schedule: (any LRSchedule)?
    let step: FixMatchStep
    let ks: [Int]
    public let trainingSchedule: TrainingSchedule
    let itersPerEpoch: Int
    public let log: TrainLog
    public let parallel: DataParallel
    /// Top-k accuracies of the last evaluation.
    private(set) var lastAccuracy: [String: Double]?

    /// Whether `config` asks for this trainer (`Global.train_mode` fixmatch or supervised).
    public static func handles(_ config: Config) throws -> Bool {
        guard let mode = try config.section("Global").string("train_mode") else { return false }
        return Mode(rawValue: mode) != nil
    }

    /// `parallel`: the ranks of a data-parallel job (see `FixMatchStep.parallel`).
    public init(config: Config, echo: Bool = true, parallel: DataParallel = DataParallel()) throws {
        self.config = config
        self.parallel = parallel
        let global = config.section("Global")
        mode = Mode(rawValue: try global.choice("train_mode", Mode.allCases.map(\.rawValue), default: "fixmatch"))!
        let trainingSchedule = try TrainingSchedule(config)
        self.trainingSchedule = trainingSchedule
        let seed = trainingSchedule.seed
        Initializers.seed(seed)
        let epochs = trainingSchedule.epochs
        itersPerEpoch = trainingSchedule.itersPerEpoch ?? 1024
        _ = try global.choice("eval_mode", ["classification"], default: "classification")

        let built = try FixMatchTrainer.buildModel(config)
        model = built.model
        arch = built.arch
        try MetricLearningTrainer.loadPretrained(config, into: model)
        data = try FixMatchData(config: config, classCount: built.classes, seed: seed, withUnlabeled: mode == .fixmatch)

        let emaSection = config.section("EMA")
        if emaSection.exists {
            let shadow = try FixMatchTrainer.buildModel(config).model
            ema = try ModelEMA(model: model, shadow: shadow, decay: try emaSection.float("decay", default: 0.999))
            evalModel = shadow
        } else {
            ema = nil
            evalModel = model
        }

        let ssl = config.section("SSL")
        let temperature = try ssl.float("temperature") ?? ssl.float("tempture", default: 1)   // PaddleClas spells it "tempture"
        let loss = FixMatchLoss(threshold: try ssl.float("threshold", default: 0.95), temperature: temperature,
                                lambdaU: try FixMatchTrainer.crossEntropyWeight(config, "UnLabelLoss"))
        guard try FixMatchTrainer.crossEntropyWeight(config, "Loss") == 1 else {
            throw ConfigError.invalidValue(path: config.path, key: "Loss.Train.0.CELoss.weight", reason: "must be 1 (weight the unlabelled loss in UnLabelLoss)")
        }
        if mode == .supervised { config.ignore("SSL"); config.ignore("UnLabelLoss") }

        let opt = try OptimizerBuilder.build(config, parameters: model.namedParameters(), stepsPerEpoch: itersPerEpoch, epochs: epochs)
        guard opt.plateau == nil else {
            throw ConfigError.invalidValue(path: config.path, key: "Optimizer.lr.name", reason: "ReduceOnPlateau is not available for FixMatch; use FixMatchCosine")
        }
        optimizer = opt.optimizer
        schedule = opt.schedule
        step = FixMatchStep(model: model, optimizer: optimizer, loss: loss, ema: ema)
        step.parallel = parallel

        var ks = [1, 5]
        for (metric, params) in try config.section("Metric").namedList("Eval") where metric == "TopkAcc" {
            ks = try params.ints("topk") ?? ks
        }
        self.ks = ks
        config.section("Metric").ignore("Train")
        config.ignore("Infer")
        try config.checkUnknownKeys()
        log = try TrainLog.forRank(parallel, directory: trainingSchedule.outputDirectory.appendingPathComponent(arch), echo: echo)
    }

    /// `Arch` → classifier. PaddleClas's `{name: WideResNet, depth, widen_factor, dropout, num_classes}`
    /// or any zoo name with `class_num` (`WideResNet28_2`).
    public static func buildModel(_ config: Config) throws -> (model: Layer, arch: String, classes: Int) {
        let built = try ModelBuilder.build(config)
        guard let classes = built.classNum else {
            throw ConfigError.invalidValue(path: config.path, key: "Arch.name", reason: "must be a classifier (e.g. WideResNet28_2), not RecModel")
        }
        return (built.model, built.arch, classes)
    }

    /// The weight of the single `CELoss` entry of `<section>.Train` (1 when the section is absent).
    static func crossEntropyWeight(_ config: Config, _ section: String) throws -> Float {
        let s = config.section(section)
        s.ignore("Eval")
        let entries = try s.namedList("Train")
        if entries.isEmpty { return 1 }
        guard entries.count == 1, entries[0].name == "CELoss" else {
            throw ConfigError.invalidValue(path: config.path, key: "\(section).Train", reason: "FixMatch takes one CELoss entry, got \(entries.map(\.name))")
        }
        _ = try entries[0].params.choice("reduction", ["mean", "none"], default: "mean")
        return try entries[0].params.float("weight", default: 1)
    }

    /// Where the EMA weights of a checkpoint live.
    public static func emaURL(_ checkpoint: Checkpoint) -> URL { URL(fileURLWithPath: checkpoint.prefix.path + ".ema.safetensors") }

    public func run() throws -> Summary {
        let o = try TrainingLoop.run(self)
        return Summary(epochs: o.epochs, steps: o.steps, lastAccuracy: lastAccuracy, bestTop1: o.best, bestCheckpoint: o.bestCheckpoint,
                       latestCheckpoint: o.latestCheckpoint, wallSeconds: o.wallSeconds, interrupted: o.interrupted,
                       budgetReached: o.budgetReached)
    }

    /// Top-k accuracy of `model` (eval mode, no tape) on the config's eval split.
    public static func evaluate(_ model: Layer, data: FixMatchData, ks: [Int]) throws -> TopKAccuracy {
        guard let loader = data.evalLoader else { throw EngineError.config("no DataLoader.Eval section to evaluate on") }
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        var accuracy = TopKAccuracy(ks: ks)
        let iterator = loader.makeIterator(batches: data.evalBatches, epoch: 0)
        while let batch = try iterator.next() {
            let logits = withNoGrad { model(batch.images) }
            try accuracy.update(logits: logits.data, classes: logits.shape[1], labels: batch.labels)
        }
        return accuracy
    }

}

extension FixMatchTrainer: TrainingTask {
    var overview: String {
        let unlabeledNote = data.unlabeled.map { ", unlabelled \($0.count) images × \(data.unlabeledBatch) per step (weak + strong)" } ?? ""
        return "\(mode.rawValue): model \(arch) (\(model.parameterCount) parameters); labelled \(data.labeled.count) of \(data.train.count) "
            + "images × \(data.labeledBatch) per step\(unlabeledNote); \(itersPerEpoch) iterations × \(trainingSchedule.epochs) epochs"
            + (trainingSchedule.maxSeconds.map { String(format: "; budget %.0f s", $0) } ?? "")
    }

    /// The model, the optimizer and the EMA weights (restarted from the model when absent).
    func resume(from path: String) throws -> Checkpoint.State? {
        let checkpoint = Checkpoint(path: path)
        let (state, _) = try checkpoint.load(model: model, optimizer: optimizer)
        if let ema {
            let url = FixMatchTrainer.emaURL(checkpoint)
            if FileManager.default.fileExists(atPath: url.path) {
                try ema.shadow.loadSafeTensors(from: url)
            } else {
                try ema.shadow.load(stateDict: Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.0, $0.1) }))
                log.line("no EMA weights at \(url.path): the EMA restarts from the resumed model")
            }
        }
        return state
    }

    /// Labelled and (for FixMatch) unlabelled batches side by side, one step each.
    func trainEpoch(_ epoch: Int, progress: inout TrainingProgress, step stepCount: inout Int) throws -> TrainingProgress.EpochEnd {
        progress.startEpoch()
        let (labeledBatches, unlabeledBatches) = data.trainBatches(epoch: epoch, iterations: itersPerEpoch)
        let labeledIterator = try parallel.iterator(data.labeledLoader, batches: labeledBatches, epoch: epoch, what: "DataLoader.Train")
        let unlabeledIterator = try data.unlabeledLoader.map {
            try parallel.iterator($0, batches: unlabeledBatches, epoch: epoch, what: "DataLoader.UnLabelTrain")
        }
        var iter = 0
        var readStart = Date()
        while let labeled = try labeledIterator.next() {
            let unlabeled = try unlabeledIterator?.next()
            if unlabeledIterator != nil && unlabeled == nil { break }
            iter += 1
            let readerCost = Date().timeIntervalSince(readStart)
            let stepStart = Date()
            let lr = optimizer.applyLearningRate(at: stepCount, schedule: schedule, plateau: nil)
            let r = step(labeled: labeled.images, labels: labeled.labels, weak: unlabeled?.views[0], strong: unlabeled?.views[1],
                         unlabeledLabels: unlabeled?.labels)
            stepCount += 1
            let cost = Date().timeIntervalSince(stepStart) + readerCost
            var values: [(String, Double)] = [("loss", Double(r.loss)), ("loss_x", Double(r.labeledLoss))]
            if mode == .fixmatch {
                values += [("loss_u", Double(r.unlabeledLoss)), ("mask", r.maskRate)]
                if let a = r.pseudoLabelAccuracy { values.append(("pseudo_acc", a)) }
                if let a = r.pseudoLabelAccuracyAll { values.append(("pseudo_acc_all", a)) }
            }
            let budgetReached = progress.reachesBudget(adding: cost)
            progress.step(epoch: epoch, iter: iter, iters: labeledBatches.count, step: stepCount, lr: lr, values: parallel.mean(values),
                          cost: cost, readerCost: readerCost, batchSize: r.images, forcePrint: budgetReached)
            if let end = progress.end(budgetReached: budgetReached) { return end }
            readStart = Date()
        }
        return .completed
    }

    /// Top-k accuracy of the evaluated model (the EMA shadow when there is one); top-1 chooses `best_model`.
    func evaluate(epoch: Int) throws -> TrainingEvaluation? {
        guard data.evalLoader != nil else { return nil }
        let accuracy = try FixMatchTrainer.evaluate(evalModel, data: data, ks: ks)
        let named = accuracy.named
        lastAccuracy = named
        return TrainingEvaluation(metric: accuracy.accuracies.first ?? 0, named: ks.map { ("top\($0)", named["top\($0)"] ?? 0) })
    }

    /// The EMA weights (when there is an EMA) are written first, so the state file, written last
    /// by `Checkpoint.save`, marks a complete checkpoint.
    func save(_ name: String, state: Checkpoint.State) throws {
        let checkpoint = Checkpoint(prefix: trainingSchedule.outputDirectory.appendingPathComponent(arch).appendingPathComponent(name))
        try FileManager.default.createDirectory(at: checkpoint.prefix.deletingLastPathComponent(), withIntermediateDirectories: true)
        if let ema {
            try ema.shadow.saveSafeTensors(to: FixMatchTrainer.emaURL(checkpoint),
                                           metadata: ["format": "magpie-ema", "arch": arch, "decay": String(ema.decay), "step": String(state.step)])
        }
        try checkpoint.save(model: model, optimizer: optimizer, state: state, config: config.yaml)
    }
}
