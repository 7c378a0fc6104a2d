import Foundation
import NN
import Retrieval
import TensorCore

extension InferenceBundle {
    /// Builds the model of `config` with `weights` (else `Global.pretrained_model`) and writes it
    /// as a bundle at `url`. An existing bundle there is replaced; any other existing path is refused.
    @discardableResult
    public static func write(config: Config, weights: String?, magpieVersion: String, to url: URL) throws -> InferenceBundle {
        let fm = FileManager.default
        let stage: StagedFolder
        do {
            stage = try StagedFolder(destination: url.path, replacing: true) {
                isBundle($0) ? nil : "the path exists and is not a magpie bundle; choose another --out"
            }
        } catch let error as RetrievalError {
            throw EngineError.config("bundle \(error)")  // "bundle PATH: reason", as the other bundle errors
        }
        defer { stage.abandon() }  // a no-op once committed
        let temp = stage.staging

        let kind = Kind.of(config)
        var root = try portableRoot(config, kind: kind)
        var manifest: Manifest
        switch kind {
        case .retrieval:
            let model = try InferenceModel(config: config, weights: weights)
            try model.model.saveSafeTensors(to: temp.appendingPathComponent(weightsName), metadata: ["format": "magpie-weights", "arch": model.arch])
            manifest = Manifest(magpieVersion: magpieVersion, kind: kind, arch: model.arch, backbone: backboneName(config),
                                embeddingSize: model.embeddingSize, featureNormalize: model.normalize,
                                inputShape: try model.inputShape(), preprocessing: preprocessingOps(config, kind: kind),
                                fingerprint: model.fingerprint, files: [])
        case .classifier:
            let classifier = try Classifier(config: config, weights: weights)
            let mapFile = try config.section("Infer").section("PostProcess").string("class_id_map_file")
            if let mapFile {
                guard let names = fm.contents(atPath: mapFile) else { throw EngineError.config("class_id_map_file \(mapFile): cannot read the file") }
                try names.write(to: temp.appendingPathComponent(classMapName))
                root = try setting(root, ["Infer", "PostProcess", "class_id_map_file"], .string(classMapName))
            }
            try classifier.model.saveSafeTensors(to: temp.appendingPathComponent(weightsName), metadata: ["format": "magpie-weights", "arch": classifier.arch])
            manifest = Manifest(magpieVersion: magpieVersion, kind: kind, arch: classifier.arch, classNum: classifier.classNum,
                                inputShape: try classifier.inputShape(), preprocessing: preprocessingOps(config, kind: kind),
                                fingerprint: classifier.fingerprint, files: [])
        }
        try Data(root.yaml.utf8).write(to: temp.appendingPathComponent(configName))
        for name in [configName, weightsName, classMapName] {
            guard let data = fm.contents(atPath: temp.appendingPathComponent(name).path) else { continue }
            manifest.files.append(FileEntry(path: name, bytes: data.count, sha256: SHA256.hex(data)))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(manifest).write(to: temp.appendingPathComponent(manifestName))

        // Publish only a bundle that rebuilds the model it describes.
        switch kind {
        case .retrieval: _ = try InferenceModel(bundle: temp)
        case .classifier: _ = try Classifier(bundle: temp)
        }
        try stage.commit()
        return try InferenceBundle(at: url)
    }

    /// Whether `url` holds a bundle manifest (so replacing it loses no other kind of folder).
    static func isBundle(_ url: URL) -> Bool {
        struct Probe: Decodable { var format: String }
        guard let data = FileManager.default.contents(atPath: url.appendingPathComponent(manifestName).path),
              let probe = try? JSONDecoder().decode(Probe.self, from: data) else { return false }
        return probe.format == format
    }

    /// The part of the config inference reads: `Global.eval_mode`/`feature_normalize`, `Arch`
    /// (a distillation config's inference member; `pretrained` dropped, the weights are in the
    /// bundle), the eval `transform_ops` (part of the fingerprint) and, for classifiers, `Infer`.
    static func portableRoot(_ config: Config, kind: Kind) throws -> ConfigNode {
        let root = config.root
        var out: [(key: String, value: ConfigNode)] = []
        if case let .map(pairs)? = root["Global"] {
            let kept = pairs.filter { ["eval_mode", "feature_normalize"].contains($0.key) }
            if !kept.isEmpty { out.append(("Global", .map(kept))) }
        }
        guard var arch = root["Arch"] else { throw ConfigError.missing(path: config.path, key: "Arch") }
        if arch["name"] == .string("DistillationModel") {
            let inferName = arch["infer_model_name"].map(\.description) ?? "Student"
            guard case let .list(models)? = arch["models"],
                  let member = models.lazy.compactMap({ $0[inferName] }).first else {
                throw ConfigError.invalidValue(path: config.path, key: "Arch.models", reason: "has no model named \(inferName)")
            }
            arch = member
        }
        arch = removing(arch, "pretrained")
        if let backbone = arch["Backbone"] { arch = try setting(arch, ["Backbone"], removing(backbone, "pretrained")) }
        out.append(("Arch", arch))
        // Only the eval transform_ops: the bundle keeps no data paths or loader settings of the training run.
        if let ops = InferenceModel.evalTransformOps(config) {
            out.append(("DataLoader", .map([("Eval", .map([("dataset", .map([("transform_ops", ops)]))]))])))
        }
        if kind == .classifier, let infer = root["Infer"] {
            var kept = removing(infer, "infer_imgs")
            if let post = kept["PostProcess"] { kept = try setting(kept, ["PostProcess"], removing(post, "class_id_map_file")) }
            out.append(("Infer", kept))
        }
        return .map(out)
    }

    static func removing(_ node: ConfigNode, _ key: String) -> ConfigNode {
        guard case let .map(pairs) = node else { return node }
        return .map(pairs.filter { $0.key != key })
    }

    static func setting(_ node: ConfigNode, _ path: [String], _ value: ConfigNode) throws -> ConfigNode {
        guard let head = path.first else { return value }
        var pairs: [(key: String, value: ConfigNode)] = []
        if case let .map(p) = node { pairs = p } else if node != .null { throw EngineError.config("cannot set \(path.joined(separator: ".")) below a scalar") }
        if let i = pairs.firstIndex(where: { $0.key == head }) {
            pairs[i].value = try setting(pairs[i].value, Array(path.dropFirst()), value)
        } else {
            pairs.append((head, try setting(.null, Array(path.dropFirst()), value)))
        }
        return .map(pairs)
    }

    /// `Arch.Backbone.name` of a RecModel config.
    public static func backboneName(_ config: Config) -> String? {
        if case let .string(name)? = config.root["Arch"]?["Backbone"]?["name"] { return name }
        return nil
    }

    /// Each preprocessing op as `{Name: {params}}`, from the list inference applies.
    static func preprocessingOps(_ config: Config, kind: Kind) -> [String] {
        let root = config.root
        var list: ConfigNode?
        if kind == .classifier, case let .list(items)? = root["Infer"]?["transforms"], !items.isEmpty { list = .list(items) }
        list = list ?? InferenceModel.evalTransformOps(config)
        guard case let .list(items)? = list else { return [] }
        return items.map(\.description)
    }
}
