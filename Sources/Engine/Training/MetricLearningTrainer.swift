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
    public let trainingSchedule: TrainingSchedule
    let itersPerEpoch: Int
    let rerank: Bool
    public let log: TrainLog
    public let parallel: DataParallel
    let parameters: [Tensor]
    /// The report of the last evaluation.
    private(set) var lastReport: EvaluationReport?

    /// `parallel`: the ranks of a data-parallel job; each embeds its share of every batch, and the
    /// loss and the memory see the whole batch (see `trainEpoch`).
    public init(config: Config, echo: Bool = true, parallel: DataParallel = DataParallel()) throws {
        self.parallel = parallel
        self.config = config
        let global = config.section("Global")
        let trainingSchedule = try TrainingSchedule(config)
        self.trainingSchedule = trainingSchedule
        let seed = trainingSchedule.seed
        Initializers.seed(seed)
        let epochs = trainingSchedule.epochs
        let train = try DataBuilder.split(try config.section("DataLoader").section("Train"), seed: seed,
                                          defaultIters: trainingSchedule.itersPerEpoch, training: true)
        self.train = train
        itersPerEpoch = trainingSchedule.itersPerEpoch ?? train.sampler.batches(epoch: 0).count
        rerank = try global.bool("re_ranking", default: false)
        _ = try global.choice("eval_mode", ["retrieval"], default: "retrieval")
        _ = try global.choice("retrieval_feature_from", ["features", "backbone"], default: "features")

        let built = try ModelBuilder.buildEmbedding(config)
        model = built.model
        arch = built.arch
        try MetricLearningTrainer.loadPretrained(config, into: model)
        parameters = model.namedParameters().map(\.1)

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
        log = try TrainLog.forRank(parallel, directory: trainingSchedule.outputDirectory.appendingPathComponent(arch), echo: echo)
    }

    /// Loads `Arch.Backbone.pretrained` (backbone only, matching keys) and `Global.pretrained_model` (whole model).
    static func loadPretrained(_ config: Config, into model: Layer) throws {
        try PretrainedWeights.loadBackbone(config, into: model)
        if let path = try config.section("Global").string("pretrained_model") {
            try PretrainedWeights.load(path, into: model, fit: .exact, key: "Global.pretrained_model")
        }
    }

    /// Trains for the configured epochs (resuming from `Global.checkpoints` when set).
    public func run() throws -> Summary {
        let o = try TrainingLoop.run(self)
        return Summary(epochs: o.epochs, steps: o.steps, lastReport: lastReport, bestMetric: o.best, bestCheckpoint: o.bestCheckpoint,
                       latestCheckpoint: o.latestCheckpoint, wallSeconds: o.wallSeconds, interrupted: o.interrupted)
    }

    /// Embeds the eval split and computes recall@k / mAP (query = gallery, self excluded).
    public func evaluate(_ split: DataBuilder.Split, epoch: Int) throws -> EvaluationReport {
        let result = try Embedder.embed(model: model, split: split)
        return try Embedder.evaluate(result, ks: ks, rerank: rerank ? KReciprocalReRanker() : nil)
    }

    func metrics(_ r: EvaluationReport) -> [(String, Double)] {
        r.recall.map { ("recall\($0.k)", $0.value) } + [("mAP", r.mAP), ("MAP@R", r.mapAtR)]
    }

}

extension MetricLearningTrainer: TrainingTask {
    var overview: String {
        "model \(arch): \(model.parameterCount) parameters; train: \(train.dataset.count) images, "
            + "\(train.dataset.classCount) classes; \(itersPerEpoch) iterations × \(trainingSchedule.epochs) epochs; loss \(lossName)"
    }

    /// The model, the optimizer and the cross-batch memory with its iteration count.
    func resume(from path: String) throws -> Checkpoint.State? {
        let (state, extra) = try Checkpoint(path: path).load(model: model, optimizer: optimizer)
        let memory = extra.filter { $0.key.hasPrefix("xbm.") }
        if !memory.isEmpty {
            try loss.memory.load(stateDict: Dictionary(uniqueKeysWithValues: memory.map { (String($0.key.dropFirst(4)), $0.value) }))
        }
        loss.setIteration(state?.step ?? 0)
        return state
    }

    /// Under data parallelism every rank computes the loss of the whole batch (its own features
    /// on the tape, the others' gathered as constants) and enqueues the whole batch, so the
    /// memory is the same on every rank; the backward pass gives each rank the exact gradient of
    /// that loss through its own images, and the sum over ranks is the single-process gradient.
    func trainEpoch(_ epoch: Int, progress: inout TrainingProgress, step: inout Int) throws -> TrainingProgress.EpochEnd {
        try progress.runEpoch(epoch, of: train, iterations: itersPerEpoch, step: &step,
                              learningRate: { optimizer.applyLearningRate(at: $0, schedule: schedule, plateau: plateau) }) { batch, _, _ in
            let features = parallel.gatherRows(model(batch.images))
            let (total, batchLoss, memoryLoss) = loss(features, labels: parallel.gather(batch.labels))
            total.backward()
            parallel.sumGradients(of: parameters)
            optimizer.step()
            optimizer.zeroGrad()
            var values: [(String, Double)] = [("loss", Double(total.item)), (batchLossKey, Double(batchLoss.item))]
            if let memoryLoss { values.append(("xbm_loss", Double(memoryLoss.item))) }
            return values
        }
    }

    /// Recall@k (the first k chooses `best_model`; mAP without ks) on the eval split.
    func evaluate(epoch: Int) throws -> TrainingEvaluation? {
        guard let evalSplit else { return nil }
        let report = try evaluate(evalSplit, epoch: epoch)
        lastReport = report
        let metric = report.recall(at: ks.first ?? 1) ?? report.mAP
        follow(metric: metric)
        return TrainingEvaluation(metric: metric, named: metrics(report))
    }

    func follow(metric: Double) {
        if let plateau { optimizer.learningRate = plateau.step(metric: metric) }
    }

    /// The cross-batch memory (features and labels).
    var stateFingerprints: [(String, Double)] {
        [("cross-batch memory", DataParallel.fingerprint(loss.memory.features) + Double(loss.memory.labels.reduce(0, +)))]
    }

    func save(_ name: String, state: Checkpoint.State) throws {
        let prefix = trainingSchedule.outputDirectory.appendingPathComponent(arch).appendingPathComponent(name)
        var extra: [String: Tensor] = [:]
        if usesMemory { for (k, v) in loss.memory.stateDict() { extra["xbm." + k] = v } }
        try Checkpoint(prefix: prefix).save(model: model, optimizer: optimizer, extraState: extra, state: state, config: config.yaml)
    }
}
