import Datasets
import Foundation
import Testing
@testable import Engine
@testable import NN
@testable import TensorCore

/// Classification configs over TinyDataset's generated images (10 classes × 3 images).
enum TinyClassification {
    /// Writes `all.txt` (label = class) and `binary.txt` (label 1 for classes 0–2) list files.
    static func make() throws -> URL {
        let root = try TinyDataset.make()
        var all: [String] = [], binary: [String] = []
        for c in 0..<10 {
            for i in 0..<3 {
                all.append("images/c\(c)_\(i).jpg \(c)")
                binary.append("images/c\(c)_\(i).jpg \(c < 3 ? 1 : 0)")
            }
        }
        try (all.joined(separator: "\n") + "\n").write(to: root.appendingPathComponent("all.txt"), atomically: true, encoding: .utf8)
        try (binary.joined(separator: "\n") + "\n").write(to: root.appendingPathComponent("binary.txt"), atomically: true, encoding: .utf8)
        return root
    }

    static func config(root: URL, output: URL, list: String = "all.txt", classes: Int = 10, epochs: Int = 6,
                       arch: String? = nil, loss: String? = nil, metric: String? = nil, batchOps: String = "") -> String {
        let ops = """
                - DecodeImage:
                    to_rgb: True
                - ResizeImage:
                    size: 32
                - NormalizeImage:
                    scale: 1.0/255.0
                    mean: [0.5, 0.5, 0.5]
                    std: [0.5, 0.5, 0.5]
                    order: ''
                - ToCHWImage:
        """
        return """
        Global:
          output_dir: \(output.path)
          seed: 1
          epochs: \(epochs)
          print_batch_step: 1
          eval_interval: 2
          eval_mode: classification
        Arch:
        \(arch ?? "  name: PPLCNet_x0_25\n  class_num: \(classes)")
        Loss:
          Train:
        \(loss ?? "    - CELoss:\n        weight: 1.0\n        epsilon: 0.1")
          Eval:
            - CELoss:
                weight: 1.0
        Optimizer:
          name: Adam
          lr:
            name: Cosine
            learning_rate: 0.01
            warmup_epoch: 1
          regularizer:
            name: L2
            coeff: 0.00004
        DataLoader:
          Train:
            dataset:
              name: ImageNetDataset
              image_root: \(root.path)
              cls_label_path: \(root.appendingPathComponent(list).path)
              transform_ops:
        \(ops)
        \(batchOps)
            sampler:
              name: DistributedBatchSampler
              batch_size: 10
              drop_last: False
              shuffle: True
            loader:
              num_workers: 1
          Eval:
            dataset:
              name: ImageNetDataset
              image_root: \(root.path)
              cls_label_path: \(root.appendingPathComponent(list).path)
              transform_ops:
        \(ops)
            sampler:
              name: DistributedBatchSampler
              batch_size: 16
              shuffle: False
        Metric:
          Train:
            - TopkAcc:
                topk: [1, 5]
          Eval:
        \(metric ?? "    - TopkAcc:\n        topk: [1, 5]")
        Infer:
          batch_size: 4
          PostProcess:
            name: Topk
            topk: 3
        """
    }
}

