import Datasets
import Foundation
import Models
import NN
import TensorCore

/// One image's prediction, as PaddleClas's post-processing returns it.
public struct Prediction: Codable, Equatable, Sendable {
    public var classIDs: [Int]
    public var scores: [Float]
    public var labelNames: [String]
    public var filename: String

    enum CodingKeys: String, CodingKey {
        case classIDs = "class_ids", scores, labelNames = "label_names", filename
    }

    /// `class_ids: [8, 7], scores: [0.79368, 0.16329], label_names: ['hen', 'cock'], filename: a.jpg`
    public var line: String {
        "class_ids: [\(classIDs.map(String.init).joined(separator: ", "))], "
            + "scores: [\(scores.map { String(format: "%.5f", $0) }.joined(separator: ", "))], "
            + "label_names: [\(labelNames.map { "'\($0)'" }.joined(separator: ", "))], filename: \(filename)"
    }

    /// One JSON object (keys as PaddleClas: class_ids, scores, label_names, filename).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}

/// `Infer.PostProcess`: `Topk {topk, class_id_map_file}` (softmax, the k best classes) or
/// `ThreshOutput {threshold, label_0, label_1}` (binary: class 1 when softmax[1] ≥ threshold).
public enum PostProcess: Sendable, Equatable {
    case topk(k: Int, names: [Int: String])
    case threshold(Float, label0: String, label1: String)

    /// Applies to one row of logits.
    public func apply(logits: ArraySlice<Float>, filename: String) -> Prediction {
        let row = Array(logits)
        let m = row.max() ?? 0
        let e = row.map { expf($0 - m) }
        let sum = e.reduce(0, +)
        let p = e.map { $0 / sum }
        switch self {
        case let .topk(k, names):
            // Higher probability first; equal ones by the lower class id.
            let order = p.indices.sorted { p[$0] != p[$1] ? p[$0] > p[$1] : $0 < $1 }.prefix(k)
            return Prediction(classIDs: Array(order), scores: order.map { p[$0] },
                              labelNames: names.isEmpty ? [] : order.map { names[$0] ?? "" }, filename: filename)
        case let .threshold(t, label0, label1):
            let s = p.count > 1 ? p[1] : 0
            return s < t ? Prediction(classIDs: [0], scores: [1 - s], labelNames: [label0], filename: filename)
                : Prediction(classIDs: [1], scores: [s], labelNames: [label1], filename: filename)
        }
    }

    /// Reads a PaddleClas class-id map: `id name…` per line (the name may contain spaces).
    public static func classNames(file: String) throws -> [Int: String] {
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw EngineError.config("class_id_map_file \(file): cannot read the file")
        }
        var names: [Int: String] = [:]
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            let parts = trimmed.split(separator: " ", maxSplits: 1)
            guard let id = Int(parts[0]) else {
                throw EngineError.config("class_id_map_file \(file):\(i + 1): expected 'class_id name', got '\(trimmed)'")
            }
            names[id] = parts.count > 1 ? String(parts[1]) : ""
        }
        return names
    }
}

/// A classifier ready to predict: the model of a classification config (the student of a
/// distillation config), weights from a checkpoint, `Infer.transforms` (else the eval
/// transforms) and `Infer.PostProcess`.
///
///     let classifier = try Classifier(config: Config(contentsOf: "configs/…/PPLCNet_x1_0.yaml"),
///                                     weights: "output/PPLCNet_x1_0/best_model")
///     for try await batch in classifier.predictions(for: paths, batchSize: 8) {
///         for p in batch { print(p.classIDs, p.scores, p.labelNames, p.filename) }
///     }
public final class Classifier: @unchecked Sendable {
    public let model: Layer
    public let arch: String
    public let transform: TransformChain
    public let postProcess: PostProcess
    public let batchSize: Int
    public let weightsPath: String?
    /// Number of logits.
    public let classNum: Int
    /// Weights + preprocessing, as `InferenceModel.fingerprint` (bundles record it).
    public let fingerprint: String
    private let compiled: CompiledForward

    /// - Parameters:
    ///   - weights: checkpoint prefix or .safetensors; defaults to `Global.pretrained_model`.
    ///   - topk, classIDMapFile: override `Infer.PostProcess` of a Topk post-process.
    public init(config: Config, weights: String? = nil, topk: Int? = nil, classIDMapFile: String? = nil, batchSize: Int? = nil) throws {
        let built = try ClassifierBuilder.build(config, loadTeacher: false)
        model = built.model
        arch = built.arch
        let path = try weights ?? config.section("Global").string("pretrained_model")
        weightsPath = path
        if let path { try PretrainedWeights.load(path, into: model, fit: .exact, key: weights == nil ? "Global.pretrained_model" : "--weights") }
        model.eval()
        classNum = built.classNum
        let infer = config.section("Infer")
        let preprocessing: String
        if infer.exists, try infer.namedList("transforms").count > 0 {
            transform = try DataBuilder.transforms(infer, key: "transforms")
            preprocessing = config.root["Infer"]?["transforms"]?.yaml ?? ""
        } else {
            let eval = try InferenceModel.evalTransforms(config)
            transform = eval.chain
            preprocessing = eval.description
        }
        fingerprint = InferenceModel.fingerprint(model: model, preprocessing: "classifier|" + preprocessing)
        compiled = CompiledForward.forModel(model)
        self.batchSize = max(1, try batchSize ?? infer.int("batch_size", default: 10))
        let post = try infer.section("PostProcess")
        switch try post.choice("name", ["Topk", "ThreshOutput"], default: "Topk") {
        case "ThreshOutput":
            postProcess = .threshold(try post.float("threshold", default: 0.5), label0: try post.string("label_0", default: "0"),
                                     label1: try post.string("label_1", default: "1"))
        default:
            let mapFile = try classIDMapFile ?? post.string("class_id_map_file")
            postProcess = .topk(k: try topk ?? post.int("topk", default: 5), names: try mapFile.map(PostProcess.classNames(file:)) ?? [:])
        }
        _ = try infer.string("infer_imgs")
        _ = try post.string("save_dir"); _ = try post.string("delimiter"); _ = try post.bool("multilabel")
    }

