import ArgumentParser
import Dispatch
import Engine
import Foundation
import Retrieval
import Service
import TensorCore

/// `magpie serve`: the HTTP query service over one gallery.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve nearest-product queries and live gallery updates over HTTP (Hummingbird).",
        discussion: """
        Routes: POST /v1/query (one JPEG/PNG as the body or a multipart file part; ?k=10&rerank=false), \
        POST /v1/query/batch (multipart, several images), POST /v1/gallery/items (add images; label, \
        id, path, metadata as query parameters or multipart fields), GET and DELETE \
        /v1/gallery/items/{id}, GET /v1/gallery/stats, GET /healthz, GET /metrics (Prometheus). \
        Responses and errors are JSON; a body over --max-body-bytes gets 413, a non-image 415, an \
        undecodable image 400.

        The model is -c CONFIG [--weights CHECKPOINT], --weights alone for a checkpoint written by \
        `magpie train`, or --bundle DIR (`magpie export --format bundle`); a gallery built with another model fingerprint is refused. Adds and deletes \
        commit to LMDB before they are answered and are visible to the next query; searches go on \
        during writes. Concurrent queries are embedded together (up to --max-batch images per model \
        run, --model-runners runs at a time); decoding, preprocessing and search run on --workers \
        threads, and when --max-queue requests already wait the answer is 503 with Retry-After. \
        Image sizes are read from the header and checked against --max-pixels before decoding. \
        SIGTERM/SIGINT stop accepting connections, give the requests in flight --shutdown-timeout \
        seconds and close LMDB.

        Security: queries are open to anyone who reaches the port. Writes (POST \
        /v1/gallery/items, DELETE) need 'Authorization: Bearer KEY' when --api-key-file is given; \
        binding beyond loopback without one is refused unless --allow-unauthenticated-writes. \
        There is no TLS: put a reverse proxy in front when the network is not trusted.
        """
    )

    @OptionGroup var model: EmbeddingModelOptions
    @Option(help: "Gallery folder (made by `magpie gallery build`).") var gallery: String
    @Option(help: "Address to bind (0.0.0.0 exposes the service to the network).") var host = "127.0.0.1"
    @Option(help: "TCP port (0: any free port, printed at start).") var port = 8080
    @Option(name: .customLong("max-body-bytes"), help: "Largest request body accepted.") var maxBodyBytes = 10 * 1024 * 1024
    @Option(name: .customLong("max-batch"), help: "Most images per model run (micro-batch).") var maxBatch = 16
    @Option(name: .customLong("model-runners"), help: "Model runs at the same time.") var modelRunners = 1
    @Option(name: .customLong("rerank-depth"), help: "rerank=true re-ranks each query's N nearest (0: the whole gallery).")
    var rerankDepth = 1000
    @Option(name: .customLong("max-pixels"), help: "Largest image (width x height, from its header) accepted; larger get 413.")
    var maxPixels = 40_000_000
    @Option(help: "Threads for decoding, preprocessing, search and gallery writes.") var workers = 2
    @Option(name: .customLong("max-queue"), help: "Requests that may wait for a worker or a model run before 503.")
    var maxQueue = 64
    @Option(name: .customLong("max-connections"), help: "Open connections at most (more wait in the listen backlog).")
    var maxConnections = 512
    @Option(name: .customLong("idle-timeout"), help: "Seconds a connection may stay silent between requests.") var idleTimeout = 60.0
    @Option(name: .customLong("header-timeout"), help: "Seconds to receive a request's headers once it starts (408 after).")
    var headerTimeout = 10.0
    @Option(name: .customLong("body-timeout"), help: "Seconds to receive a request body after its headers.") var bodyTimeout = 60.0
    @Option(name: .customLong("shutdown-timeout"), help: "Seconds SIGTERM waits for requests in flight.") var shutdownTimeout = 10.0
    @Option(name: .customLong("max-metadata-bytes"), help: "Largest metadata JSON per added item.") var maxMetadataBytes = 16 * 1024
    @Option(name: .customLong("api-key-file"), help: "File whose first line is the bearer token gallery writes must carry.")
    var apiKeyFile: String?
    @Flag(name: .customLong("allow-unauthenticated-writes"), help: "Allow adds and deletes without a key on a non-loopback --host.")
    var allowUnauthenticatedWrites = false

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        guard maxBodyBytes > 0, maxBatch > 0, modelRunners > 0 else {
            throw ValidationError("--max-body-bytes, --max-batch and --model-runners must be positive")
        }
        guard rerankDepth >= 0 else { throw ValidationError("--rerank-depth must be 0 or more") }
        guard maxPixels > 0, workers > 0, maxQueue >= 0, maxConnections > 0, maxMetadataBytes > 0 else {
            throw ValidationError("--max-pixels, --workers, --max-connections and --max-metadata-bytes must be positive, --max-queue 0 or more")
        }
        for (name, value) in [("--idle-timeout", idleTimeout), ("--header-timeout", headerTimeout),
                              ("--body-timeout", bodyTimeout), ("--shutdown-timeout", shutdownTimeout)] {
            guard value > 0, value.isFinite else { throw ValidationError("\(name) must be a positive number of seconds") }
        }
        if apiKeyFile == nil, !allowUnauthenticatedWrites, !Self.isLoopback(host) {
            throw ValidationError("--host \(host) exposes gallery writes to the network: give --api-key-file FILE (clients send 'Authorization: Bearer KEY'), or --allow-unauthenticated-writes")
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The key in the first line of `path` (surrounding whitespace removed).
    static func readAPIKey(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read --api-key-file \(path)")
        }
        let key = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard key.utf8.count >= 16 else {
            throw ValidationError("--api-key-file \(path): the key must be at least 16 characters (e.g. `openssl rand -hex 32 > \(path)`)")
        }
        return key
    }

    /// Connections are file descriptors: raise the soft limit to the hard one, so the connection
    /// cap, not the descriptor limit, is what refuses clients.
    static func raiseDescriptorLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    func run() throws {
        let model = try self.model.load()
        let live = try SearchableGallery(path: gallery)
        var settings = ServiceConfiguration()
        settings.host = host
        settings.port = port
        settings.maxBodyBytes = maxBodyBytes
        settings.maxBatchSize = maxBatch
        settings.modelRunners = modelRunners
        settings.rerankDepth = rerankDepth == 0 ? nil : rerankDepth
        settings.maxPixels = maxPixels
        settings.workerThreads = workers
        settings.maxQueuedRequests = maxQueue
        settings.maxConnections = maxConnections
        settings.idleTimeout = idleTimeout
        settings.headerTimeout = headerTimeout
        settings.bodyTimeout = bodyTimeout
        settings.shutdownTimeout = shutdownTimeout
        settings.maxMetadataBytes = maxMetadataBytes
        settings.apiKey = try apiKeyFile.map(Self.readAPIKey)
        Self.raiseDescriptorLimit()
        let service = try RetrievalService(model: model, gallery: live, configuration: settings)
        if ConvolutionOptions.defaults.usesInferenceGraph {
            let prepared = try model.prepare(maxBatch: settings.maxBatchSize)
            print(String(format: "magpie serve: inference graphs for batches of 1 to %d compiled in %.1f s",
                         prepared.batches.last ?? 1, prepared.seconds))
        }
        let writes = settings.apiKey == nil ? "open to anyone who reaches the port" : "need the API key"
        let announce: @Sendable (Int) async -> Void = { [host, gallery] bound in
            print("magpie serve: http://\(host):\(bound) — gallery \(gallery) (\(live.snapshot.count) items), model \(model.arch) \(model.fingerprint); writes \(writes)")
            fflush(stdout)
        }
        // The root command is synchronous; the server runs as a task and this thread waits for it.
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var failure: Error?
        Task {
            do { try await runServer(service: service, onServerRunning: announce) } catch { failure = error }
            done.signal()
        }
        done.wait()
        if let failure { throw failure }
        print("magpie serve: stopped; gallery closed with \(live.snapshot.count) items")
    }
}
