import Retrieval

/// Settings of `magpie serve` and of the router the tests build.
public struct ServiceConfiguration: Sendable {
    /// Address to bind; loopback unless told otherwise.
    public var host = "127.0.0.1"
    /// TCP port; 0 picks a free one (printed when the server is up).
    public var port = 8080
    /// Largest request body accepted; larger ones get 413.
    public var maxBodyBytes = 10 * 1024 * 1024
    /// Most images embedded in one model run (micro-batches gather requests up to this).
    public var maxBatchSize = 16
    /// Model runs allowed at the same time (each runs a whole micro-batch).
    public var modelRunners = 1
    /// Neighbours returned when a query gives no `k`, and the most a query may ask for.
    public var defaultK = 10
    public var maxK = 1000
    /// Most images in one `/v1/query/batch` or `/v1/gallery/items` request.
    public var maxImagesPerRequest = 64
    /// k-reciprocal re-ranking settings for `rerank=true`.
    public var reranker = KReciprocalReRanker()
    /// Re-rank within each query's N nearest; nil: against the whole gallery.
    public var rerankDepth: Int? = 1000

    public init() {}
}
