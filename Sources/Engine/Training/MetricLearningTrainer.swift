import Datasets
import Foundation
import Models
import NN
import Retrieval
import TensorCore

/// Trains an embedding model with the contrastive loss and, optionally, XBM's cross-batch memory
/// (PaddleClas `eval_mode: retrieval` configs), evaluating recall@k / mAP on the test split.
public final class MetricLearningTrainer {
    public struct Summary {
        public var epochs: Int
        public var steps: Int
        public var lastReport: EvaluationReport?
        public var bestMetric: Double?
        public var bestCheckpoint: String?
        public var latestCheckpoint: String
        public var wallSeconds: Double
        public var interrupted: Bool
    }

    public let config: Config
    public let model: Layer
    public let arch: String
    let optimizer: Optimizer
    let schedule: (any LRSchedule)?
    let plateau: ReduceOnPlateau?
    let loss: XBMLoss
    let lossName: String
    let batchLossKey: String
    let usesMemory: Bool
    let train: DataBuilder.Split
    let evalSplit: DataBuilder.Split?
    let ks: [Int]
    let epochs: Int, itersPerEpoch: Int, printEvery: Int, evalInterval: Int, saveInterval: Int
    let evalDuringTrain: Bool
    let rerank: Bool
    let outputDirectory: URL
    let resumeFrom: String?
    public let log: TrainLog

    public init(config: Config, echo: Bool = true) throws {
        self.config = config
        let global = config.section("Global")
        let seed = UInt64(try global.int("seed", default: 0))
        Initializers.seed(seed)
        epochs = try global.int("epochs", default: 1)
        let train = try DataBuilder.split(try config.section("DataLoader").section("Train"), seed: seed,
                                          defaultIters: try global.int("iter_per_epoch"), training: true)
        self.train = train
        itersPerEpoch = try global.int("iter_per_epoch") ?? train.sampler.batches(epoch: 0).count
        printEvery = max(1, try global.int("print_batch_step", default: 10))
        evalInterval = max(1, try global.int("eval_interval", default: 1))
        saveInterval = max(1, try global.int("save_interval", default: 1))
        evalDuringTrain = try global.bool("eval_during_train", default: true)
        rerank = try global.bool("re_ranking", default: false)
        _ = try global.choice("eval_mode", ["retrieval"], default: "retrieval")
        _ = try global.choice("retrieval_feature_from", ["features", "backbone"], default: "features")
        _ = try global.string("device"); _ = try global.ints("image_shape"); _ = try global.string("save_inference_dir")
        _ = try global.bool("use_visualdl"); _ = try global.bool("use_dali")
        outputDirectory = URL(fileURLWithPath: try global.string("output_dir", default: "./output/"))
        resumeFrom = try global.string("checkpoints")

        let built = try ModelBuilder.buildEmbedding(config)
        model = built.model
        arch = built.arch
        try MetricLearningTrainer.loadPretrained(config, into: model)

        // Loss.Train: one pair loss, with or without the memory.
        let builtLoss = try MetricLossBuilder.build(config, embeddingSize: built.embeddingSize ?? 128)
        loss = builtLoss.loss
        lossName = builtLoss.name
        batchLossKey = builtLoss.batchKey
        usesMemory = builtLoss.usesMemory

        let opt = try OptimizerBuilder.build(config, parameters: model.namedParameters(), stepsPerEpoch: itersPerEpoch, epochs: epochs)
        optimizer = opt.optimizer
        schedule = opt.schedule
        plateau = opt.plateau

        let evalSection = try config.section("DataLoader").section("Eval")
        if evalSection.exists {
            evalSplit = try DataBuilder.split(InferenceModel.evalLoader(config), seed: seed, defaultIters: nil, training: false)
            evalSection.ignore("Query")
        } else {
            evalSplit = nil
        }
        var ks = [1, 5, 10]
        for (metric, params) in try config.section("Metric").namedList("Eval") {
            if metric == "Recallk" { ks = try params.ints("topk") ?? ks }
        }
        self.ks = ks
        config.section("Metric").ignore("Train")
        config.ignore("Infer"); config.ignore("IndexProcess")
        try config.checkUnknownKeys()
        log = try TrainLog(directory: outputDirectory.appendingPathComponent(arch), echo: echo)
    }

    /// Loads `Arch.Backbone.pretrained` (backbone only, matching keys) and `Global.pretrained_model` (whole model).
    static func loadPretrained(_ config: Config, into model: Layer) throws {
        let core = (model as? L2NormalizedOutput)?.inner ?? model
        if let rec = core as? RecModel, case let .string(path)? = try config.section("Arch").section("Backbone").raw("pretrained") {
            try PretrainedWeights.load(path, into: rec.backbone, fit: .modelTensors, key: "Arch.Backbone.pretrained")
        }
        if let path = try config.section("Global").string("pretrained_model") {
            try PretrainedWeights.load(path, into: model, fit: .exact, key: "Global.pretrained_model")
        }
    }

