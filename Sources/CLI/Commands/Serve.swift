import ArgumentParser
import Dispatch
import Engine
import Foundation
import Retrieval
import Service

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
        run, --model-runners runs at a time). SIGTERM/SIGINT stop accepting connections, finish the \
        requests in flight and close LMDB. Binds to 127.0.0.1 unless --host says otherwise.
        """
    )

    @OptionGroup var config: ConfigOptions
    @Option(name: [.customLong("weights"), .customLong("model")], help: "Checkpoint with the trained weights (--model is an alias).")
    var weights: String?
    @Option(help: "Inference bundle (`magpie export --format bundle`) instead of -c/--weights.") var bundle: String?
    @Option(help: "Gallery folder (made by `magpie gallery build`).") var gallery: String
    @Option(help: "Address to bind (0.0.0.0 exposes the service to the network).") var host = "127.0.0.1"
    @Option(help: "TCP port (0: any free port, printed at start).") var port = 8080
    @Option(name: .customLong("max-body-bytes"), help: "Largest request body accepted.") var maxBodyBytes = 10 * 1024 * 1024
    @Option(name: .customLong("max-batch"), help: "Most images per model run (micro-batch).") var maxBatch = 16
    @Option(name: .customLong("model-runners"), help: "Model runs at the same time.") var modelRunners = 1
    @Option(name: .customLong("rerank-depth"), help: "rerank=true re-ranks each query's N nearest (0: the whole gallery).")
    var rerankDepth = 1000

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        guard maxBodyBytes > 0, maxBatch > 0, modelRunners > 0 else {
            throw ValidationError("--max-body-bytes, --max-batch and --model-runners must be positive")
        }
        guard rerankDepth >= 0 else { throw ValidationError("--rerank-depth must be 0 or more") }
    }

    func run() throws {
        let model = try config.inferenceModel(weights: weights, bundle: bundle)
        let live = try LiveGallery(path: gallery)
        var settings = ServiceConfiguration()
        settings.host = host
        settings.port = port
        settings.maxBodyBytes = maxBodyBytes
        settings.maxBatchSize = maxBatch
        settings.modelRunners = modelRunners
        settings.rerankDepth = rerankDepth == 0 ? nil : rerankDepth
        let service = try RetrievalService(model: model, gallery: live, configuration: settings)
        let announce: @Sendable (Int) async -> Void = { [host, gallery] bound in
            print("magpie serve: http://\(host):\(bound) — gallery \(gallery) (\(live.snapshot.count) items), model \(model.arch) \(model.fingerprint)")
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
