import Datasets
import Dispatch
import Engine
import Foundation
import Hummingbird
import Retrieval
import TensorCore

/// What the routes share: the model (behind the micro-batcher), the live gallery, the metrics and
/// the settings. Handlers stay thin; the work is here.
public final class RetrievalService: Sendable {
    public let configuration: ServiceConfiguration
    public let model: InferenceModel
    public let gallery: SearchableGallery
    public let metrics: ServiceMetrics
    let batcher: EmbeddingBatcher
    let workers: RequestWorkers

    /// Refuses a gallery built with another model (dimension or fingerprint).
    public init(model: InferenceModel, gallery: SearchableGallery, configuration: ServiceConfiguration = ServiceConfiguration(),
                metrics: ServiceMetrics = ServiceMetrics()) throws {
        try gallery.checkCompatible(dimension: model.embeddingSize, fingerprint: model.fingerprint)
        self.configuration = configuration
        self.model = model
        self.gallery = gallery
        self.metrics = metrics
        batcher = EmbeddingBatcher(model: model, maxBatchSize: configuration.maxBatchSize,
                                   maxRunners: configuration.modelRunners, maxPending: configuration.maxQueuedRequests,
                                   metrics: metrics)
        workers = RequestWorkers(threads: configuration.workerThreads, maxQueued: configuration.maxQueuedRequests)
        metrics.model(arch: model.arch, fingerprint: model.fingerprint)
        metrics.gallery(items: gallery.snapshot.count)
    }

    /// Runs CPU-heavy request work on the worker threads (503 when their queue is full); library
    /// errors become HTTP errors.
    func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        do { return try await workers.run(work) } catch { throw APIError.map(error) }
    }

    /// Embeddings of uploaded images: 415 for non-images, 413 for images over the pixel limit
    /// (read from the header), 400 for undecodable ones, then one (micro-batched) model run.
    func embed(_ upload: UploadedImages) async throws -> [[Float]] {
        guard upload.images.count <= configuration.maxImagesPerRequest else {
            throw APIError.badRequest("\(upload.images.count) images in one request; the limit is \(configuration.maxImagesPerRequest)")
        }
        try upload.checkImages(maxPixels: configuration.maxPixels)
        let tensors: [Tensor] = try await offload { [model] in
            try upload.images.map { try model.preprocess(encoded: $0.bytes, source: $0.source) }
        }
        do { return try await batcher.embed(tensors) } catch { throw APIError.map(error) }
    }

    /// Throws 401 unless the request carries the configured API key as a bearer token.
    func authorizeWrite(_ request: Request) throws {
        guard let key = configuration.apiKey else { return }
        let given = request.headers[.authorization].flatMap { value -> Substring? in
            let parts = value.split(separator: " ", maxSplits: 1)
            return parts.count == 2 && parts[0].lowercased() == "bearer" ? parts[1] : nil
        }
        guard let given, Self.constantTimeEqual(Array(given.utf8), Array(key.utf8)) else {
            throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer"],
                            message: "gallery writes need 'Authorization: Bearer <key>' with the key of serve --api-key-file")
        }
    }

    /// Compares without an early exit, so response time does not reveal how much of a key matched.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }

    /// The k nearest items of each vector in the current snapshot (re-ranked when asked).
    func search(_ vectors: [[Float]], k: Int, rerank: Bool, filter: GalleryFilter? = nil,
                minScore: Float? = nil) async throws -> (neighbours: [[Neighbour]], galleryItems: Int) {
        try await offload { [self] in try searchNow(vectors, k: k, rerank: rerank, filter: filter, minScore: minScore) }
    }

    private func searchNow(_ vectors: [[Float]], k: Int, rerank: Bool, filter: GalleryFilter?,
                           minScore: Float?) throws -> (neighbours: [[Neighbour]], galleryItems: Int) {
        let start = DispatchTime.now().uptimeNanoseconds
        let found = try gallery.search(vectors.flatMap { $0 }, k: k, reranker: rerank ? configuration.reranker : nil,
                                       depth: configuration.rerankDepth, filter: filter, minScore: minScore)
        if found.galleryItems > 0 {  // an emptied gallery finds nothing and searches nothing
            metrics.searched(seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            metrics.queried(images: vectors.count, rerank: rerank)
        }
        return (found.hits.map { $0.map(Neighbour.init) }, found.galleryItems)
    }

    /// Adds embedded images as new items (one LMDB transaction); returns their ids and the
    /// gallery size after the commit.
    func add(vectors: [[Float]], records: [GalleryRecord], ids: [Int64?]) async throws -> (ids: [Int64], galleryItems: Int) {
        try await offload { [self] in
            let added = try gallery.add(vectors: vectors.flatMap { $0 }, records: records, ids: ids)
            let count = gallery.loadedSnapshot.count
            metrics.galleryWrite("add", items: added.count)
            metrics.gallery(items: count)
            return (added, count)
        }
    }

    /// Deletes one item; returns whether it existed and the gallery size after the commit.
    func remove(_ id: Int64) async throws -> (removed: Bool, galleryItems: Int) {
        try await offload { [self] in
            let removed = try gallery.remove(id)
            let count = gallery.loadedSnapshot.count
            if removed { metrics.galleryWrite("remove", items: 1) }
            metrics.gallery(items: count)
            return (removed, count)
        }
    }

    /// After the server has stopped taking requests: waits for model runs and queued work, then
    /// closes LMDB.
    public func shutdown() {
        workers.stop()
        batcher.waitUntilIdle()
        gallery.close()
    }
}
