import Datasets
import Foundation
import TestSupport
@testable import Engine

/// A tiny SOP-format dataset of generated JPEGs (coloured shapes per class) in a temp folder.
enum TinyDataset {
    static func make(classes: Int = 10, perClass: Int = 3, side: Int = 24) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("magpie-tiny-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("images"), withIntermediateDirectories: true)
        var train = ["image_id class_id super_class_id path"], test = train
        var id = 1
        for c in 0..<classes {
            for i in 0..<perClass {
                var pixels = [UInt8](repeating: 255, count: side * side * 3)
                for y in 0..<side {
                    for x in 0..<side where (x / (2 + c % 3) + y / (2 + c / 3) + i) % 2 == 0 {
                        pixels[(y * side + x) * 3 + c % 3] = UInt8(40 * (c % 5))
                    }
                }
                let name = "images/c\(c)_\(i).jpg"
                let bytes = try JPEGEncoder.encode(Image(width: side, height: side, channels: 3, pixels: pixels), quality: 90)
                try Data(bytes).write(to: root.appendingPathComponent(name))
                let line = "\(id) \(c + 1) 1 \(name)"
                if c < classes / 2 { train.append(line) } else { test.append(line) }
                id += 1
            }
        }
        try (train.joined(separator: "\n") + "\n").write(to: root.appendingPathComponent("Ebay_train.txt"), atomically: true, encoding: .utf8)
        try (test.joined(separator: "\n") + "\n").write(to: root.appendingPathComponent("Ebay_test.txt"), atomically: true, encoding: .utf8)
        return root
    }

    static func config(root: URL, output: URL, extra: String = "") -> String {
        let ops = TinyRetrieval.evalOps(indent: 8)
        return """
        Global:
          output_dir: \(output.path)
          seed: 1
          epochs: 2
          iter_per_epoch: 3
          print_batch_step: 1
          eval_interval: 1
        \(TinyRetrieval.arch(dimension: 16))
        Loss:
          Train:
            - ContrastiveLoss_XBM:
                xbm_size: 32
                start_iter: 2
                margin: 0.5
        Optimizer:
          name: Adam
          lr:
            name: Cosine
            learning_rate: 0.001
        DataLoader:
          Train:
            dataset:
              name: SOP
              image_root: \(root.path)
              cls_label_path: \(root.appendingPathComponent("Ebay_train.txt").path)
              transform_ops:
        \(ops)
            sampler:
              name: DistributedRandomIdentitySampler
              batch_size: 8
              num_instances: 2
            loader:
              num_workers: 1
          Eval:
            Gallery:
              dataset:
                name: SOP
                image_root: \(root.path)
                cls_label_path: \(root.appendingPathComponent("Ebay_test.txt").path)
                transform_ops:
        \(ops)
              sampler:
                name: BatchSampler
                batch_size: 8
        Metric:
          Eval:
            - Recallk:
                topk: [1, 2]
        \(extra)
        """
    }
}
