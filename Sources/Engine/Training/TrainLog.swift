import Foundation

/// Running averages since the last print (PaddleClas's AverageMeter), one per logged value.
public struct AverageMeters {
    private var sums: [String: Double] = [:]
    private var counts: [String: Int] = [:]
    private(set) var order: [String] = []

    public init() {}

    public mutating func add(_ name: String, _ value: Double, count: Int = 1) {
        if sums[name] == nil { order.append(name) }
        sums[name, default: 0] += value * Double(count)
        counts[name, default: 0] += count
    }

    public func average(_ name: String) -> Double? { counts[name].map { sums[name]! / Double(max($0, 1)) } }

    public var averages: [(String, Double)] { order.compactMap { n in average(n).map { (n, $0) } } }

    public mutating func reset() { sums = [:]; counts = [:]; order = [] }
}

/// Progress lines in PaddleClas's shape on stdout and one JSON object per line in
/// `<output_dir>/train_log.jsonl`.
public final class TrainLog {
    private let handle: FileHandle?
    public let url: URL?
    public var echo: Bool

    public init(directory: URL?, echo: Bool = true) throws {
        self.echo = echo
        if let directory {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let url = directory.appendingPathComponent("train_log.jsonl")
            if !FileManager.default.fileExists(atPath: url.path) { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
            handle = try FileHandle(forWritingTo: url)
            handle?.seekToEndOfFile()
            self.url = url
        } else {
            handle = nil
            url = nil
        }
    }

    deinit { try? handle?.close() }

    /// The log of a trainer on `parallel`'s rank: rank 0 writes `directory` and echoes; the
    /// other ranks stay silent.
    static func forRank(_ parallel: DataParallel, directory: URL, echo: Bool) throws -> TrainLog {
        try TrainLog(directory: parallel.isLeader ? directory : nil, echo: echo && parallel.isLeader)
    }

    /// `[Train][Epoch 3/35][Iter: 20/1000]lr: 0.00010000, loss: 0.41234, …, ips: 206.37913 samples/s, eta: 2:41:07`
    public func train(epoch: Int, epochs: Int, iter: Int, iters: Int, step: Int, lr: Float, values: [(String, Double)],
                      batchCost: Double, readerCost: Double, ips: Double, eta: Double) {
        let metrics = values.map { String(format: "%@: %.5f", $0.0 as NSString, $0.1) }.joined(separator: ", ")
        line(String(format: "[Train][Epoch %d/%d][Iter: %d/%d]lr: %.8f, ", epoch, epochs, iter, iters, lr) + metrics
             + String(format: ", batch_cost: %.5fs, reader_cost: %.5fs, ips: %.5f samples/s, eta: %@",
                      batchCost, readerCost, ips, TrainLog.clock(eta) as NSString))
        record(["phase": "train", "epoch": epoch, "iter": iter, "step": step, "lr": Double(lr), "batch_cost": batchCost,
                "reader_cost": readerCost, "ips": ips] .merging(Dictionary(uniqueKeysWithValues: values.map { ($0.0, $0.1 as Any) })) { a, _ in a })
    }

    /// `[Eval][Epoch 3][Avg]recall1: 0.81230, recall5: 0.93110, mAP: 0.61200`; the record also
    /// carries `train_seconds`, the step time spent so far (evaluations not counted), for curves
    /// of a metric against training time.
    public func eval(epoch: Int, step: Int, trainSeconds: Double? = nil, metrics: [(String, Double)], best: Double?) {
        line("[Eval][Epoch \(epoch)][Avg]" + metrics.map { String(format: "%@: %.5f", $0.0 as NSString, $0.1) }.joined(separator: ", "))
        if let best { line(String(format: "[Eval][Epoch %d][best metric: %.5f]", epoch, best)) }
        var fields: [String: Any] = ["phase": "eval", "epoch": epoch, "step": step]
        if let trainSeconds { fields["train_seconds"] = trainSeconds }
        record(fields.merging(Dictionary(uniqueKeysWithValues: metrics.map { ($0.0, $0.1 as Any) })) { a, _ in a })
    }

    public func line(_ text: String) {
        if echo { print(text); fflush(stdout) }
    }

    public func record(_ object: [String: Any]) {
        guard let handle, let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        handle.write(data)
        handle.write(Data("\n".utf8))
    }

    /// h:mm:ss.
    public static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "-:--:--" }
        let s = Int(seconds.rounded())
        return String(format: "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60)
    }
}
