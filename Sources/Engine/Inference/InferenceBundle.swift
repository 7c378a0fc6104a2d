import Foundation
import NN
import TensorCore

/// A self-contained inference folder: everything needed to rebuild a trained model and its eval
/// preprocessing, with no path back to the training run.
///
///     bundle/
///       manifest.json       format, kind, arch, sizes, preprocessing, fingerprint, files + sha256
///       config.yaml         Arch, DataLoader.Eval, Global.feature_normalize (retrieval) or Infer (classifier)
///       model.safetensors   the weights (PyTorch keys)
///       class_id_map.txt    classifiers with a class map only
///
/// `write` builds the model once from the config and checkpoint, writes the folder under a temp
/// name beside the target, reopens it (so a bundle that does not rebuild the same fingerprint is
/// never published) and renames it into place. Opening checks every listed file's size and
/// SHA-256, so a truncated or edited bundle fails naming the file.
public struct InferenceBundle: Sendable {
    public static let format = "magpie-inference-bundle"
    public static let formatVersion = 1
    static let manifestName = "manifest.json"
    static let configName = "config.yaml"
    static let weightsName = "model.safetensors"
    static let classMapName = "class_id_map.txt"

    public enum Kind: String, Codable, Sendable {
        case retrieval, classifier

        /// `Global.eval_mode` when it says; else a `RecModel` is retrieval and anything else a classifier.
        public static func of(_ config: Config) -> Kind {
            switch config.root["Global"]?["eval_mode"] {
            case .string("classification")?: return .classifier
            case .string("retrieval")?: return .retrieval
            default: return config.root["Arch"]?["name"] == .string("RecModel") ? .retrieval : .classifier
            }
        }
    }

    public struct FileEntry: Codable, Equatable, Sendable {
        public var path: String
        public var bytes: Int
        public var sha256: String
    }

    public struct Manifest: Codable, Equatable, Sendable {
        public var format = InferenceBundle.format
        public var formatVersion = InferenceBundle.formatVersion
        public var magpieVersion: String
        public var kind: Kind
        public var arch: String
        public var backbone: String?
        /// Retrieval: the width of the embeddings.
        public var embeddingSize: Int?
        /// Classifier: the number of logits.
        public var classNum: Int?
        public var featureNormalize: Bool?
        /// [C, H, W] the preprocessing produces (the ONNX input shape).
        public var inputShape: [Int]
        /// The preprocessing ops in order, as written in the config.
        public var preprocessing: [String]
        /// Weights + preprocessing, as `InferenceModel.fingerprint`; galleries record it.
        public var fingerprint: String
        public var files: [FileEntry]

        enum CodingKeys: String, CodingKey {
            case format, formatVersion = "format_version", magpieVersion = "magpie_version", kind, arch, backbone
            case embeddingSize = "embedding_size", classNum = "class_num", featureNormalize = "feature_normalize"
            case inputShape = "input_shape", preprocessing, fingerprint, files
        }
    }

    public let url: URL
    public let manifest: Manifest

    public var weightsURL: URL { url.appendingPathComponent(Self.weightsName) }
    public var configURL: URL { url.appendingPathComponent(Self.configName) }
    /// The class map, when the bundle has one.
    public var classMapURL: URL? {
        manifest.files.contains { $0.path == Self.classMapName } ? url.appendingPathComponent(Self.classMapName) : nil
    }

    /// Opens a bundle and verifies every file the manifest lists (size and SHA-256).
    public init(at url: URL) throws {
        self.url = url
        let label = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw EngineError.config("bundle \(label): no such folder")
        }
        let manifestURL = url.appendingPathComponent(Self.manifestName)
        guard let data = FileManager.default.contents(atPath: manifestURL.path) else {
            throw EngineError.config("bundle \(label): missing \(Self.manifestName) (not a magpie bundle; `magpie export --format bundle` writes one)")
        }
        let manifest: Manifest
        do { manifest = try JSONDecoder().decode(Manifest.self, from: data) } catch {
            throw EngineError.config("bundle \(label): \(Self.manifestName) is not a valid bundle manifest (\(Self.reason(error)))")
        }
        guard manifest.format == Self.format else {
            throw EngineError.config("bundle \(label): \(Self.manifestName) has format '\(manifest.format)', expected '\(Self.format)'")
        }
        guard manifest.formatVersion <= Self.formatVersion else {
            throw EngineError.config("bundle \(label): format version \(manifest.formatVersion) is newer than this magpie reads (\(Self.formatVersion)); upgrade magpie")
        }
        for required in [Self.configName, Self.weightsName] where !manifest.files.contains(where: { $0.path == required }) {
            throw EngineError.config("bundle \(label): \(Self.manifestName) does not list \(required)")
        }
        for entry in manifest.files {
            guard !entry.path.contains("/"), !entry.path.hasPrefix(".") else {
                throw EngineError.config("bundle \(label): \(Self.manifestName) lists '\(entry.path)', which is not a file name inside the bundle")
            }
            let file = url.appendingPathComponent(entry.path)
            guard let bytes = FileManager.default.contents(atPath: file.path) else {
                throw EngineError.config("bundle \(label): missing \(entry.path)")
            }
            guard bytes.count == entry.bytes else {
                throw EngineError.config("bundle \(label): \(entry.path) has \(bytes.count) bytes, the manifest says \(entry.bytes) (truncated or replaced)")
            }
            guard SHA256.hex(bytes) == entry.sha256 else {
                throw EngineError.config("bundle \(label): \(entry.path) does not match its sha256 in \(Self.manifestName) (modified or corrupt)")
            }
        }
        self.manifest = manifest
    }

    /// Throws unless the model rebuilt from config.yaml and model.safetensors has the manifest's fingerprint.
    func checkRebuilt(fingerprint: String) throws {
        guard fingerprint == manifest.fingerprint else {
            throw EngineError.config("bundle \(url.path): config.yaml and model.safetensors give fingerprint \(fingerprint), "
                + "the manifest says \(manifest.fingerprint) (written by another magpie version?)")
        }
    }

    /// The bundle's config (its paths label errors with the bundle's folder), which must describe
    /// the kind of model the manifest names.
    public func config() throws -> Config {
        let text = try String(contentsOf: configURL, encoding: .utf8)
        let config = try Config(yaml: text, path: configURL.path)
        let described = Kind.of(config)
        guard described == manifest.kind else {
            throw EngineError.config("bundle \(url.path): manifest.json says kind '\(manifest.kind.rawValue)' but config.yaml describes a "
                + "\(described.rawValue) model (edited by hand?); export the bundle again")
        }
        return config
    }

    private static func reason(_ error: Error) -> String {
        switch error {
        case let DecodingError.keyNotFound(key, _): return "no '\(key.stringValue)'"
        case let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
             let DecodingError.dataCorrupted(context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? "not JSON" : "bad '\(path)'"
        default: return "\(error)"
        }
    }
}
