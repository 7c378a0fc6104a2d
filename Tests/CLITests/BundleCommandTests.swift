import Foundation
@testable import Retrieval
import TensorCore
import TestSupport
import Testing

/// `magpie export --format bundle`, `--bundle` and `export-embeddings` end to end through the
/// built executable.
@Suite struct BundleCommandTests {
    static let config = TinyRetrieval.inferenceConfig(dimension: 8, gallerySplit: false,
                                                      global: "  feature_normalize: True\n  pretrained_model: null")

    /// Colour JPEG and PNG fixtures of the Datasets tests, copied into `folder`.
    static func images(into folder: String) throws -> [String] {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("DatasetsTests/Fixtures/images")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return try ["rgb_q90.jpg", "rgb_420_q75.jpg", "progressive.jpg", "rgb.png"].map { name in
            let target = folder + "/" + name
            try FileManager.default.copyItem(at: fixtures.appendingPathComponent(name), to: URL(fileURLWithPath: target))
            return target
        }.sorted()
    }

    @Test func bundleExportEmbeddingsImportAndQuery() throws {
        try #require(FileManager.default.isExecutableFile(atPath: MagpieBinary.url.path))
        let dir = TemporaryFolder()
        defer { dir.cleanup() }
        let images = try Self.images(into: dir.path + "/images")
        let config = dir.path + "/tiny.yaml"
        try Self.config.write(toFile: config, atomically: true, encoding: .utf8)
        let weights = dir.path + "/w.safetensors", bundle = dir.path + "/bundle"
        #expect(try MagpieBinary.run(["export", "-c", config, "--format", "safetensors", "--out", weights]).status == 0)
        let exported = try MagpieBinary.run(["export", "-c", config, "--weights", weights, "--format", "bundle", "--out", bundle])
        #expect(exported.status == 0, "\(exported.stderr)")
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bundle + "/manifest.json"))) as? [String: Any]
        let fingerprint = try #require(manifest?["fingerprint"] as? String)
        #expect(manifest?["embedding_size"] as? Int == 8)

        // The embeddings of the folder, with paths, as the bundle's model computes them.
        let npz = dir.path + "/e.npz"
        let run = try MagpieBinary.run(["export-embeddings", "--bundle", bundle, "--images", dir.path + "/images", "--out", npz])
        #expect(run.status == 0, "\(run.stderr)")
        let file = try NPZ.read(URL(fileURLWithPath: npz))
        #expect(try file.tensor("embeddings").shape == [4, 8])
        #expect(file.arrays["labels"]?.integers?.values == [-1, -1, -1, -1])
        #expect(file.arrays["paths"]?.strings == images)

        // Imported into a gallery with the bundle's fingerprint, a query through the config +
        // weights is accepted and finds each image itself.
        let gallery = dir.path + "/g"
        #expect(try MagpieBinary.run(["gallery", "import", "--input", npz, "--gallery", gallery, "--fingerprint", fingerprint]).status == 0)
        let query = try MagpieBinary.run(["query", "-c", config, "--weights", weights, "--gallery", gallery,
                                                 "--image", images[2], "--k", "1", "--json"])
        #expect(query.status == 0, "\(query.stderr)")
        #expect(query.stdout.contains("\"path\":\"\(images[2].replacingOccurrences(of: "/", with: "\\/"))\""), "\(query.stdout)")
        #expect(!query.stdout.contains("\"label\":-1"), "label -1 of the export means no label: \(query.stdout)")

        // --exclude-self leaves the query's own entry out and still answers --k others, ranked from 1.
        let others = try MagpieBinary.run(["query", "-c", config, "--weights", weights, "--gallery", gallery,
                                           "--image", images[2], "--k", "3", "--exclude-self", "--json"])
        #expect(others.status == 0, "\(others.stderr)")
        let answer = try JSONSerialization.jsonObject(with: Data(others.stdout.utf8)) as? [String: Any]
        let neighbours = try #require(answer?["neighbours"] as? [[String: Any]])
        #expect(neighbours.compactMap { $0["path"] as? String }.sorted() == images.filter { $0 != images[2] }.sorted())
        #expect(neighbours.compactMap { $0["rank"] as? Int } == [1, 2, 3])

        // --bundle excludes -c and --weights; a damaged bundle names the file.
        let both = try MagpieBinary.run(["query", "--bundle", bundle, "--weights", weights, "--gallery", gallery, "--image", images[0]])
        #expect(both.status != 0 && both.stderr.contains("--bundle"))
        try Data("x".utf8).write(to: URL(fileURLWithPath: bundle + "/config.yaml"))
        let damaged = try MagpieBinary.run(["query", "--bundle", bundle, "--gallery", gallery, "--image", images[0]])
        #expect(damaged.status != 0 && damaged.stderr.contains("config.yaml"))
        #expect(damaged.stderr.split(separator: "\n").count == 1, "\(damaged.stderr)")
    }

    @Test func exportTakesExactlyOneModelSource() throws {
        try #require(FileManager.default.isExecutableFile(atPath: MagpieBinary.url.path))
        let dir = TemporaryFolder()
        defer { dir.cleanup() }
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let config = dir.path + "/tiny.yaml"
        try Self.config.write(toFile: config, atomically: true, encoding: .utf8)
        let both = try MagpieBinary.run(["export", "-c", config, "--model", "ResNet18", "--out", dir.path + "/x.onnx"])
        #expect(both.status != 0 && both.stderr.contains("not both"))
        let neither = try MagpieBinary.run(["export", "--out", dir.path + "/x.onnx"])
        #expect(neither.status != 0 && neither.stderr.contains("--model"))
        let bundleFromRegistry = try MagpieBinary.run(["export", "--model", "ResNet18", "--format", "bundle", "--out", dir.path + "/b"])
        #expect(bundleFromRegistry.status != 0 && bundleFromRegistry.stderr.contains("-c CONFIG"))
        // No weights: no bundle, one line, nothing written.
        let untrained = try MagpieBinary.run(["export", "-c", config, "--format", "bundle", "--out", dir.path + "/b"])
        #expect(untrained.status != 0 && untrained.stderr.contains("untrained"), "\(untrained.stderr)")
        #expect(untrained.stderr.split(separator: "\n").count == 1, "\(untrained.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/b"))
        // A folder whose manifest.json is not a bundle's is never replaced.
        let other = dir.path + "/other"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        try Data(#"{"format": "magpie-gallery-export"}"#.utf8).write(to: URL(fileURLWithPath: other + "/manifest.json"))
        let weights = dir.path + "/w.safetensors"
        #expect(try MagpieBinary.run(["export", "-c", config, "--format", "safetensors", "--out", weights]).status == 0)
        let over = try MagpieBinary.run(["export", "-c", config, "--weights", weights, "--format", "bundle", "--out", other])
        #expect(over.status != 0 && over.stderr.contains("not a magpie bundle"), "\(over.stderr)")
        #expect(FileManager.default.fileExists(atPath: other + "/manifest.json"))
        // The config's RecModel with its L2 normalisation, at the eval preprocessing's 32 px.
        let onnx = try MagpieBinary.run(["export", "-c", config, "--format", "onnx", "--out", dir.path + "/m.onnx"])
        #expect(onnx.status == 0, "\(onnx.stderr)")
        #expect(onnx.stdout.contains("input [N, 3, 32, 32] → output [N, 8]"), "\(onnx.stdout)")
    }
}
