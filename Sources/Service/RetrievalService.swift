import Datasets
import Dispatch
import Engine
import Foundation
import Retrieval
import TensorCore

/// What the routes share: the model (behind the micro-batcher), the live gallery, the metrics and
/// the settings. Handlers stay thin; the work is here.
public final class RetrievalService: Sendable {
    public let configuration: ServiceConfiguration
    public let model: InferenceModel
    public let gallery: LiveGallery
    public let metrics: ServiceMetrics
    let batcher: EmbeddingBatcher

    /// Refuses a gallery built with another model (dimension or fingerprint).
    public init(model: InferenceModel, gallery: LiveGallery, configuration: ServiceConfiguration = ServiceConfiguration(),
                metrics: ServiceMetrics = ServiceMetrics()) throws {
        try gallery.checkCompatible(dimension: model.embeddingSize, fingerprint: model.fingerprint)
        self.configuration = configuration
        self.model = model
        self.gallery = gallery
        self.metrics = metrics
        batcher = EmbeddingBatcher(model: model, maxBatchSize: configuration.maxBatchSize,
                                   maxRunners: configuration.modelRunners, metrics: metrics)
        metrics.model(arch: model.arch, fingerprint: model.fingerprint)
        metrics.gallery(items: gallery.snapshot.count)
    }

    /// Embeddings of uploaded images: 415 for non-images, 400 for undecodable ones, then one
    /// (micro-batched) model run.
    func embed(_ upload: UploadedImages) async throws -> [[Float]] {
        guard upload.images.count <= configuration.maxImagesPerRequest else {
            throw APIError.badRequest("\(upload.images.count) images in one request; the limit is \(configuration.maxImagesPerRequest)")
        }
        try upload.checkFormats()
        let tensors: [Tensor] = try upload.images.map { image in
            do { return try model.preprocess(encoded: image.bytes, source: image.source) } catch { throw APIError.map(error) }
        }
        do { return try await batcher.embed(tensors) } catch { throw APIError.map(error) }
    }

    /// The k nearest items of each vector in the current snapshot (re-ranked when asked).
    func search(_ vectors: [[Float]], k: Int, rerank: Bool) throws -> (neighbours: [[Neighbour]], galleryItems: Int) {
        let snap = gallery.snapshot
        guard snap.count > 0 else { return (vectors.map { _ in [] }, 0) }  // an emptied gallery finds nothing
        let start = DispatchTime.now().uptimeNanoseconds
        let flat = vectors.flatMap { $0 }
        let results = rerank
            ? try snap.index.searchReRanked(flat, k: k, reranker: configuration.reranker, depth: configuration.rerankDepth)
            : try snap.index.search(flat, k: k)
        metrics.searched(seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        metrics.queried(images: vectors.count, rerank: rerank)
        let neighbours = (0..<vectors.count).map { q in
            zip(results.ids(ofQuery: q), results.scores(ofQuery: q)).filter { $0.0 >= 0 }.enumerated().map { r, hit in
                Neighbour(rank: r + 1, id: hit.0, score: hit.1, record: snap.records[hit.0])
            }
        }
        return (neighbours, snap.count)
    }

    /// Adds embedded images as new items (one LMDB transaction); returns their ids.
    func add(vectors: [[Float]], records: [GalleryRecord], ids: [Int64?]) throws -> [Int64] {
        do {
            let added = try gallery.add(vectors: vectors.flatMap { $0 }, records: records, ids: ids)
            metrics.galleryWrite("add", items: added.count)
            metrics.gallery(items: gallery.snapshot.count)
            return added
        } catch { throw APIError.map(error) }
    }

    func remove(_ id: Int64) throws -> Bool {
        do {
            let removed = try gallery.remove(id)
            if removed { metrics.galleryWrite("remove", items: 1) }
            metrics.gallery(items: gallery.snapshot.count)
            return removed
        } catch { throw APIError.map(error) }
    }

    /// After the server has stopped taking requests: waits for model runs, then closes LMDB.
    public func shutdown() {
        batcher.waitUntilIdle()
        gallery.close()
    }
}
