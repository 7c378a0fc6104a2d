import Datasets
import Foundation
import NN

/// The per-step bookkeeping every trainer shares: running averages since the last print, the
/// epoch's averages, step times for the ETA, the time budget, and the PaddleClas-shaped progress lines.
struct TrainingProgress {
    /// How an epoch ended.
    enum EpochEnd: Equatable { case completed, interrupted, budgetReached }

    let log: TrainLog
    let epochs: Int
    let totalSteps: Int
    let printEvery: Int
    /// Step time (seconds, reading included) after which training stops; nil: no budget.
    let budget: Double?
    /// Step time spent so far.
    private(set) var trainSeconds = 0.0
    /// The ranks stepping together: stops are agreed, and ips counts the whole batch.
    let parallel: DataParallel
    private var meters = AverageMeters()
    private var epochMeters = AverageMeters()
    private var stepTimes: [Double] = []
    /// Recorded for the timing fields and ips, not printed as values.
    private static let timing: Set<String> = ["batch_cost", "reader_cost", "images"]

    init(log: TrainLog, epochs: Int, totalSteps: Int, printEvery: Int, budget: Double? = nil, parallel: DataParallel = DataParallel()) {
        self.log = log; self.epochs = epochs; self.totalSteps = totalSteps; self.printEvery = max(1, printEvery)
        self.budget = budget; self.parallel = parallel
    }

    /// How the epoch ends after this step, if it does: on Ctrl-C or when the time budget is
    /// spent, on any rank (every rank stops after the same step).
    func end(budgetReached: Bool) -> EpochEnd? {
        let stops = parallel.any([Interruption.shared.isRequested, budgetReached])
        return stops[0] ? .interrupted : stops[1] ? .budgetReached : nil
    }

    /// Whether a step costing `cost` more seconds reaches the budget.
    func reachesBudget(adding cost: Double) -> Bool { budget.map { trainSeconds + cost >= $0 } ?? false }

    mutating func startEpoch() { meters.reset(); epochMeters.reset() }

    /// Runs one epoch's batches: times reading and stepping, sets each step's learning rate from
    /// `learningRate(step)`, calls `trainStep(batch, iter, lr)` for the values to log, advances
    /// `step` and records progress. Stops after the step where Ctrl-C came or the budget ran out.
    mutating func runEpoch(_ epoch: Int, iterator: LoaderIterator, iters: Int, step: inout Int,
                           learningRate: (Int) -> Float,
                           trainStep: (_ batch: Batch, _ iter: Int, _ lr: Float) throws -> [(String, Double)]) throws -> EpochEnd {
        startEpoch()
        var iter = 0
        var readStart = Date()
        while let batch = try iterator.next() {
            iter += 1
            let readerCost = Date().timeIntervalSince(readStart)
            let stepStart = Date()
            let lr = learningRate(step)
            let values = try trainStep(batch, iter, lr)
            step += 1
            let cost = Date().timeIntervalSince(stepStart) + readerCost
            let budgetReached = reachesBudget(adding: cost)
            self.step(epoch: epoch, iter: iter, iters: iters, step: step, lr: lr, values: values,
                      cost: cost, readerCost: readerCost, batchSize: batch.labels.count, forcePrint: budgetReached)
            if let end = end(budgetReached: budgetReached) { return end }
            readStart = Date()
        }
        return .completed
    }

    /// `runEpoch` over the first `iterations` batches the split's sampler gives for `epoch` (this
    /// rank's share of each).
    mutating func runEpoch(_ epoch: Int, of split: DataBuilder.Split, iterations: Int, step: inout Int,
                           learningRate: (Int) -> Float,
                           trainStep: (_ batch: Batch, _ iter: Int, _ lr: Float) throws -> [(String, Double)]) throws -> EpochEnd {
        let batches = Array(split.sampler.batches(epoch: epoch).prefix(iterations))
        let iterator = try parallel.iterator(split.loader, batches: batches, epoch: epoch, what: "DataLoader.Train")
        return try runEpoch(epoch, iterator: iterator, iters: batches.count, step: &step, learningRate: learningRate, trainStep: trainStep)
    }

    /// Records one step's values (losses, metrics) and timings; prints every `printEvery` iterations
    /// and at the epoch's last one.
    /// `batchSize` is the images the step ran (for ips); `forcePrint` prints now (e.g. the last step of a time budget).
    mutating func step(epoch: Int, iter: Int, iters: Int, step: Int, lr: Float, values: [(String, Double)],
                       cost: Double, readerCost: Double, batchSize localBatch: Int, forcePrint: Bool = false) {
        let batchSize = localBatch * parallel.size
        trainSeconds += cost
        stepTimes.append(cost)
        if stepTimes.count > 50 { stepTimes.removeFirst(stepTimes.count - 50) }
        for (name, value) in values + [("batch_cost", cost), ("reader_cost", readerCost), ("images", Double(batchSize))] {
            meters.add(name, value); epochMeters.add(name, value)
        }
        guard iter % printEvery == 0 || iter == iters || forcePrint else { return }
        let avgCost = meters.average("batch_cost") ?? cost
        let eta = stepTimes.reduce(0, +) / Double(stepTimes.count) * Double(max(totalSteps - step, 0))
        log.train(epoch: epoch, epochs: epochs, iter: iter, iters: iters, step: step, lr: lr,
                  values: meters.averages.filter { !TrainingProgress.timing.contains($0.0) },
                  batchCost: avgCost, readerCost: meters.average("reader_cost") ?? 0,
                  ips: (meters.average("images") ?? Double(batchSize)) / avgCost, eta: eta)
        meters.reset()
    }

    /// `[Train][Epoch 3/35][Avg]loss: 0.41234, …`
    func endEpoch(_ epoch: Int) {
        log.line("[Train][Epoch \(epoch)/\(epochs)][Avg]" + epochMeters.averages
            .filter { !TrainingProgress.timing.contains($0.0) }
            .map { String(format: "%@: %.5f", $0.0 as NSString, $0.1) }.joined(separator: ", "))
    }

    /// The epoch's average of one value.
    func epochAverage(_ name: String) -> Double? { epochMeters.average(name) }
}

extension Optimizer {
    /// Sets `step`'s learning rate — the schedule's, else ReduceOnPlateau's current one, else the
    /// optimizer's own — and returns it.
    func applyLearningRate(at step: Int, schedule: (any LRSchedule)?, plateau: ReduceOnPlateau?) -> Float {
        learningRate = schedule?.learningRate(at: step) ?? plateau?.current ?? learningRate
        return learningRate
    }
}
