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
    let epochs: Int, itersPerEpoch: Int, printEvery: Int, evalInterval: Int, saveInterval: Int
    let evalDuringTrain: Bool
    let maxSeconds: Double?
    let outputDirectory: URL
    let resumeFrom: String?
    public let log: TrainLog

    /// Whether `config` asks for this trainer (`Global.train_mode` fixmatch or supervised).
    public static func handles(_ config: Config) throws -> Bool {
        guard let mode = try config.section("Global").string("train_mode") else { return false }
        return Mode(rawValue: mode) != nil
    }

    public init(config: Config, echo: Bool = true) throws {
        self.config = config
        let global = config.section("Global")
        mode = Mode(rawValue: try global.choice("train_mode", Mode.allCases.map(\.rawValue), default: "fixmatch"))!
        let seed = UInt64(try global.int("seed", default: 0))
        Initializers.seed(seed)
        epochs = try global.int("epochs", default: 1)
        itersPerEpoch = try global.int("iter_per_epoch", default: 1024)
        guard epochs > 0, itersPerEpoch > 0 else {
            throw ConfigError.invalidValue(path: config.path, key: "Global.epochs", reason: "and Global.iter_per_epoch must be positive")
        }
        printEvery = max(1, try global.int("print_batch_step", default: 20))
        evalInterval = max(1, try global.int("eval_interval", default: 1))
        saveInterval = try global.int("save_interval", default: -1)
        evalDuringTrain = try global.bool("eval_during_train", default: true)
        maxSeconds = try global.double("max_train_seconds")
        _ = try global.choice("eval_mode", ["classification"], default: "classification")
        _ = try global.string("device"); _ = try global.ints("image_shape"); _ = try global.string("save_inference_dir")
        _ = try global.bool("use_visualdl"); _ = try global.bool("use_dali")
        outputDirectory = URL(fileURLWithPath: try global.string("output_dir", default: "./output/"))
        resumeFrom = try global.string("checkpoints")

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

        var ks = [1, 5]
        for (metric, params) in try config.section("Metric").namedList("Eval") where metric == "TopkAcc" {
            ks = try params.ints("topk") ?? ks
        }
        self.ks = ks
        config.section("Metric").ignore("Train")
        config.ignore("Infer")
        try config.checkUnknownKeys()
        log = try TrainLog(directory: outputDirectory.appendingPathComponent(arch), echo: echo)
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
        let start = Date()
        var epoch = 1, stepCount = 0
        var best: Double?, bestEpoch: Int?
        if let resumeFrom {
            let checkpoint = Checkpoint(path: resumeFrom)
            let (state, _) = try checkpoint.load(model: model, optimizer: optimizer)
            if let state { epoch = state.epoch + 1; stepCount = state.step; best = state.bestMetric; bestEpoch = state.bestEpoch }
            if let ema {
                let url = FixMatchTrainer.emaURL(checkpoint)
                if FileManager.default.fileExists(atPath: url.path) {
                    try ema.shadow.loadSafeTensors(from: url)
                } else {
                    try ema.shadow.load(stateDict: Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.0, $0.1) }))
                    log.line("no EMA weights at \(url.path): the EMA restarts from the resumed model")
                }
            }
            log.line("resumed from \(resumeFrom) at epoch \(epoch - 1), step \(stepCount)")
        }
        log.line("[Config] \(config.path)\n" + config.yaml)
        let unlabeledNote = data.unlabeled.map { ", unlabelled \($0.count) images × \(data.unlabeledBatch) per step (weak + strong)" } ?? ""
        log.line("\(mode.rawValue): model \(arch) (\(model.parameterCount) parameters); labelled \(data.labeled.count) of \(data.train.count) "
                 + "images × \(data.labeledBatch) per step\(unlabeledNote); \(itersPerEpoch) iterations × \(epochs) epochs"
                 + (maxSeconds.map { String(format: "; budget %.0f s", $0) } ?? ""))
        var latest = outputDirectory.appendingPathComponent(arch).appendingPathComponent("latest").path
        var bestPath: String?
        var lastAccuracy: [String: Double]?
        var interrupted = false, budgetReached = false
        var progress = TrainingProgress(log: log, epochs: epochs, totalSteps: epochs * itersPerEpoch, printEvery: printEvery)
        var trainSeconds = 0.0
        model.train()
        while epoch <= epochs && !interrupted && !budgetReached {
            progress.startEpoch()
            let (labeledBatches, unlabeledBatches) = data.trainBatches(epoch: epoch, iterations: itersPerEpoch)
            let labeledIterator = data.labeledLoader.makeIterator(batches: labeledBatches, epoch: epoch)
            let unlabeledIterator = data.unlabeledLoader?.makeIterator(batches: unlabeledBatches, epoch: epoch)
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
                trainSeconds += cost
                var values: [(String, Double)] = [("loss", Double(r.loss)), ("loss_x", Double(r.labeledLoss))]
                if mode == .fixmatch {
                    values += [("loss_u", Double(r.unlabeledLoss)), ("mask", r.maskRate)]
                    if let a = r.pseudoLabelAccuracy { values.append(("pseudo_acc", a)) }
                    if let a = r.pseudoLabelAccuracyAll { values.append(("pseudo_acc_all", a)) }
                }
                if let maxSeconds, trainSeconds >= maxSeconds { budgetReached = true }
                progress.step(epoch: epoch, iter: iter, iters: labeledBatches.count, step: stepCount, lr: lr, values: values,
                              cost: cost, readerCost: readerCost, batchSize: r.images, forcePrint: budgetReached)
                if Interruption.shared.isRequested { interrupted = true; break }
                if budgetReached { break }
                readStart = Date()
            }
            progress.endEpoch(epoch)
            if interrupted {
                latest = try save("latest", epoch: epoch - 1, step: stepCount, best: best, bestEpoch: bestEpoch)
                log.line("saved \(latest) (interrupted); resume with -o Global.checkpoints=\(latest)")
                break
            }
            if budgetReached { log.line(String(format: "time budget of %.0f s reached after %d steps", maxSeconds ?? 0, stepCount)) }
            if evalDuringTrain, data.evalLoader != nil, epoch % evalInterval == 0 || epoch == epochs || budgetReached {
                let accuracy = try FixMatchTrainer.evaluate(evalModel, data: data, ks: ks)
                let named = accuracy.named
                lastAccuracy = named
                let top1 = accuracy.accuracies.first ?? 0
                if best == nil || top1 > best! {
                    best = top1
                    bestEpoch = epoch
                    bestPath = try save("best_model", epoch: epoch, step: stepCount, best: best, bestEpoch: bestEpoch)
                }
                log.eval(epoch: epoch, step: stepCount, metrics: ks.map { ("top\($0)", named["top\($0)"] ?? 0) }, best: best)
            }
            latest = try save("latest", epoch: epoch, step: stepCount, best: best, bestEpoch: bestEpoch)
            if saveInterval > 0 && epoch % saveInterval == 0 {
                _ = try save("epoch_\(epoch)", epoch: epoch, step: stepCount, best: best, bestEpoch: bestEpoch)
            }
            epoch += 1
        }
        return Summary(epochs: min(epoch, epochs), steps: stepCount, lastAccuracy: lastAccuracy, bestTop1: best, bestCheckpoint: bestPath,
                       latestCheckpoint: latest, wallSeconds: Date().timeIntervalSince(start), interrupted: interrupted,
                       budgetReached: budgetReached)
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

    /// The EMA weights (when there is an EMA) are written first, so the state file, written last
    /// by `Checkpoint.save`, marks a complete checkpoint.
    func save(_ name: String, epoch: Int, step: Int, best: Double?, bestEpoch: Int?) throws -> String {
        let checkpoint = Checkpoint(prefix: outputDirectory.appendingPathComponent(arch).appendingPathComponent(name))
        try FileManager.default.createDirectory(at: checkpoint.prefix.deletingLastPathComponent(), withIntermediateDirectories: true)
        if let ema {
            try ema.shadow.saveSafeTensors(to: FixMatchTrainer.emaURL(checkpoint),
                                           metadata: ["format": "magpie-ema", "arch": arch, "decay": String(ema.decay), "step": String(step)])
        }
        try checkpoint.save(model: model, optimizer: optimizer,
                            state: .init(epoch: epoch, step: step, bestMetric: best, bestEpoch: bestEpoch, arch: arch), config: config.yaml)
        return checkpoint.prefix.path
    }
}
