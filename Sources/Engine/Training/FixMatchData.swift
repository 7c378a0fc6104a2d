import Datasets
import Foundation
import TensorCore

/// The data of a FixMatch config, in PaddleClas's layout:
///
///     DataLoader:
///       Train:         labelled split: dataset {name: Cifar10, data_file, mode: train, sample_per_label,
///                      transform_ops (weak)}, sampler {batch_size: B}
///       UnLabelTrain:  every training image: dataset {…, transform_ops_weak, transform_ops_strong},
///                      sampler {batch_size: μ·B}     (absent for the supervised baseline)
///       Eval:          dataset {mode: test, transform_ops}, sampler {batch_size}
///
/// `data_file` is a folder of CIFAR-10 binary batches (`data_batch_{1…5}.bin`, `test_batch.bin`)
/// or its parent. The labelled subset is class-balanced, `sample_per_label` per class, drawn
/// with `Global.seed` (kekmodel `x_u_split`). Each "epoch" of `iterations` steps draws its batches
/// from back-to-back shuffles of the labelled subset and of the unlabelled set, seeded by
/// (seed, epoch), which is what kekmodel's expanded labelled list and restarted iterators amount to.
public struct FixMatchData {
    public let train: CIFAR10
    /// Indices into `train` of the labelled subset.
    public let labeled: [Int]
    public let labeledBatch: Int
    public let labeledLoader: DataLoader<CIFAR10>
    public let unlabeled: CIFAR10?
    /// μ·B; 0 without an unlabelled split.
    public let unlabeledBatch: Int
    /// Two views per image: weak, strong.
    public let unlabeledLoader: DataLoader<CIFAR10>?
    public let test: CIFAR10?
    public let evalLoader: DataLoader<CIFAR10>?
    public let evalBatch: Int
    let seed: UInt64

    /// Reads `DataLoader.{Train, UnLabelTrain, Eval}`; `withUnlabeled` false ignores UnLabelTrain.
    public init(config: Config, classCount: Int, seed: UInt64, withUnlabeled: Bool) throws {
        self.seed = seed
        let loaders = config.section("DataLoader")
        _ = try loaders.doubles("mean"); _ = try loaders.doubles("std")
        let trainSection = try loaders.section("Train")
        guard trainSection.exists else { throw ConfigError.missing(path: config.path, key: "DataLoader.Train") }
        let trainData = try trainSection.section("dataset")
        train = try FixMatchData.read(trainData, classCount: classCount, mode: "train")
        if let perClass = try trainData.int("sample_per_label") {
            do {
                labeled = try train.labeledIndices(total: perClass * classCount, seed: seed)
            } catch {
                throw ConfigError.invalidValue(path: config.path, key: trainData.path + ".sample_per_label", reason: "\(error)")
            }
        } else {
            labeled = Array(0..<train.count)
        }
        _ = try trainData.int("expand_labels")   // the labelled stream cycles by itself
        labeledBatch = try FixMatchData.batchSize(trainSection, default: 64)
        labeledLoader = try FixMatchData.loader(train, trainSection, views: [DataBuilder.transforms(trainData)], seed: seed)

        let unlabeledSection = try loaders.section("UnLabelTrain")
        if withUnlabeled {
            guard unlabeledSection.exists else {
                throw ConfigError.missing(path: config.path, key: "DataLoader.UnLabelTrain (FixMatch needs the unlabelled split)")
            }
            let d = try unlabeledSection.section("dataset")
            let set = try FixMatchData.read(d, classCount: classCount, mode: "train")
            _ = try d.int("sample_per_label")
            let views = [try DataBuilder.transforms(d, key: "transform_ops_weak"), try DataBuilder.transforms(d, key: "transform_ops_strong")]
            unlabeled = set
            unlabeledBatch = try FixMatchData.batchSize(unlabeledSection, default: 7 * labeledBatch)
            unlabeledLoader = try FixMatchData.loader(set, unlabeledSection, views: views, seed: seed &+ 1)
        } else {
            if unlabeledSection.exists { loaders.ignore("UnLabelTrain") }
            unlabeled = nil; unlabeledBatch = 0; unlabeledLoader = nil
        }

        let evalSection = try loaders.section("Eval")
        if evalSection.exists {
            let d = try evalSection.section("dataset")
            let set = try FixMatchData.read(d, classCount: classCount, mode: "test")
            test = set
            evalBatch = try FixMatchData.batchSize(evalSection, default: 256)
            evalLoader = try FixMatchData.loader(set, evalSection, views: [DataBuilder.transforms(d)], seed: seed)
        } else {
            test = nil; evalLoader = nil; evalBatch = 0
        }
    }

