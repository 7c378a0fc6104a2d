import Datasets
import Foundation

/// The per-step bookkeeping both trainers share: running averages since the last print, the
/// epoch's averages, step times for the ETA, and the PaddleClas-shaped progress lines.
struct TrainingProgress {
    let log: TrainLog
    let epochs: Int
    let totalSteps: Int
    let printEvery: Int
    private var meters = AverageMeters()
    private var epochMeters = AverageMeters()
    private var stepTimes: [Double] = []
    private static let timing: Set<String> = ["batch_cost", "reader_cost"]

    init(log: TrainLog, epochs: Int, totalSteps: Int, printEvery: Int) {
        self.log = log; self.epochs = epochs; self.totalSteps = totalSteps; self.printEvery = max(1, printEvery)
    }

    mutating func startEpoch() { meters.reset(); epochMeters.reset() }

    /// Runs one epoch's batches: times reading and stepping, sets each step's learning rate from
    /// `learningRate(step)`, calls `trainStep(batch, iter, lr)` for the values to log, advances
    /// `step` and records progress. Returns false when Ctrl-C asked to stop (after that step).
    mutating func runEpoch(_ epoch: Int, iterator: LoaderIterator, iters: Int, step: inout Int,
                           learningRate: (Int) -> Float,
                           trainStep: (_ batch: Batch, _ iter: Int, _ lr: Float) throws -> [(String, Double)]) throws -> Bool {
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
            self.step(epoch: epoch, iter: iter, iters: iters, step: step, lr: lr, values: values,
                      cost: Date().timeIntervalSince(stepStart) + readerCost, readerCost: readerCost, batchSize: batch.labels.count)
            if Interruption.shared.isRequested { return false }
            readStart = Date()
        }
        return true
    }

    /// Records one step's values (losses, metrics) and timings; prints every `printEvery` iterations
    /// and at the epoch's last one.
    mutating func step(epoch: Int, iter: Int, iters: Int, step: Int, lr: Float, values: [(String, Double)],
                       cost: Double, readerCost: Double, batchSize: Int) {
        stepTimes.append(cost)
        if stepTimes.count > 50 { stepTimes.removeFirst(stepTimes.count - 50) }
        for (name, value) in values + [("batch_cost", cost), ("reader_cost", readerCost)] {
            meters.add(name, value); epochMeters.add(name, value)
        }
        guard iter % printEvery == 0 || iter == iters else { return }
        let avgCost = meters.average("batch_cost") ?? cost
        let eta = stepTimes.reduce(0, +) / Double(stepTimes.count) * Double(max(totalSteps - step, 0))
        log.train(epoch: epoch, epochs: epochs, iter: iter, iters: iters, step: step, lr: lr,
                  values: meters.averages.filter { !TrainingProgress.timing.contains($0.0) },
                  batchCost: avgCost, readerCost: meters.average("reader_cost") ?? 0,
                  ips: Double(batchSize) / avgCost, eta: eta)
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