    /// Trains for the configured epochs (resuming from `Global.checkpoints` when set).
    public func run() throws -> Summary {
        let start = Date()
        var epoch = 1, step = 0
        var best: Double?, bestEpoch: Int?
        var lastReport: EvaluationReport?
        if let resumeFrom {
            let (state, extra) = try Checkpoint(path: resumeFrom).load(model: model, optimizer: optimizer)
            if let state { epoch = state.epoch + 1; step = state.step; best = state.bestMetric; bestEpoch = state.bestEpoch }
            let memory = extra.filter { $0.key.hasPrefix("xbm.") }
            if !memory.isEmpty {
                try loss.memory.load(stateDict: Dictionary(uniqueKeysWithValues: memory.map { (String($0.key.dropFirst(4)), $0.value) }))
            }
            loss.setIteration(step)
            log.line("resumed from \(resumeFrom) at epoch \(epoch - 1), step \(step)")
        }
        log.line("[Config] \(config.path)\n" + config.yaml)
        log.line("model \(arch): \(model.parameterCount) parameters; train: \(train.dataset.count) images, "
                 + "\(train.dataset.classCount) classes; \(itersPerEpoch) iterations × \(epochs) epochs; loss \(lossName)")
        let checkpointDir = outputDirectory.appendingPathComponent(arch)
        var latest = checkpointDir.appendingPathComponent("latest").path
        var bestPath: String?
        var interrupted = false
        var progress = TrainingProgress(log: log, epochs: epochs, totalSteps: epochs * itersPerEpoch, printEvery: printEvery)
        model.train()
        while epoch <= epochs && !interrupted {
            let batches = Array(train.sampler.batches(epoch: epoch).prefix(itersPerEpoch))
            let iterator = train.loader.makeIterator(batches: batches, epoch: epoch)
            interrupted = try !progress.runEpoch(epoch, iterator: iterator, iters: batches.count, step: &step,
                                                 learningRate: { optimizer.applyLearningRate(at: $0, schedule: schedule, plateau: plateau) }) { batch, _, _ in
                let features = model(batch.images)
                let (total, batchLoss, memoryLoss) = loss(features, labels: batch.labels)
                total.backward()
                optimizer.step()
                optimizer.zeroGrad()
                var values: [(String, Double)] = [("loss", Double(total.item)), (batchLossKey, Double(batchLoss.item))]
                if let memoryLoss { values.append(("xbm_loss", Double(memoryLoss.item))) }
                return values
            }
            progress.endEpoch(epoch)
            if interrupted {
                latest = try save("latest", epoch: epoch - 1, step: step, best: best, bestEpoch: bestEpoch)
                log.line("saved \(latest) (interrupted); resume with -o Global.checkpoints=\(latest)")
                break
            }
            if evalDuringTrain, let evalSplit, epoch % evalInterval == 0 || epoch == epochs {
                let report = try evaluate(evalSplit, epoch: epoch)
                lastReport = report
                let metric = report.recall(at: ks.first ?? 1) ?? report.mAP
                if let plateau { optimizer.learningRate = plateau.step(metric: metric) }
                if best == nil || metric > best! {
                    best = metric
                    bestEpoch = epoch
                    bestPath = try save("best_model", epoch: epoch, step: step, best: best, bestEpoch: bestEpoch)
                }
                log.eval(epoch: epoch, step: step, metrics: metrics(report), best: best)
            }
            latest = try save("latest", epoch: epoch, step: step, best: best, bestEpoch: bestEpoch)
            if epoch % saveInterval == 0 && saveInterval > 1 { _ = try save("epoch_\(epoch)", epoch: epoch, step: step, best: best, bestEpoch: bestEpoch) }
            epoch += 1
        }
        return Summary(epochs: epoch - 1, steps: step, lastReport: lastReport, bestMetric: best, bestCheckpoint: bestPath,
                       latestCheckpoint: latest, wallSeconds: Date().timeIntervalSince(start), interrupted: interrupted)
    }

    /// Embeds the eval split and computes recall@k / mAP (query = gallery, self excluded).
    public func evaluate(_ split: DataBuilder.Split, epoch: Int) throws -> EvaluationReport {
        let result = try Embedder.embed(model: model, split: split)
        return try Embedder.evaluate(result, ks: ks, rerank: rerank ? KReciprocalReRanker() : nil)
    }

    func metrics(_ r: EvaluationReport) -> [(String, Double)] {
        r.recall.map { ("recall\($0.k)", $0.value) } + [("mAP", r.mAP), ("MAP@R", r.mapAtR)]
    }

    func save(_ name: String, epoch: Int, step: Int, best: Double?, bestEpoch: Int?) throws -> String {
        let prefix = outputDirectory.appendingPathComponent(arch).appendingPathComponent(name)
        var extra: [String: Tensor] = [:]
        if usesMemory { for (k, v) in loss.memory.stateDict() { extra["xbm." + k] = v } }
        try Checkpoint(prefix: prefix).save(model: model, optimizer: optimizer, extraState: extra,
                                            state: .init(epoch: epoch, step: step, bestMetric: best, bestEpoch: bestEpoch, arch: arch),
                                            config: config.yaml)
        return prefix.path
    }
}