    /// The labelled and unlabelled batches (source indices) of one epoch of `iterations` steps.
    public func trainBatches(epoch: Int, iterations: Int) -> (labeled: [[Int]], unlabeled: [[Int]]) {
        var rng = RNG(seed: FixMatchData.mix(seed, epoch, 1))
        let l = FixMatchData.stream(count: labeled.count, batch: labeledBatch, iterations: iterations, rng: &rng)
            .map { $0.map { labeled[$0] } }
        guard let unlabeled, unlabeledBatch > 0 else { return (l, []) }
        var urng = RNG(seed: FixMatchData.mix(seed, epoch, 2))
        return (l, FixMatchData.stream(count: unlabeled.count, batch: unlabeledBatch, iterations: iterations, rng: &urng))
    }

    /// The test split in order, `evalBatch` images at a time.
    public var evalBatches: [[Int]] {
        guard let test else { return [] }
        return stride(from: 0, to: test.count, by: evalBatch).map { Array($0..<min($0 + evalBatch, test.count)) }
    }

    /// `iterations` batches cut from consecutive permutations of 0..<count.
    static func stream(count: Int, batch: Int, iterations: Int, rng: inout RNG) -> [[Int]] {
        var flat: [Int] = []
        flat.reserveCapacity(batch * iterations + count)
        while flat.count < batch * iterations { flat += rng.permutation(count) }
        return (0..<iterations).map { Array(flat[($0 * batch)..<(($0 + 1) * batch)]) }
    }

    static func mix(_ seed: UInt64, _ epoch: Int, _ stream: Int) -> UInt64 {
        var s = seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(epoch + 1)
        s = (s ^ (s >> 30)) &* 0xBF58_476D_1CE4_E5B9
        s = (s ^ UInt64(stream)) &* 0x94D0_49BB_1331_11EB
        return s ^ (s >> 31)
    }

    static func read(_ d: ConfigSection, classCount: Int, mode defaultMode: String) throws -> CIFAR10 {
        guard d.exists else { throw ConfigError.missing(path: d.config.path, key: d.path) }
        _ = try d.choice("name", ["Cifar10"], default: "Cifar10")
        let folder = try d.requiredString("data_file")
        let mode = try d.choice("mode", ["train", "test"], default: defaultMode)
        if try d.bool("download", default: false) {
            throw ConfigError.invalidValue(path: d.config.path, key: d.path + ".download",
                                           reason: "must be false: Magpie does not download; put the CIFAR-10 binary batches in data_file")
        }
        _ = try d.string("backend")
        let classes = try d.int("class_num", default: classCount)
        do {
            return try CIFAR10.load(directory: folder, split: mode == "train" ? .train : .test, classCount: classes)
        } catch {
            throw EngineError.data("\(d.path).data_file: \(error)")
        }
    }

    static func batchSize(_ s: ConfigSection, default fallback: Int) throws -> Int {
        let sampler = try s.section("sampler")
        _ = try sampler.choice("name", ["DistributedBatchSampler", "BatchSampler", "RandomSampler", "SequentialSampler"], default: "BatchSampler")
        _ = try sampler.bool("drop_last"); _ = try sampler.bool("shuffle")
        let size = try sampler.int("batch_size", default: fallback)
        guard size > 0 else {
            throw ConfigError.invalidValue(path: s.config.path, key: sampler.path + ".batch_size", reason: "must be positive, got \(size)")
        }
        return size
    }

    static func loader(_ source: CIFAR10, _ s: ConfigSection, views: [TransformChain], seed: UInt64) throws -> DataLoader<CIFAR10> {
        let l = try s.section("loader")
        _ = try l.bool("use_shared_memory")
        return DataLoader(source: source, views: views, workers: max(1, try l.int("num_workers", default: 2)),
                          prefetch: max(1, try l.int("prefetch", default: 2)), seed: seed)
    }
}
