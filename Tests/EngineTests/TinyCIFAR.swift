import Foundation

/// A tiny CIFAR-10-format dataset written to a temp folder: `classes` colours, each image a
/// noisy flat colour (learnable), spread over the five train batch files and one test file.
enum TinyCIFAR {
    static func make(classes: Int = 3, trainPerClass: Int = 6, testPerClass: Int = 2) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("magpie-cifar-\(UUID().uuidString)")
        let dir = root.appendingPathComponent("cifar-10-batches-bin")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var seed: UInt32 = 7
        func record(_ label: Int) -> [UInt8] {
            var bytes = [UInt8(label)]
            for channel in 0..<3 {
                let base = channel == label % 3 ? 200 : 40
                for _ in 0..<1024 {
                    seed = seed &* 1_664_525 &+ 1_013_904_223
                    bytes.append(UInt8(base + Int(seed >> 27)))
                }
            }
            return bytes
        }
        var train = [[UInt8]](repeating: [], count: 5)
        var n = 0
        for i in 0..<trainPerClass { for c in 0..<classes { train[n % 5] += record(c); n += 1; _ = i } }
        for (i, bytes) in train.enumerated() { try Data(bytes).write(to: dir.appendingPathComponent("data_batch_\(i + 1).bin")) }
        var test: [UInt8] = []
        for _ in 0..<testPerClass { for c in 0..<classes { test += record(c) } }
        try Data(test).write(to: dir.appendingPathComponent("test_batch.bin"))
        return root
    }

    /// A FixMatch config on the tiny set: WRN-10-1, B = 4, μ = 2.
    static func config(root: URL, output: URL, mode: String = "fixmatch", classes: Int = 3, extra: String = "") -> String {
        let weak = """
                    - RandFlipImage:
                        flip_code: 1
                    - Pad_paddle_vision:
                        padding: 4
                        padding_mode: reflect
                    - RandCropImageV2:
                        size: [32, 32]
                    - NormalizeImage:
                        scale: 1.0/255.0
                        mean: [0.5, 0.5, 0.5]
                        std: [0.25, 0.25, 0.25]
                        order: hwc
        """
        return """
        Global:
          output_dir: \(output.path)
          seed: 3
          epochs: 2
          iter_per_epoch: 2
          print_batch_step: 1
          eval_interval: 1
          train_mode: \(mode)
        SSL:
          threshold: 0.5
          tempture: 1
        EMA:
          decay: 0.9
        Arch:
          name: WideResNet
          depth: 10
          widen_factor: 1
          dropout: 0
          num_classes: \(classes)
        Loss:
          Train:
            - CELoss:
                weight: 1.0
                reduction: mean
        UnLabelLoss:
          Train:
            - CELoss:
                weight: 1.0
                reduction: none
        Optimizer:
          name: Momentum
          momentum: 0.9
          use_nesterov: True
          no_weight_decay_name: bn bias
          weight_decay: 0.0005
          lr:
            name: FixMatchCosine
            learning_rate: 0.03
        DataLoader:
          Train:
            dataset:
              name: Cifar10
              data_file: \(root.path)
              mode: train
              sample_per_label: 2
              transform_ops:
        \(weak)
            sampler:
              batch_size: 4
            loader:
              num_workers: 1
          UnLabelTrain:
            dataset:
              name: Cifar10
              data_file: \(root.path)
              mode: train
              transform_ops_weak:
        \(weak)
              transform_ops_strong:
                - RandFlipImage:
                    flip_code: 1
                - RandAugmentMC:
                    n: 2
                    m: 10
                - NormalizeImage:
                    scale: 1.0/255.0
                    mean: [0.5, 0.5, 0.5]
                    std: [0.25, 0.25, 0.25]
                    order: hwc
            sampler:
              batch_size: 8
            loader:
              num_workers: 1
          Eval:
            dataset:
              name: Cifar10
              data_file: \(root.path)
              mode: test
              transform_ops:
                - NormalizeImage:
                    scale: 1.0/255.0
                    mean: [0.5, 0.5, 0.5]
                    std: [0.25, 0.25, 0.25]
                    order: hwc
            sampler:
              batch_size: 4
        Metric:
          Eval:
            - TopkAcc:
                topk: [1, 2]
        \(extra)
        """
    }
}
