import Foundation
import TensorCore
import Testing
@testable import Engine

/// Inference bundles: write → load round trips, fingerprints shared with config + checkpoint,
/// integrity errors, classifier post-processing.
@Suite struct InferenceBundleTests {
    /// A tiny retrieval config and a checkpoint of perturbed weights (not the fresh initialisation).
    static func trainedRetrieval(_ work: URL) throws -> (config: String, checkpoint: String, images: [String]) {
        let data = try TinyDataset.make(classes: 4, perClass: 2)
        let config = TinyDataset.config(root: data, output: work)
        let model = try InferenceModel(config: Config(yaml: config))
        for (_, t) in model.model.stateDict() {
            for i in t.data.indices { t.data[i] += 0.01 * Float(i % 7 - 3) }
        }
        let checkpoint = Checkpoint(prefix: work.appendingPathComponent("best_model"))
        try checkpoint.save(model: model.model, optimizer: nil, state: .init(epoch: 1, step: 1, arch: "RecModel"), config: config)
        let images = try FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent("images").path).sorted()
            .map { data.appendingPathComponent("images").appendingPathComponent($0).path }
        return (config, checkpoint.weightsURL.path, images)
    }

    static func workFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("magpie-bundle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func retrievalBundleRebuildsTheSameModelAndFingerprint() throws {
        let work = try Self.workFolder()
        defer { try? FileManager.default.removeItem(at: work) }
        let (config, checkpoint, images) = try Self.trainedRetrieval(work)
        let original = try InferenceModel(config: Config(yaml: config), weights: checkpoint)
        let out = work.appendingPathComponent("bundle")
        let written = try InferenceBundle.write(config: Config(yaml: config), weights: checkpoint, magpieVersion: "test", to: out)
        let loaded = try InferenceModel(bundle: out)

        // Same fingerprint either way, so a gallery built from one accepts the other.
        #expect(written.manifest.fingerprint == original.fingerprint)
        #expect(loaded.fingerprint == original.fingerprint)
        #expect(try original.embed(paths: images).data == loaded.embed(paths: images).data)
        #expect(written.manifest.kind == .retrieval)
        #expect(written.manifest.embeddingSize == 16)
        #expect(written.manifest.featureNormalize == true)
        #expect(written.manifest.inputShape == [3, 32, 32])
        #expect(written.manifest.backbone == "PPLCNet_x0_25")
        #expect(written.manifest.preprocessing.first?.hasPrefix("{Resize") == true)
        #expect(Set(written.manifest.files.map(\.path)) == ["config.yaml", "model.safetensors"])
        for entry in written.manifest.files {
            let bytes = try Data(contentsOf: out.appendingPathComponent(entry.path))
            #expect(entry.bytes == bytes.count)
        }
        // Nothing but the bundle is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path).filter { $0.hasPrefix(".") }.isEmpty)
        // The bundle's config is self-contained: no training sections, no checkpoint paths.
        let text = try String(contentsOf: out.appendingPathComponent("config.yaml"), encoding: .utf8)
        #expect(!text.contains("Optimizer") && !text.contains("Loss") && !text.contains("output_dir"))
    }

    @Test func damagedBundleFilesAreNamed() throws {
        let work = try Self.workFolder()
        defer { try? FileManager.default.removeItem(at: work) }
        let (config, checkpoint, _) = try Self.trainedRetrieval(work)
        let good = work.appendingPathComponent("good")
        try InferenceBundle.write(config: Config(yaml: config), weights: checkpoint, magpieVersion: "test", to: good)

        func damaged(_ name: String, _ change: (URL) throws -> Void) throws -> String {
            let copy = work.appendingPathComponent(name)
            try FileManager.default.copyItem(at: good, to: copy)
            try change(copy)
            do {
                _ = try InferenceModel(bundle: copy)
            } catch {
                return "\(error)"
            }
            Issue.record("the damaged bundle \(name) loaded")
            return ""
        }
        let truncated = try damaged("truncated") { url in
            let file = url.appendingPathComponent("model.safetensors")
            let bytes = try Data(contentsOf: file)
            try bytes.prefix(bytes.count - 100).write(to: file)
        }
        #expect(truncated.contains("model.safetensors") && truncated.contains("truncated"))
        let edited = try damaged("edited") { url in
            let file = url.appendingPathComponent("config.yaml")
            var bytes = [UInt8](try Data(contentsOf: file))
            let i = bytes.firstIndex(of: UInt8(ascii: "3"))!  // e.g. the neck width or a size: same length, other value
            bytes[i] = UInt8(ascii: "4")
            try Data(bytes).write(to: file)
        }
        #expect(edited.contains("config.yaml") && edited.contains("sha256"))
        let missing = try damaged("missing") { url in try FileManager.default.removeItem(at: url.appendingPathComponent("model.safetensors")) }
        #expect(missing.contains("missing model.safetensors"))
        let noManifest = try damaged("nomanifest") { url in try FileManager.default.removeItem(at: url.appendingPathComponent("manifest.json")) }
        #expect(noManifest.contains("manifest.json"))
        let badManifest = try damaged("badmanifest") { url in try Data("{\"format\": 3}".utf8).write(to: url.appendingPathComponent("manifest.json")) }
        #expect(badManifest.contains("manifest.json"))
        for message in [truncated, edited, missing, noManifest, badManifest] { #expect(!message.contains("\n")) }
        // A classifier reader refuses a retrieval bundle, naming the right command.
        #expect(throws: EngineError.self) { try Classifier(bundle: good) }
        // A manifest whose kind was edited disagrees with its config: the error says so.
        let relabelled = work.appendingPathComponent("relabelled")
        try FileManager.default.copyItem(at: good, to: relabelled)
        let manifestURL = relabelled.appendingPathComponent("manifest.json")
        let manifestText = try String(contentsOf: manifestURL, encoding: .utf8)
        #expect(manifestText.contains("\"retrieval\""))
        try manifestText.replacingOccurrences(of: "\"retrieval\"", with: "\"classifier\"").write(to: manifestURL, atomically: true, encoding: .utf8)
        do {
            _ = try Classifier(bundle: relabelled)
            Issue.record("a bundle whose manifest kind disagrees with its config loaded")
        } catch {
            #expect("\(error)".contains("says kind 'classifier'") && "\(error)".contains("retrieval model"), "\(error)")
        }
    }

    @Test func rewritingReplacesABundleButNotOtherFolders() throws {
        let work = try Self.workFolder()
        defer { try? FileManager.default.removeItem(at: work) }
        let (config, checkpoint, _) = try Self.trainedRetrieval(work)
        let out = work.appendingPathComponent("bundle")
        try InferenceBundle.write(config: Config(yaml: config), weights: checkpoint, magpieVersion: "1", to: out)
        let again = try InferenceBundle.write(config: Config(yaml: config), weights: checkpoint, magpieVersion: "2", to: out)
        #expect(try InferenceBundle(at: out).manifest == again.manifest)
        #expect(again.manifest.magpieVersion == "2")
        let other = work.appendingPathComponent("not-a-bundle")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: false)
        #expect(throws: EngineError.self) {
            try InferenceBundle.write(config: Config(yaml: config), weights: checkpoint, magpieVersion: "1", to: other)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: other.path).isEmpty)
    }

    static func classifierConfig(postProcess: String) -> String {
        """
        Global:
          eval_mode: classification
          pretrained_model: null
        Arch:
          name: PPLCNet_x0_25
          class_num: 3
        Infer:
          infer_imgs: nowhere/
          batch_size: 2
          transforms:
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
          PostProcess:
        \(postProcess)
        """
    }

    @Test func classifierBundleKeepsClassNamesAndThreshold() throws {
        let work = try Self.workFolder()
        defer { try? FileManager.default.removeItem(at: work) }
        let data = try TinyDataset.make(classes: 3, perClass: 1)
        let images = try FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent("images").path).sorted()
            .map { data.appendingPathComponent("images").appendingPathComponent($0).path }

        // Top-k with a class map: the names travel in the bundle; the original file can go.
        let names = work.appendingPathComponent("names.txt")
        try "0 red square\n1 green dot\n2 blue line\n".write(to: names, atomically: true, encoding: .utf8)
        let topk = Self.classifierConfig(postProcess: "    name: Topk\n    topk: 2\n    class_id_map_file: \(names.path)")
        let weights = work.appendingPathComponent("cls.safetensors")
        try Classifier(config: Config(yaml: topk)).model.saveSafeTensors(to: weights)
        let original = try Classifier(config: Config(yaml: topk), weights: weights.path)
        let out = work.appendingPathComponent("cls")
        let written = try InferenceBundle.write(config: Config(yaml: topk), weights: weights.path, magpieVersion: "test", to: out)
        try FileManager.default.removeItem(at: names)
        let loaded = try Classifier(bundle: out)
        #expect(written.manifest.kind == .classifier)
        #expect(written.manifest.classNum == 3)
        #expect(written.manifest.embeddingSize == nil)
        #expect(written.manifest.files.contains { $0.path == "class_id_map.txt" })
        #expect(loaded.postProcess == .topk(k: 2, names: [0: "red square", 1: "green dot", 2: "blue line"]))
        #expect(loaded.batchSize == 2)
        #expect(loaded.fingerprint == original.fingerprint)
        #expect(try loaded.predict(paths: images) == original.predict(paths: images))

        // ThreshOutput: threshold and labels survive.
        let thresh = Self.classifierConfig(postProcess: "    name: ThreshOutput\n    threshold: 0.7\n    label_0: nobody\n    label_1: someone")
        let binary = work.appendingPathComponent("binary")
        try InferenceBundle.write(config: Config(yaml: thresh), weights: nil, magpieVersion: "test", to: binary)
        #expect(try Classifier(bundle: binary).postProcess == .threshold(0.7, label0: "nobody", label1: "someone"))
        #expect(throws: EngineError.self) { try InferenceModel(bundle: binary) }
    }

    @Test func exportedEmbeddingsMatchTheModel() throws {
        let work = try Self.workFolder()
        defer { try? FileManager.default.removeItem(at: work) }
        let (config, checkpoint, images) = try Self.trainedRetrieval(work)
        let model = try InferenceModel(config: Config(yaml: config), weights: checkpoint)
        // A PaddleClas list relative to a root, labels as written.
        let root = URL(fileURLWithPath: images[0]).deletingLastPathComponent()
        let listed = Array(images.prefix(5))
        let list = work.appendingPathComponent("list.txt")
        try listed.enumerated().map { "\(URL(fileURLWithPath: $1).lastPathComponent) \(10 + $0)" }.joined(separator: "\n")
            .write(to: list, atomically: true, encoding: .utf8)
        let items = try EmbeddingExport.items(images: list.path, root: root.path)
        #expect(items.map(\.label) == [10, 11, 12, 13, 14])

        var seen: [(Int, Int)] = []
        let npz = work.appendingPathComponent("emb.npz")
        try EmbeddingExport.run(model: model, items: items, batchSize: 2, to: npz) { seen.append(($0, $1)) }
        #expect(seen.map(\.0) == [2, 4, 5] && seen.allSatisfy { $0.1 == 5 })
        let file = try NPZ.read(npz)
        let embeddings = try file.tensor("embeddings")
        #expect(embeddings.shape == [5, 16])
        // Bit for bit what the model gives for the same batches (BLAS sums depend on the batch size).
        let expected = try stride(from: 0, to: 5, by: 2).flatMap { try model.embed(paths: items[$0..<min($0 + 2, 5)].map(\.path)).data }
        #expect(embeddings.data == expected)
        #expect(file.arrays["labels"]?.integers?.values == [10, 11, 12, 13, 14])
        #expect(file.arrays["paths"]?.strings == items.map(\.path))
        // The size estimate behind the 4 GiB pre-check is the archive's array bytes (headers aside).
        let estimate = EmbeddingExport.npzPayloadBytes(count: 5, dimension: 16, pathWidth: NPY.unicodeWidth(items.map(\.path)))
        let written = try Data(contentsOf: npz).count
        #expect(written > estimate && written - estimate < 1024, "\(written) vs \(estimate)")
        #expect(throws: EngineError.self) { try EmbeddingExport.checkNPZFits(npz, count: 70_000_000, dimension: 16, pathWidth: 1) }
        #expect(throws: Never.self) { try EmbeddingExport.checkNPZFits(npz, count: 5, dimension: 16, pathWidth: 200) }

        // A folder: every image, sorted, unlabelled (-1); .npy holds the matrix alone.
        let folder = try EmbeddingExport.items(images: root.path)
        #expect(folder.count == images.count && folder.allSatisfy { $0.label == nil })
        let npy = work.appendingPathComponent("emb.npy")
        try EmbeddingExport.run(model: model, items: folder, batchSize: 3, to: npy)
        #expect(try NPY.read(npy).shape == [images.count, 16])
        let npzFolder = work.appendingPathComponent("folder.npz")
        try EmbeddingExport.run(model: model, items: folder, to: npzFolder)
        #expect(try NPZ.read(npzFolder).arrays["labels"]?.integers?.values == Array(repeating: -1, count: images.count))
        #expect(throws: EngineError.self) { try EmbeddingExport.run(model: model, items: folder, to: work.appendingPathComponent("x.csv")) }

        // One image: itself, unlabelled (it used to be parsed as a list and fail).
        #expect(try EmbeddingExport.items(images: images[1]) == [EmbeddingExport.Item(path: images[1])])
    }

    @Test func inferOutputKeyIsPaddleClasString() throws {
        // PaddleClas's retrieval configs say `infer_output_key: features`.
        let yaml = "Arch:\n  name: RecModel\n  infer_output_key: features\n  Backbone:\n    name: PPLCNet_x0_25\n"
        #expect(try ModelBuilder.build(Config(yaml: yaml)).arch == "RecModel")
    }

    @Test func sha256MatchesTheStandardVectors() {
        #expect(SHA256.hex(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // 56 bytes: the padding spills into a second block.
        #expect(SHA256.hex(Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // 112 bytes (two full blocks' loop) and FIPS 180-2's one million 'a' (many blocks).
        #expect(SHA256.hex(Data("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu".utf8))
            == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
        #expect(SHA256.hex(Data(repeating: UInt8(ascii: "a"), count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}

extension InferenceBundleTests {
    @Test func embeddingLayerComputesWhatEmbedReturns() throws {
        let work = try Self.workFolder()
        defer { try? FileManager.default.removeItem(at: work) }
        let (config, checkpoint, images) = try Self.trainedRetrieval(work)
        let model = try InferenceModel(config: Config(yaml: config), weights: checkpoint)
        let batch = try images.prefix(3).map { try model.preprocess(encoded: [UInt8](Data(contentsOf: URL(fileURLWithPath: $0))), source: $0) }
        let layer = model.embeddingLayer
        #expect(!layer.isTraining)
        #expect(layer.stateDict().map(\.0) == model.model.stateDict().map(\.0))
        let y = withNoGrad { layer(concat(batch, axis: 0)) }
        // embed runs the compiled inference graph: the same function, other roundings.
        let embedded = try model.embed(preprocessed: batch)
        #expect(embedded.shape == y.shape)
        #expect(zip(y.data, embedded.data).allSatisfy { abs($0 - $1) < 1e-4 })
        // Unit rows: the normalisation is part of the layer.
        for r in 0..<3 {
            let norm = (0..<16).reduce(Float(0)) { $0 + y.data[r * 16 + $1] * y.data[r * 16 + $1] }
            #expect(abs(norm - 1) < 1e-5)
        }
    }
}
