import Foundation
import Hummingbird
import Retrieval

/// Live gallery maintenance: add images, read and delete items, stats.
///
/// `POST /v1/gallery/items` takes one image as the body (with `label`, `id`, `path`, `metadata`
/// query parameters) or multipart file parts, paired by position with repeated `label`, `id`,
/// `path` and `metadata` text fields. The response comes after the LMDB commit.
struct GalleryRoutes<Context: RequestContext> {
    let service: RetrievalService

    func add(to router: Router<Context>) {
        router.post("/v1/gallery/items") { request, _ in try await addItems(request) }
        router.get("/v1/gallery/items/{id}") { request, context in try await getItem(request, id: try id(context)) }
        router.delete("/v1/gallery/items/{id}") { request, context in try await deleteItem(request, id: try id(context)) }
        router.get("/v1/gallery/stats") { _, _ in try await stats() }
    }

    func addItems(_ request: Request) async throws -> EditedResponse<AddItemsResponse> {
        try service.authorizeWrite(request)
        let upload = try await UploadedImages.read(request, service: service)
        var fields = upload.fields
        for key in ["label", "id", "path", "metadata"] {
            if let value = request.uri.queryParameters.get(key) { fields[key, default: []].append(value) }
        }
        let n = upload.images.count
        for (key, values) in fields where values.count > n {
            throw APIError.badRequest("\(values.count) '\(key)' values for \(n) images")
        }
        func value(_ key: String, _ i: Int) -> String? { fields[key].flatMap { i < $0.count ? $0[i] : nil } }
        var records: [GalleryRecord] = [], ids: [Int64?] = []
        for i in 0..<n {
            var record = GalleryRecord(path: value("path", i))
            if let text = value("label", i) {
                guard let label = Int64(text) else { throw APIError.badRequest("label must be an integer, got '\(text)'") }
                record.label = label
            }
            if let text = value("metadata", i) {
                guard text.utf8.count <= service.configuration.maxMetadataBytes else {
                    throw HTTPError(.contentTooLarge, message: "metadata is \(text.utf8.count) bytes; the limit is \(service.configuration.maxMetadataBytes) (serve --max-metadata-bytes)")
                }
                guard (try? JSONSerialization.jsonObject(with: Data(text.utf8))) is [String: Any] else {
                    throw APIError.badRequest("metadata must be a JSON object, got '\(text.prefix(80))'")
                }
                record.metadata = text
            }
            var id: Int64?
            if let text = value("id", i) {
                guard let v = Int64(text), (0...Gallery.maxID).contains(v) else {
                    throw APIError.badRequest("id must be an integer in 0...\(Gallery.maxID), got '\(text.prefix(40))'")
                }
                id = v
            }
            records.append(record)
            ids.append(id)
        }
        let vectors = try await service.embed(upload)
        let added = try await service.add(vectors: vectors, records: records, ids: ids)
        let items = zip(added.ids, records).map { GalleryItemResponse(id: $0.0, record: $0.1) }
        return EditedResponse(status: .created, response: AddItemsResponse(items: items, galleryItems: added.galleryItems))
    }

    func getItem(_ request: Request, id: Int64) async throws -> GalleryItemResponse {
        let gallery = service.gallery
        guard let item = try await service.offload({ gallery.item(id) }) else { throw APIError.notFound("id \(id) is not in the gallery") }
        let withVector = ["true", "1", "yes"].contains(request.uri.queryParameters.get("vector")?.lowercased() ?? "")
        return GalleryItemResponse(id: id, record: item.record, vector: withVector ? item.vector : nil)
    }

    func deleteItem(_ request: Request, id: Int64) async throws -> DeleteItemResponse {
        try service.authorizeWrite(request)
        let result = try await service.remove(id)
        guard result.removed else { throw APIError.notFound("id \(id) is not in the gallery") }
        return DeleteItemResponse(deleted: id, galleryItems: result.galleryItems)
    }

    func stats() async throws -> StatsResponse {
        let gallery = service.gallery
        let snap = try await service.offload { gallery.snapshot }
        let m = snap.manifest
        return StatsResponse(path: gallery.path, items: snap.count, embeddingSize: m.dimension,
                             distType: m.metric.rawValue, model: m.model, fingerprint: m.fingerprint,
                             bytes: gallery.fileSize, servedModel: service.model.arch,
                             servedFingerprint: service.model.fingerprint, index: "\(snap.indexSpec)", indexBytes: snap.indexBytes,
                             pendingAdds: snap.pendingWrites.added, pendingRemovals: snap.pendingWrites.removed)
    }

    private func id(_ context: Context) throws -> Int64 {
        let text = context.parameters.get("id") ?? ""
        guard let id = Int64(text), id >= 0 else { throw APIError.badRequest("item id must be a non-negative integer, got '\(text)'") }
        return id
    }
}
