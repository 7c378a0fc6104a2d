import Retrieval

/// Settings of `magpie serve` and of the router the tests build.
public struct ServiceConfiguration: Sendable {
    /// Address to bind; loopback unless told otherwise.
    public var host = "127.0.0.1"
    /// TCP port; 0 picks a free one (printed when the server is up).
    public var port = 8080
    /// Largest request body accepted; larger ones get 413.
    public var maxBodyBytes = 10 * 1024 * 1024
    /// Largest image (width × height, read from its header before decoding); larger ones get 413.
    public var maxPixels = 40_000_000
    /// Most images embedded in one model run (micro-batches gather requests up to this).
    public var maxBatchSize = 16
    /// Model runs allowed at the same time (each runs a whole micro-batch).
    public var modelRunners = 1
    /// Threads that parse, decode, preprocess and search, off the server's event loops and
    /// Swift's cooperative pool (so a heavy request never stalls `/healthz`).
    public var workerThreads = 2
    /// Requests allowed to wait for a worker thread or a model run; beyond it the service
    /// answers 503 with `Retry-After` instead of queueing without bound.
    public var maxQueuedRequests = 64
    /// Open connections at most; further ones wait in the listen backlog until one closes.
    public var maxConnections = 512
    /// Seconds a connection may stay silent between requests before it is closed.
    public var idleTimeout = 60.0
    /// Seconds from the first byte of a request to the end of its headers (408, then closed).
    public var headerTimeout = 10.0
    /// Seconds from the end of the headers to the end of the body (then closed).
    public var bodyTimeout = 60.0
    /// Seconds SIGTERM waits for requests in flight before cancelling them.
    public var shutdownTimeout = 10.0
    /// Neighbours returned when a query gives no `k`, and the most a query may ask for.
    public var defaultK = 10
    public var maxK = 1000
    /// Most images in one `/v1/query/batch` or `/v1/gallery/items` request.
    public var maxImagesPerRequest = 64
    /// Largest `metadata` JSON stored with one item, in bytes (413 beyond).
    public var maxMetadataBytes = 16 * 1024
    /// Bearer token that gallery writes (add, delete) must carry; nil: writes are open to anyone
    /// who reaches the port (`magpie serve` allows that only on loopback unless told).
    public var apiKey: String?
    /// k-reciprocal re-ranking settings for `rerank=true`.
    public var reranker = KReciprocalReRanker()
    /// Re-rank within each query's N nearest; nil: against the whole gallery.
    public var rerankDepth: Int? = 1000

    public init() {}
}
