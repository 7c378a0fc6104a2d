import Foundation
import TensorCore
import NN

/// What a trainer plugs into `TrainingLoop`: its steps, its evaluation and what its checkpoints
/// hold besides the model and optimizer.
protocol TrainingTask: AnyObject {
    var config: Config { get }
    var model: Layer { get }
    var arch: String { get }
    var log: TrainLog { get }
    var trainingSchedule: TrainingSchedule { get }
    var itersPerEpoch: Int { get }
    /// The ranks this trainer runs on (one process unless started by `mpirun`).
    var parallel: DataParallel { get }
    /// One line on the model, the data and the schedule, logged at the start.
    var overview: String { get }
    /// Loads a checkpoint to continue from (model, optimizer and the trainer's own state).
    func resume(from path: String) throws -> Checkpoint.State?
    /// Runs one epoch of steps, recording each in `progress`.
    func trainEpoch(_ epoch: Int, progress: inout TrainingProgress, step: inout Int) throws -> TrainingProgress.EpochEnd
    /// Evaluates the model; nil when the config has nothing to evaluate on. Rank 0 alone
    /// evaluates; the other ranks get the metric through `follow(metric:)`.
    func evaluate(epoch: Int) throws -> TrainingEvaluation?
    /// On ranks other than 0: what evaluating would have changed besides the log (the
    /// ReduceOnPlateau learning rate), from rank 0's metric.
    func follow(metric: Double)
    /// What besides the weights must be the same on every rank after each epoch, as
    /// fingerprints (XBM's memory); none by default.
    var stateFingerprints: [(String, Double)] { get }
    /// Writes a checkpoint under `<output_dir>/<arch>/<name>`.
    func save(_ name: String, state: Checkpoint.State) throws
}

extension TrainingTask {
    func follow(metric: Double) {}

    var stateFingerprints: [(String, Double)] { [] }
}

/// One evaluation: the metric that chooses `best_model` (higher is better), every value to log,
/// and extra log lines.
struct TrainingEvaluation {
    var metric: Double
    var named: [(String, Double)]
    var lines: [String] = []
}

/// The one training loop: resume, epochs of steps with progress lines, Ctrl-C (save `latest` and
/// stop), the time budget, periodic evaluation with `best_model`, `latest` after every epoch and
/// `epoch_N` every `save_interval` epochs.
enum TrainingLoop {
    struct Outcome {
        var epochs: Int
        var steps: Int
        var best: Double?
        var bestEpoch: Int?
        var bestCheckpoint: String?
        var latestCheckpoint: String
        var lastEvaluation: TrainingEvaluation?
        var interrupted: Bool
        var budgetReached: Bool
        var wallSeconds: Double
        /// Mean training loss of the first and the last epoch run.
        var firstEpochLoss: Double?
        var lastEpochLoss: Double?
    }

    static func run(_ task: TrainingTask) throws -> Outcome {
        try task.parallel.withBatchNorm(synchronised: task.trainingSchedule.syncBatchNorm) { try runEpochs(task) }
    }

    private static func runEpochs(_ task: TrainingTask) throws -> Outcome {
        let s = task.trainingSchedule, log = task.log, parallel = task.parallel
        let start = Date()
        var epoch = 1, step = 0
        var best: Double?, bestEpoch: Int?
        if let from = s.resumeFrom {
            if let state = try task.resume(from: from) {
                epoch = state.epoch + 1; step = state.step; best = state.bestMetric; bestEpoch = state.bestEpoch
            }
            log.line("resumed from \(from) at epoch \(epoch - 1), step \(step)")
        }
        log.line("[Config] \(task.config.path)\n" + task.config.yaml)
        log.line(task.overview)
        if parallel.isDistributed {
            log.line("data parallel over \(parallel.size) ranks (mpirun), \(Parallel.cores) threads each; each rank runs 1/\(parallel.size) of every batch; "
                     + "BatchNorm statistics \(s.syncBatchNorm ? "over the whole batch (sync_batch_norm)" : "per rank")")
        }
        let folder = s.outputDirectory.appendingPathComponent(task.arch)
        func save(_ name: String, epoch: Int) throws -> String {
            if parallel.isLeader {
                try task.save(name, state: .init(epoch: epoch, step: step, bestMetric: best, bestEpoch: bestEpoch, arch: task.arch))
            }
            return folder.appendingPathComponent(name).path
        }
        var latest = folder.appendingPathComponent("latest").path
        var bestPath: String?, lastEvaluation: TrainingEvaluation?
        var firstLoss: Double?, lastLoss: Double?
        var end = TrainingProgress.EpochEnd.completed
        var completed = epoch - 1
        var progress = TrainingProgress(log: log, epochs: s.epochs, totalSteps: s.epochs * task.itersPerEpoch,
                                        printEvery: s.printEvery, budget: s.maxSeconds, parallel: parallel)
        task.model.train()
        while epoch <= s.epochs {
            end = try task.trainEpoch(epoch, progress: &progress, step: &step)
            progress.endEpoch(epoch)
            if parallel.isDistributed {
                let weights = DataParallel.fingerprint(task.model.namedParameters().lazy.flatMap(\.1.data))
                try parallel.expectIdentical([("weights", weights)] + task.stateFingerprints)
            }
            if let l = progress.epochAverage("loss") { firstLoss = firstLoss ?? l; lastLoss = l }
            if end == .interrupted {
                latest = try save("latest", epoch: epoch - 1)
                log.line("saved \(latest) (interrupted); resume with -o Global.checkpoints=\(latest)")
                break
            }
            if end == .budgetReached { log.line(String(format: "time budget of %.0f s reached after %d steps", s.maxSeconds ?? 0, step)) }
            if s.evaluates(after: epoch, budgetReached: end == .budgetReached), let evaluation = try evaluate(task, epoch: epoch) {
                lastEvaluation = evaluation
                if best == nil || evaluation.metric > best! {
                    best = evaluation.metric
                    bestEpoch = epoch
                    bestPath = try save("best_model", epoch: epoch)
                }
                log.eval(epoch: epoch, step: step, trainSeconds: progress.trainSeconds, metrics: evaluation.named, best: best)
                for line in evaluation.lines { log.line(line) }
            }
            latest = try save("latest", epoch: epoch)
            if s.saveInterval > 1 && epoch % s.saveInterval == 0 { _ = try save("epoch_\(epoch)", epoch: epoch) }
            completed = epoch
            if end == .budgetReached { break }
            epoch += 1
        }
        if parallel.isDistributed {
            log.line(parallel.report(trainingSeconds: progress.trainSeconds))
        }
        return Outcome(epochs: completed, steps: step, best: best, bestEpoch: bestEpoch, bestCheckpoint: bestPath, latestCheckpoint: latest,
                       lastEvaluation: lastEvaluation, interrupted: end == .interrupted, budgetReached: end == .budgetReached,
                       wallSeconds: Date().timeIntervalSince(start), firstEpochLoss: firstLoss, lastEpochLoss: lastLoss)
    }

    /// Rank 0 evaluates; the others wait for its metric and follow it (nil on them: nothing to log).
    private static func evaluate(_ task: TrainingTask, epoch: Int) throws -> TrainingEvaluation? {
        let parallel = task.parallel
        let evaluation = parallel.isLeader ? try task.evaluate(epoch: epoch) : nil
        guard parallel.isDistributed else { return evaluation }
        let metric = parallel.fromLeader(evaluation?.metric ?? .nan)
        if !parallel.isLeader && !metric.isNaN { task.follow(metric: metric) }
        return evaluation
    }
}
