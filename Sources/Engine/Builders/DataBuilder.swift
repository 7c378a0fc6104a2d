import Datasets
import Foundation
import TensorCore

/// `DataLoader.*` sections → datasets, transform chains, samplers and loaders (PaddleClas keys).
///
///     dataset: {name: SOP | ImageNetDataset | VeriWild | ImageFolder, image_root, cls_label_path,
///               delimiter, transform_ops: [...]}
///     sampler: {name: DistributedRandomIdentitySampler | RandomIdentitySampler | DistributedBatchSampler
///               | BatchSampler, batch_size, num_instances, drop_last, shuffle, max_iters}
///     loader:  {num_workers, prefetch, bad_images: skip | fail}
public enum DataBuilder {
    public struct Split {
        public let dataset: ImageListDataset
        public let loader: DataLoader<ImageListDataset>
        public let sampler: any BatchSampling
        public let batchSize: Int
    }

    /// Builds one split (`DataLoader.Train`, `DataLoader.Eval.Gallery`, …).
    public static func split(_ s: ConfigSection, seed: UInt64, defaultIters: Int?, training: Bool) throws -> Split {
        guard s.exists else { throw ConfigError.missing(path: s.config.path, key: s.path) }
        let d = try s.section("dataset")
        let dataset = try readDataset(d)
        let transform = try transforms(d)
        let sampler = try s.section("sampler")
        let name = try sampler.choice("name", ["DistributedRandomIdentitySampler", "RandomIdentitySampler", "PKSampler",
                                               "DistributedBatchSampler", "BatchSampler"],
                                      default: training ? "DistributedBatchSampler" : "BatchSampler")
        let batchSize = try sampler.int("batch_size", default: 64)
        let drop = try sampler.bool("drop_last", default: false)
        let shuffle = try sampler.bool("shuffle", default: training)
        let sampling: any BatchSampling
        if name.hasSuffix("IdentitySampler") || name == "PKSampler" {
            let k = try sampler.int("num_instances", default: 4)
            let iters = try sampler.int("max_iters") ?? defaultIters ?? max(dataset.count / batchSize, 1)
            sampling = try RandomIdentitySampler(labels: dataset.labels, batchSize: batchSize, instancesPerClass: k, maxIters: iters,
                                                 variant: name == "RandomIdentitySampler" ? .xbm : .paddleClas, seed: seed)
        } else {
            sampling = try BatchSampler(count: dataset.count, batchSize: batchSize, shuffle: shuffle, dropLast: drop, seed: seed)
        }
        let l = try s.section("loader")
        let policy = try l.choice("bad_images", ["skip", "fail"], default: "fail")
        _ = try l.bool("use_shared_memory")
        let loader = DataLoader(source: dataset, transform: transform, workers: max(1, try l.int("num_workers", default: 2)),
                                prefetch: try l.int("prefetch", default: 2), badImages: BadImagePolicy(rawValue: policy) ?? .fail,
                                seed: seed)
        return Split(dataset: dataset, loader: loader, sampler: sampling, batchSize: batchSize)
    }

    static func readDataset(_ d: ConfigSection) throws -> ImageListDataset {
        let name = try d.choice("name", ["SOP", "ImageNetDataset", "VeriWild", "ImageFolder", "LabelList"], default: "ImageNetDataset")
        let root = try d.string("image_root")
        _ = try d.string("backend")
        do {
            switch name {
            case "SOP":
                let sop = try SOPReader.read(listFile: try d.requiredString("cls_label_path"), imageRoot: root)
                // `label_from: super_class_id` classifies by SOP's super class (1-based id → 0-based
                // label, so train and test lists agree); the default keeps the class id.
                guard try d.choice("label_from", ["class_id", "super_class_id"], default: "class_id") == "super_class_id" else { return sop }
                return try bySuperClass(sop)
            case "ImageFolder":
                guard let root else { throw ConfigError.missing(path: d.config.path, key: d.full("image_root")) }
                return try ImageFolderReader.read(root: root).dataset
            default:
                return try LabelListReader.read(listFile: try d.requiredString("cls_label_path"), imageRoot: root,
                                                delimiter: try d.string("delimiter"))
            }
        } catch let error as ConfigError {
            throw error
        } catch {
            throw EngineError.data("\(d.path): \(error)")
        }
    }

    static func bySuperClass(_ sop: ImageListDataset) throws -> ImageListDataset {
        var records = sop.records
        for i in records.indices {
            guard let s = records[i].superLabel, s >= 1 else {
                throw EngineError.data("\(sop.source): image \(records[i].path) has no super_class_id ≥ 1")
            }
            records[i].label = s - 1
            records[i].originalLabel = s
        }
        return ImageListDataset(records: records, classCount: (records.map(\.label).max() ?? -1) + 1, source: sop.source)
    }

    /// `transform_ops` (or another list `key`: Infer's `transforms`, FixMatch's `transform_ops_strong`)
    /// → a transform chain, parameters converted to the Datasets registry's values.
    public static func transforms(_ d: ConfigSection, key: String = "transform_ops") throws -> TransformChain {
        let ops = try d.namedList(key)
        let entries: [(String, [String: ConfigNode])] = ops.map { name, params in
            (name, Dictionary(uniqueKeysWithValues: params.keys.map { ($0, params.raw($0) ?? .null) }))
        }
        // Datasets that decode before their transforms (PaddleClas VeriWild, paddle.vision-style
        // configs) list no DecodeImage: add it so every chain starts from the file's bytes.
        let withDecode = entries.first?.0 == "DecodeImage" ? entries : [("DecodeImage", [:])] + entries
        do {
            return try TransformRegistry.chain(withDecode)
        } catch {
            throw EngineError.config("\(d.config.path): \(d.full(key)): \(error)")
        }
    }
}
