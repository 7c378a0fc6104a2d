/// The service's metric names (Prometheus conventions: snake_case, base units, `_total` counters)
/// and the calls that record them.
public struct ServiceMetrics: Sendable {
    public let registry: PrometheusRegistry

    static let requests = "magpie_http_requests_total"
    static let requestDuration = "magpie_http_request_duration_seconds"
    static let queries = "magpie_queries_total"
    static let embedDuration = "magpie_embed_duration_seconds"
    static let embedBatch = "magpie_embed_batch_images"
    static let searchDuration = "magpie_search_duration_seconds"
    static let galleryItems = "magpie_gallery_items"
    static let galleryWrites = "magpie_gallery_writes_total"
    static let modelRuns = "magpie_model_runs_in_flight"
    static let modelInfo = "magpie_model_info"

    public init(registry: PrometheusRegistry = PrometheusRegistry()) {
        self.registry = registry
        registry.register(Self.requests, .counter, help: "HTTP requests by route pattern, method and status.")
        registry.register(Self.requestDuration, .histogram, help: "HTTP request latency by route pattern.",
                          bounds: Histogram.latencyBounds)
        registry.register(Self.queries, .counter, help: "Query images searched, by re-ranking.")
        registry.register(Self.embedDuration, .histogram, help: "Time of one model run (a micro-batch).",
                          bounds: Histogram.latencyBounds)
        registry.register(Self.embedBatch, .histogram, help: "Images per model run (micro-batch size).",
                          bounds: [1, 2, 4, 8, 16, 32, 64])
        registry.register(Self.searchDuration, .histogram, help: "Time of the index search (and re-ranking) per request.",
                          bounds: Histogram.latencyBounds)
        registry.register(Self.galleryItems, .gauge, help: "Items in the gallery.")
        registry.register(Self.galleryWrites, .counter, help: "Items written to the gallery, by operation.")
        registry.register(Self.modelRuns, .gauge, help: "Model runs in progress.")
        registry.register(Self.modelInfo, .gauge, help: "The served model (value 1).")
    }

    func request(route: String, method: String, status: Int, seconds: Double) {
        registry.increment(Self.requests, labels: [("method", method), ("route", route), ("status", String(status))])
        registry.observe(Self.requestDuration, labels: [("route", route)], seconds)
    }

    func queried(images: Int, rerank: Bool) {
        registry.increment(Self.queries, labels: [("rerank", String(rerank))], by: Double(images))
    }

    func modelRun(images: Int, seconds: Double) {
        registry.observe(Self.embedDuration, seconds)
        registry.observe(Self.embedBatch, Double(images))
    }

    func modelRunsInFlight(_ n: Int) { registry.set(Self.modelRuns, to: Double(n)) }

    func searched(seconds: Double) { registry.observe(Self.searchDuration, seconds) }

    func gallery(items: Int) { registry.set(Self.galleryItems, to: Double(items)) }

    func galleryWrite(_ op: String, items: Int) {
        registry.increment(Self.galleryWrites, labels: [("op", op)], by: Double(items))
    }

    func model(arch: String, fingerprint: String) {
        registry.set(Self.modelInfo, labels: [("arch", arch), ("fingerprint", fingerprint)], to: 1)
    }
}
