import Engine
import Foundation
import Retrieval
import Testing

/// A gallery built with a config + checkpoint accepts the bundle of the same model (and the other
/// way round), and refuses a bundle of other weights.
@Suite struct BundleGalleryTests {
    @Test func galleriesAcceptTheBundleOfTheirModel() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("magpie-bundle-gallery-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = ServiceFixture.config
        let trained = try InferenceModel(config: Config(yaml: config))
        for (_, t) in trained.model.stateDict() { for i in t.data.indices { t.data[i] += 0.01 } }
        let checkpoint = Checkpoint(prefix: folder.appendingPathComponent("best"))
        try checkpoint.save(model: trained.model, optimizer: nil, state: .init(epoch: 1, step: 1, arch: "RecModel"), config: config)
        let fromConfig = try InferenceModel(config: Config(yaml: config), weights: checkpoint.weightsURL.path)
        let bundleURL = folder.appendingPathComponent("bundle")
        try InferenceBundle.write(config: Config(yaml: config), weights: checkpoint.weightsURL.path, magpieVersion: "test", to: bundleURL)
        let fromBundle = try InferenceModel(bundle: bundleURL)

        let images = try (0..<4).map { try ServiceFixture.pattern($0) }
        let vectors = try fromConfig.embed(encoded: images.enumerated().map { ($1, "g\($0)") })
        let gallery = try Gallery.create(at: folder.appendingPathComponent("g").path, manifest: GalleryManifest(
            dimension: fromConfig.embeddingSize, model: fromConfig.arch, fingerprint: fromConfig.fingerprint))
        try gallery.add(ids: [0, 1, 2, 3], vectors: vectors.data, records: (0..<4).map { GalleryRecord(label: Int64($0)) })
        try gallery.checkCompatible(dimension: fromBundle.embeddingSize, fingerprint: fromBundle.fingerprint)
        // Queries embedded by the bundle score the gallery exactly as the config's model does.
        let index = try FlatIndex(gallery.snapshot())
        let viaBundle = try index.search(fromBundle.embed(encoded: [(images[2], "q")]).data, k: 4)
        let viaConfig = try index.search(fromConfig.embed(encoded: [(images[2], "q")]).data, k: 4)
        #expect(Array(viaBundle.ids(ofQuery: 0)) == Array(viaConfig.ids(ofQuery: 0)))
        #expect(Array(viaBundle.scores(ofQuery: 0)) == Array(viaConfig.scores(ofQuery: 0)))

        // Another model's bundle is refused by the gallery.
        let otherURL = folder.appendingPathComponent("other")
        try InferenceBundle.write(config: Config(yaml: config), weights: nil, magpieVersion: "test", to: otherURL)
        let other = try InferenceModel(bundle: otherURL)
        #expect(other.fingerprint != fromConfig.fingerprint)
        #expect(throws: RetrievalError.self) { try gallery.checkCompatible(dimension: other.embeddingSize, fingerprint: other.fingerprint) }
    }
}
