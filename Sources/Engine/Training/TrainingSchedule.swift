import Foundation

/// The `Global` keys every trainer reads, read once, with one set of defaults.
public struct TrainingSchedule: Sendable {
    /// `Global.seed` (0): weights, sampling and augmentation.
    public var seed: UInt64
    /// `Global.epochs` (1).
    public var epochs: Int
    /// `Global.iter_per_epoch`; nil: one pass of the training sampler (FixMatch, whose unlabelled
    /// stream has no end, takes 1024 then, its paper's epoch).
    public var itersPerEpoch: Int?
    /// `Global.print_batch_step` (10): a progress line every N iterations and at each epoch's end.
    public var printEvery: Int
    /// `Global.eval_during_train` (true), `eval_interval` (1), `start_eval_epoch` (0): evaluate every
    /// N epochs from that epoch on, and after the last.
    public var evalDuringTrain: Bool
    public var evalInterval: Int
    public var startEval: Int
    /// `Global.save_interval` (1): also keep `epoch_N` every N epochs when N > 1; `latest` and
    /// `best_model` are always written.
    public var saveInterval: Int
    /// `Global.max_train_seconds`: stop when this much step time has passed (then evaluate and save).
    public var maxSeconds: Double?
    /// `Global.output_dir` (./output/): checkpoints and `train_log.jsonl` go to `<output_dir>/<arch>/`.
    public var outputDirectory: URL
    /// `Global.checkpoints`: a checkpoint to resume from.
    public var resumeFrom: String?
    /// `Global.sync_batch_norm` (false): under `mpirun`, BatchNorm statistics over the whole batch
    /// (all ranks) instead of each rank's slice; no effect on one process.
    public var syncBatchNorm: Bool

    public init(_ config: Config) throws {
        let g = config.section("Global")
        seed = UInt64(try g.int("seed", default: 0))
        epochs = try g.int("epochs", default: 1)
        itersPerEpoch = try g.int("iter_per_epoch")
        printEvery = max(1, try g.int("print_batch_step", default: 10))
        evalDuringTrain = try g.bool("eval_during_train", default: true)
        evalInterval = max(1, try g.int("eval_interval", default: 1))
        startEval = try g.int("start_eval_epoch", default: 0)
        saveInterval = try g.int("save_interval", default: 1)
        maxSeconds = try g.double("max_train_seconds")
        outputDirectory = URL(fileURLWithPath: try g.string("output_dir", default: "./output/"))
        resumeFrom = try g.string("checkpoints")
        syncBatchNorm = try g.bool("sync_batch_norm", default: false)
        guard epochs > 0, itersPerEpoch.map({ $0 > 0 }) ?? true else {
            throw ConfigError.invalidValue(path: config.path, key: "Global.epochs", reason: "and Global.iter_per_epoch must be positive")
        }
        // PaddleClas keys with no effect here (devices, VisualDL, DALI, export settings).
        for key in ["device", "save_inference_dir", "use_visualdl", "use_dali", "to_static", "image_shape", "use_multilabel"] {
            g.ignore(key)
        }
    }

    /// Whether epoch `epoch` ends with an evaluation.
    func evaluates(after epoch: Int, budgetReached: Bool) -> Bool {
        evalDuringTrain && epoch >= startEval && (epoch % evalInterval == 0 || epoch == epochs || budgetReached)
    }
}
