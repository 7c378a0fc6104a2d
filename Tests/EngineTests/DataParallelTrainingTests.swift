import Foundation
import TensorCore
import Testing
import TestSupport

/// `mpirun -np 2 magpie train` against one process with the same global batch: the same losses
/// step by step and the same weights, within float tolerance (sums over ranks add in another
/// order). XBM with its memory, synchronised BatchNorm, dropout off (each rank draws its own
/// dropout masks, so with dropout the runs differ by design).
@Suite("Data-parallel training over MPI", .serialized)
struct DataParallelTrainingTests {
    /// Runs `magpie train` with `ranks` processes (1: no mpirun) and returns the run's folder.
    static func train(_ config: URL, ranks: Int, output: URL, overrides: [String] = []) throws -> URL {
        var arguments = ["train", "-c", config.path, "-o", "Global.output_dir=\(output.path)"]
        for o in overrides { arguments += ["-o", o] }
        let run: MagpieBinary.Run
        if ranks == 1 {
            run = try MagpieBinary.run(arguments)
        } else {
            // Root in CI containers: OpenMPI refuses root unless told twice.
            setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1)
            setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1)
            run = try MagpieBinary.run(["-np", "\(ranks)", "--oversubscribe", MagpieBinary.url.path] + arguments,
                                       executable: URL(fileURLWithPath: "/usr/bin/mpirun"))
        }
        #expect(run.status == 0, "train with \(ranks) ranks failed: \(run.stderr.suffix(2000))")
        // The run's folder is <output_dir>/<arch>.
        let arch = try FileManager.default.contentsOfDirectory(atPath: output.path).first { !$0.hasPrefix(".") }
        return output.appendingPathComponent(arch ?? "missing")
    }

    /// Trains `yaml` on one process and on two ranks and expects the same losses at every step
    /// and the same weights.
    static func expectTwoRanksMatchOne(_ yaml: String, root: URL, steps: Int) throws {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let config = root.appendingPathComponent("config.yaml")
        try yaml.write(to: config, atomically: true, encoding: .utf8)
        let one = try train(config, ranks: 1, output: root.appendingPathComponent("np1"))
        let two = try train(config, ranks: 2, output: root.appendingPathComponent("np2"))
        let a = try losses(one), b = try losses(two)
        #expect(a.count == steps && Set(a.keys) == Set(b.keys))
        for (step, loss) in a {
            #expect(abs(loss - (b[step] ?? .nan)) <= 1e-4 * max(1, abs(loss)), "step \(step): \(loss) vs \(b[step] ?? .nan)")
        }
        #expect(try weightDifference(one, two) < weightTolerance)
    }

    /// (step, loss) of every training line in a run's train_log.jsonl.
    static func losses(_ folder: URL) throws -> [Int: Double] {
        let text = try String(contentsOf: folder.appendingPathComponent("train_log.jsonl"), encoding: .utf8)
        var out: [Int: Double] = [:]
        for line in text.split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            if object?["phase"] as? String == "train", let step = object?["step"] as? Int, let loss = object?["loss"] as? Double {
                out[step] = loss
            }
        }
        return out
    }

    /// The largest absolute difference between two checkpoints' tensors. Adam moves each weight
    /// by up to lr = 1e-3 a step, so after 6 steps 1e-4 is 1/60 of the largest possible move; a
    /// weight whose gradient is near zero can take a different Adam step on summation noise.
    static func weightDifference(_ a: URL, _ b: URL) throws -> Float {
        let x = try SafeTensors.read(a.appendingPathComponent("latest.safetensors"))
        let y = try SafeTensors.read(b.appendingPathComponent("latest.safetensors"))
        #expect(Set(x.tensors.keys) == Set(y.tensors.keys))
        var worst: Float = 0
        for (name, t) in x.tensors {
            guard let u = y.tensors[name] else { continue }
            worst = max(worst, zip(t.data, u.data).map { abs($0 - $1) }.max() ?? 0)
        }
        return worst
    }

    static let weightTolerance: Float = 1e-4

    static func setUp(syncBatchNorm: Bool = true) throws -> (config: URL, output: URL) {
        let root = try TinyDataset.make()
        let output = root.appendingPathComponent("runs")
        let yaml = TinyDataset.config(root: root, output: output, extra: "")
            .replacingOccurrences(of: "    name: PPLCNet_x0_25\n", with: "    name: PPLCNet_x0_25\n    dropout: 0.0\n")
            .replacingOccurrences(of: "  seed: 1\n", with: "  seed: 1\n  sync_batch_norm: \(syncBatchNorm)\n")
            // A schedule by step count, so a run cut to one epoch and resumed follows the same rates.
            .replacingOccurrences(of: "    name: Cosine\n", with: "    name: FixMatchCosine\n    total_steps: 6\n")
        let config = root.appendingPathComponent("xbm.yaml")
        try yaml.write(to: config, atomically: true, encoding: .utf8)
        return (config, output)
    }

    @Test func twoRanksMatchOneProcessWithTheSameGlobalBatch() throws {
        let (config, output) = try Self.setUp()
        try Self.expectTwoRanksMatchOne(try String(contentsOf: config, encoding: .utf8), root: output, steps: 6)
        // The memory is in play from the third step on, so its loss is part of what matched.
        let log = try String(contentsOf: output.appendingPathComponent("np2/RecModel/train_log.jsonl"), encoding: .utf8)
        #expect(log.contains("xbm_loss"))
    }

    /// Cross-entropy: each rank's mean over its half, weighted by its share of the images.
    /// Momentum SGD at 1e-3: at this config's Adam 1e-2 the tiny set trains unstably and
    /// amplifies summation noise (1e-6 at step 4, 1e-3 at step 6; one process against itself is
    /// bit-exact), so the runs would part for reasons that are not data parallelism.
    @Test func classificationTwoRanksMatchOneProcess() throws {
        let root = try TinyClassification.make()
        let yaml = TinyClassification.config(root: root, output: root, epochs: 2,
                                             arch: "  name: PPLCNet_x0_25\n  class_num: 10\n  dropout: 0.0")
            .replacingOccurrences(of: "  seed: 1\n", with: "  seed: 1\n  sync_batch_norm: true\n")
            .replacingOccurrences(of: "  name: Adam\n", with: "  name: Momentum\n  momentum: 0.9\n")
            .replacingOccurrences(of: "learning_rate: 0.01\n", with: "learning_rate: 0.001\n")
        try Self.expectTwoRanksMatchOne(yaml, root: root, steps: 6)
    }

    /// FixMatch: labelled and unlabelled batches both split; BatchNorm over the interleaved
    /// views of the whole batch; pseudo-labels, mask and EMA as on one process.
    @Test func fixMatchTwoRanksMatchOneProcess() throws {
        let root = try TinyCIFAR.make()
        let yaml = TinyCIFAR.config(root: root, output: root)
            .replacingOccurrences(of: "  seed: 3\n", with: "  seed: 3\n  sync_batch_norm: true\n")
        try Self.expectTwoRanksMatchOne(yaml, root: root, steps: 4)
    }

    /// The control: with BatchNorm statistics per rank (the default) each rank normalises by half
    /// the batch, so the runs part beyond the tolerances above.
    @Test func perRankBatchNormDiffersFromOneProcess() throws {
        let (config, output) = try Self.setUp(syncBatchNorm: false)
        let one = try Self.train(config, ranks: 1, output: output.appendingPathComponent("np1"))
        let two = try Self.train(config, ranks: 2, output: output.appendingPathComponent("np2"))
        let a = try Self.losses(one), b = try Self.losses(two)
        let gap = a.map { abs($0.value - (b[$0.key] ?? .nan)) }.max() ?? 0
        #expect(gap > 1e-3)
        #expect(try Self.weightDifference(one, two) > 10 * Self.weightTolerance)
    }

    @Test func resumesWithAnotherNumberOfRanks() throws {
        let (config, output) = try Self.setUp()
        let straight = try Self.train(config, ranks: 1, output: output.appendingPathComponent("straight"))
        let split = output.appendingPathComponent("split")
        let first = try Self.train(config, ranks: 2, output: split, overrides: ["Global.epochs=1"])
        _ = try Self.train(config, ranks: 1, output: split,
                           overrides: ["Global.checkpoints=\(first.appendingPathComponent("latest").path)"])
        #expect(try Self.weightDifference(straight, first) < Self.weightTolerance)
        let resumed = try Self.losses(first)
        #expect(resumed.keys.max() == 6)
    }

    /// A batch that cannot be split ends the job with one line naming the fix, not a hang.
    @Test func aBatchSmallerThanTheRanksIsAClearError() throws {
        let root = try TinyClassification.make()
        let config = root.appendingPathComponent("config.yaml")
        try TinyClassification.config(root: root, output: root, epochs: 1)
            .replacingOccurrences(of: "batch_size: 10\n", with: "batch_size: 1\n")
            .write(to: config, atomically: true, encoding: .utf8)
        setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1)
        setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1)
        let run = try MagpieBinary.run(["-np", "2", "--oversubscribe", MagpieBinary.url.path, "train", "-c", config.path],
                                       executable: URL(fileURLWithPath: "/usr/bin/mpirun"))
        #expect(run.status != 0)
        #expect(run.stderr.contains("a batch of 1 images cannot be split over 2 ranks; raise batch_size"), "\(run.stderr.prefix(1500))")
    }
}