    /// Predictions for encoded images (JPEG/PNG bytes), in order.
    public func predict(encoded images: [(bytes: [UInt8], source: String)]) throws -> [Prediction] {
        guard !images.isEmpty else { return [] }
        var rng = RNG(seed: 0)
        let tensors: [Tensor] = try images.map { item in
            let out = try transform.apply(.encoded(item.bytes, source: item.source), rng: &rng)
            let f: FloatImage
            switch out {
            case let .floats(v): f = v.toCHW()
            case let .image(image): f = FloatImage(image).toCHW()
            case .encoded: throw EngineError.data("\(item.source): the Infer transforms leave encoded bytes; start them with DecodeImage")
            }
            return Tensor(shape: [1, f.channels, f.height, f.width], data: f.values)
        }
        guard Set(tensors.map(\.shape)).count == 1 else {
            throw EngineError.data("the transforms give images of different sizes \(Set(tensors.map(\.shape))); end them with a fixed-size crop")
        }
        let logits = compiled(concat(tensors, axis: 0))
        let classes = logits.shape[1]
        return images.indices.map { i in
            postProcess.apply(logits: logits.data[(i * classes)..<((i + 1) * classes)], filename: images[i].source)
        }
    }

    /// Predictions for image files, in order.
    public func predict(paths: [String]) throws -> [Prediction] {
        try predict(encoded: paths.map { path in
            guard let data = FileManager.default.contents(atPath: path) else {
                throw EngineError.data("\(path): cannot read the image file")
            }
            return ([UInt8](data), path)
        })
    }

    /// The predictions for `paths` as an async sequence of batches of `batchSize` images.
    public func predictions(for paths: [String], batchSize: Int? = nil) -> AsyncThrowingStream<[Prediction], Error> {
        let size = max(1, batchSize ?? self.batchSize)
        return AsyncThrowingStream { continuation in
            let task = Task.detached { [self] in
                do {
                    for start in stride(from: 0, to: paths.count, by: size) {
                        try Task.checkCancellation()
                        continuation.yield(try predict(paths: Array(paths[start..<min(start + size, paths.count)])))
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// The config `magpie predict --model_name NAME` uses: the model's published inference
    /// preprocessing (PaddleClas's for 224-pixel ImageNet models: resize short side 256, centre
    /// crop 224, ImageNet normalisation; the entry's own size and normalisation otherwise) and a Topk
    /// post-process; `person_exists` is PULC's PP-LCNet_x1_0 binary classifier with ThreshOutput.
    public static func defaultConfig(modelName: String, classNum: Int?, classIDMapFile: String?, topk: Int) throws -> Config {
        let person = modelName == "person_exists"
        let arch = person ? "PPLCNet_x1_0" : modelName
        let classes = person ? 2 : classNum
        // The preprocessing the zoo entry's published weights expect: resize the short side to
        // the input size + 32 (256 for 224), centre crop, and its own normalisation.
        let entry = try ModelRegistry.entry(arch)
        let size = entry.inputSize, norm = entry.normalization
        func list(_ v: [Double]) -> String { "[" + v.map { "\($0)" }.joined(separator: ", ") + "]" }
        let post: String
        if person {
            post = "    name: ThreshOutput\n    threshold: 0.5\n    label_0: nobody\n    label_1: someone\n"
        } else {
            post = "    name: Topk\n    topk: \(topk)\n" + (classIDMapFile.map { "    class_id_map_file: '\($0)'\n" } ?? "")
        }
        let yaml = """
        Global:
          eval_mode: classification
        Arch:
          name: \(arch)
        \(classes.map { "  class_num: \($0)\n" } ?? "")Infer:
          batch_size: 10
          transforms:
            - DecodeImage:
                to_rgb: True
            - ResizeImage:
                resize_short: \(size + 32)
            - CropImage:
                size: \(size)
            - NormalizeImage:
                scale: \(norm.scale)
                mean: \(list(norm.mean))
                std: \(list(norm.std))
                order: ''
            - ToCHWImage:
          PostProcess:
        \(post)
        """
        return try Config(yaml: yaml, path: "--model_name \(modelName)")
    }
}
