import Hummingbird
import Retrieval

/// `POST /v1/query` (one image) and `POST /v1/query/batch` (several, multipart).
/// Query parameters: `k` (default 10), `rerank` (`true`/`false`), `filter` (repeatable:
/// `label=3,7` or `KEY=VALUE` on metadata, applied inside the search) and `min_score` (hits
/// below it are dropped; an empty list means no match).
struct QueryRoutes<Context: RequestContext> {
    let service: RetrievalService

    func add(to router: Router<Context>) {
        router.post("/v1/query") { request, _ in try await query(request) }
        router.post("/v1/query/batch") { request, _ in try await batch(request) }
    }

    func query(_ request: Request) async throws -> QueryResponse {
        let p = try parameters(request)
        let upload = try await UploadedImages.read(request, service: service)
        guard upload.images.count == 1 else {
            throw APIError.badRequest("/v1/query takes one image (got \(upload.images.count)); use /v1/query/batch for several")
        }
        let found = try await search(upload, p)
        return QueryResponse(k: p.k, rerank: p.rerank, galleryItems: found.galleryItems, neighbours: found.neighbours[0])
    }

    func batch(_ request: Request) async throws -> BatchQueryResponse {
        let p = try parameters(request)
        let upload = try await UploadedImages.read(request, service: service)
        let found = try await search(upload, p)
        let results = found.neighbours.enumerated().map { i, n in
            BatchQueryResponse.Result(index: i, source: upload.images[i].source, neighbours: n)
        }
        return BatchQueryResponse(k: p.k, rerank: p.rerank, galleryItems: found.galleryItems, results: results)
    }

    /// The query parameters both routes take.
    private struct Parameters {
        var k: Int
        var rerank: Bool
        var filter: GalleryFilter?
        var minScore: Float?
    }

    /// Embeds the uploaded images and searches with `p`.
    private func search(_ upload: UploadedImages, _ p: Parameters) async throws -> (neighbours: [[Neighbour]], galleryItems: Int) {
        let vectors = try await service.embed(upload)
        return try await service.search(vectors, k: p.k, rerank: p.rerank, filter: p.filter, minScore: p.minScore)
    }

    private func parameters(_ request: Request) throws -> Parameters {
        let query = request.uri.queryParameters
        let conditions = query.getAll("filter")
        let filter: GalleryFilter?
        do { filter = conditions.isEmpty ? nil : try GalleryFilter(parsing: conditions) } catch { throw APIError.map(error) }
        var minScore: Float?
        if let text = query.get("min_score") {
            guard let v = Float(text), v.isFinite else { throw APIError.badRequest("min_score must be a number, got '\(text.prefix(40))'") }
            minScore = v
        }
        var k = service.configuration.defaultK
        if let text = query.get("k") {
            guard let v = Int(text), v >= 1, v <= service.configuration.maxK else {
                throw APIError.badRequest("k must be an integer in 1...\(service.configuration.maxK), got '\(text)'")
            }
            k = v
        }
        var rerank = false
        if let text = query.get("rerank") {
            switch text.lowercased() {
            case "true", "1", "yes": rerank = true
            case "false", "0", "no": rerank = false
            default: throw APIError.badRequest("rerank must be true or false, got '\(text)'")
            }
        }
        return Parameters(k: k, rerank: rerank, filter: filter, minScore: minScore)
    }
}