@Suite(.serialized) struct ClassificationTrainerTests {
    @Test func trainsReducesLossCheckpointsAndResumes() async throws {
        let root = try TinyClassification.make()
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.appendingPathComponent("out")
        let config = try Config(yaml: TinyClassification.config(root: root, output: out, epochs: 20), path: "tiny_cls.yaml")
        let summary = try ClassificationTrainer(config: config, echo: false).run()
        #expect(summary.steps == 60)
        let first = try #require(summary.firstEpochLoss), last = try #require(summary.lastEpochLoss)
        #expect(last < first * 0.8, "loss \(first) → \(last)")
        let report = try #require(summary.lastReport)
        #expect(report.count == 30)
        let top1 = report.topk!.accuracies[0], top5 = report.topk!.accuracies[1]
        #expect((0...1).contains(top1) && top5 >= top1)
        #expect(summary.bestCheckpoint != nil)
        let log = try String(contentsOf: out.appendingPathComponent("PPLCNet_x0_25/train_log.jsonl"), encoding: .utf8)
        #expect(log.split(separator: "\n").filter { $0.contains("\"phase\":\"train\"") && $0.contains("\"top1\"") }.count == 60)
        #expect(log.contains("\"phase\":\"eval\""))

        // `magpie eval`'s path: reloading best_model reproduces the best metric.
        let reloaded = try ClassifierBuilder.build(try Config(yaml: TinyClassification.config(root: root, output: out)))
        try Checkpoint(path: summary.bestCheckpoint!).load(model: reloaded.model)
        let evalConfig = try Config(yaml: TinyClassification.config(root: root, output: out))
        let split = try DataBuilder.split(try evalConfig.section("DataLoader").section("Eval"), seed: 0, defaultIters: nil, training: false)
        let again = try ClassificationEvaluator.evaluate(model: reloaded.model, split: split, metrics: ClassificationMetrics())
        #expect(abs(again.primary - summary.bestMetric!) < 1e-9)

        // Resume continues the step count.
        let resumed = try Config(yaml: TinyClassification.config(root: root, output: out), path: "tiny_cls.yaml")
        try resumed.apply(overrides: ["Global.checkpoints=\(summary.latestCheckpoint)", "Global.epochs=21"])
        #expect(try ClassificationTrainer(config: resumed, echo: false).run().steps == 63)

        // Prediction through the library API: the Infer post-process, batches of the requested size.
        let classifier = try Classifier(config: try Config(yaml: TinyClassification.config(root: root, output: out)), weights: summary.bestCheckpoint)
        let paths = try ImageFiles.list(root.appendingPathComponent("images").path)
        #expect(paths.count == 30)
        var batches: [[Prediction]] = []
        for try await batch in classifier.predictions(for: Array(paths.prefix(10))) { batches.append(batch) }
        #expect(batches.map(\.count) == [4, 4, 2])
        let p = batches[0][0]
        #expect(p.classIDs.count == 3 && p.scores == p.scores.sorted(by: >) && p.labelNames.isEmpty)
        #expect(p.filename == paths[0])
        // Alone, the image gets the same prediction (up to float rounding of another batch size).
        let alone = try classifier.predict(paths: [paths[0]])[0]
        #expect(alone.filename == p.filename && alone.classIDs.count == 3)
        #expect(zip(alone.scores, p.scores).allSatisfy { abs($0 - $1) < 1e-4 })
        for (id, score) in zip(alone.classIDs, alone.scores) {
            if let j = p.classIDs.firstIndex(of: id) { #expect(abs(p.scores[j] - score) < 1e-4) }
        }
    }

    @Test func binaryTaskReportsTprAtFprAndMixupTrains() throws {
        let root = try TinyClassification.make()
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.appendingPathComponent("out")
        let text = TinyClassification.config(
            root: root, output: out, list: "binary.txt", classes: 2, epochs: 2,
            metric: "    - TprAtFpr:\n    - TopkAcc:\n        topk: [1, 2]",
            batchOps: "      batch_transform_ops:\n        - MixupOperator:\n            alpha: 0.2")
        let summary = try ClassificationTrainer(config: try Config(yaml: text, path: "binary.yaml"), echo: false).run()
        let report = try #require(summary.lastReport)
        let tpr = try #require(report.tpr)
        #expect(tpr.positives == 9 && tpr.negatives == 21)
        #expect(report.primaryKind == .tprAtFpr && report.primary == tpr.tpr)
        #expect(report.named.map(\.0) == ["TprAtFpr", "top1", "top2"])
        #expect(summary.lastEpochLoss!.isFinite)
    }

    @Test func distillsAStudentFromAFrozenTeacher() throws {
        let root = try TinyClassification.make()
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.appendingPathComponent("out")
        let teacherRun = try ClassificationTrainer(config: try Config(yaml: TinyClassification.config(root: root, output: out, epochs: 6)), echo: false).run()
        let teacherBefore = try SafeTensors.read(Checkpoint(path: teacherRun.latestCheckpoint).weightsURL).tensors
        let arch = """
          name: DistillationModel
          class_num: 10
          freeze_params_list: [True, False]
          models:
            - Teacher:
                name: PPLCNet_x0_25
                class_num: 10
                pretrained: \(teacherRun.latestCheckpoint)
            - Student:
                name: PPLCNet_x0_35
                class_num: 10
          infer_model_name: Student
        """
        let loss = "    - DistillationDMLLoss:\n        weight: 1.0\n        act: softmax\n        model_name_pairs: [[Student, Teacher]]"
        let config = try Config(yaml: TinyClassification.config(root: root, output: out.appendingPathComponent("distill"), epochs: 4, arch: arch, loss: loss))
        let trainer = try ClassificationTrainer(config: config, echo: false)
        let teacher = try #require(trainer.teacher)
        let split = try DataBuilder.split(try config.section("DataLoader").section("Eval"), seed: 0, defaultIters: nil, training: false)
        let before = try divergence(trainer.model, teacher, split)
        let summary = try trainer.run()
        #expect(summary.lastEpochLoss!.isFinite)
        // The student moved towards the teacher.
        let after = try divergence(trainer.model, teacher, split)
        #expect(after < before, "DML to the teacher \(before) → \(after)")
        // The teacher did not change; the checkpoint holds the student alone.
        for (k, v) in teacher.stateDict() { #expect(teacherBefore[k]?.data == v.data, "\(k) changed") }
        let saved = try SafeTensors.read(Checkpoint(path: summary.latestCheckpoint).weightsURL).tensors
        #expect(saved.count == trainer.model.stateDict().count)
        #expect(summary.latestCheckpoint.contains("PPLCNet_x0_35"))
    }

    /// Mean DML loss between two models' eval-mode outputs over a split.
    func divergence(_ a: Layer, _ b: Layer, _ split: DataBuilder.Split) throws -> Double {
        a.eval(); b.eval()
        defer { a.train() }
        var total = 0.0, count = 0
        let iterator = split.loader.makeIterator(batches: split.sampler.batches(epoch: 0))
        while let batch = try iterator.next() {
            let value = withNoGrad { DMLLoss()(a(batch.images), b(batch.images)).item }
            total += Double(value) * Double(batch.labels.count)
            count += batch.labels.count
        }
        return total / Double(count)
    }

    @Test func badConfigsFailBeforeTraining() throws {
        let root = try TinyClassification.make()
        defer { try? FileManager.default.removeItem(at: root) }
        let unknownLoss = TinyClassification.config(root: root, output: root, loss: "    - FocalLoss:\n        weight: 1.0")
        #expect(throws: ConfigError.self) { try ClassificationTrainer(config: try Config(yaml: unknownLoss), echo: false) }
        let dmlAlone = TinyClassification.config(root: root, output: root, loss: "    - DistillationDMLLoss:\n        weight: 1.0")
        #expect(throws: ConfigError.self) { try ClassificationTrainer(config: try Config(yaml: dmlAlone), echo: false) }
        let typo = try Config(yaml: TinyClassification.config(root: root, output: root))
        try typo.apply(overrides: ["Global.epochz=3"])
        #expect(throws: ConfigError.self) { try ClassificationTrainer(config: typo, echo: false) }
        let noTeacherWeights = TinyClassification.config(root: root, output: root, arch: """
          name: DistillationModel
          models:
            - Teacher:
                name: PPLCNet_x0_25
                class_num: 10
            - Student:
                name: PPLCNet_x0_25
                class_num: 10
        """)
        #expect(throws: ConfigError.self) { try ClassificationTrainer(config: try Config(yaml: noTeacherWeights), echo: false) }
    }
}

