import ArgumentParser
import Engine
import Foundation
import Retrieval

/// `magpie gallery import`: add embeddings from a file to a gallery (created if missing).
struct GalleryImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Add embeddings (.npy/.npz/NDJSON) to a gallery, one transaction per batch.",
        discussion: """
        .npy: a rows × dim float array, with --ids/--labels .npy files (ids default to 0..<rows). \
        .npz: arrays `vectors` (or `embeddings`/`features`), optional `ids`, `labels` (-1: no label), `paths` (unicode; "" = none). \
        .ndjson/.jsonl: one object per line {"id", "vector", "label"?, "path"?, "metadata"?}. \
        Existing ids are refused unless --upsert. All or nothing: every row is checked (dimension, \
        NaN/infinity, duplicate or existing ids) and written in one LMDB transaction, so a refused \
        import leaves the gallery, or the absence of one, as it was. --incremental commits every \
        --batch-size rows instead and says how many were committed when it fails.
        """
    )

    @Option(help: "Gallery folder (created if it does not exist).") var gallery: String
    @Option(help: "Input file: .npy, .npz, .ndjson or .jsonl.") var input: String
    @Option(help: "Ids .npy (int) for a .npy input.") var ids: String?
    @Option(help: "Labels .npy (int) for a .npy input.") var labels: String?
    @Option(help: "Metric for a new gallery: IP or L2.") var metric = "IP"
    @Option(help: "Model name recorded in a new gallery.") var model = ""
    @Option(help: "Model fingerprint; must match the gallery's when both are set.") var fingerprint = ""
    @Option(help: "Vectors per transaction with --incremental.") var batchSize = 10_000
    @Flag(help: "Commit every --batch-size rows instead of all at once.") var incremental = false
    @Flag(help: "Replace existing ids instead of refusing them.") var upsert = false
    @Option(help: .hidden) var batchDelayMs = 0  // lets the crash-safety test kill a build between commits

    func run() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        let set = try EmbeddingSet.load(input, labels: labels, ids: ids)
        let manifest = GalleryManifest(dimension: set.dimension, metric: try DistanceMetric(parsing: metric), model: model,
                                       fingerprint: fingerprint)
        let fresh = NewGalleryCleanup(path: gallery)
        let store = try Gallery.openOrCreate(at: gallery, manifest: manifest)
        let start = Date()
        var done = 0
        do {
            let step = incremental ? batchSize : max(set.count, 1)
            while done < set.count {
                let end = min(set.count, done + step)
                let batchIDs = Array(set.ids[done..<end])
                let batchVectors = Array(set.vectors[(done * set.dimension)..<(end * set.dimension)])
                let batchRecords = Array(set.records[done..<end])
                if upsert {
                    try store.upsert(ids: batchIDs, vectors: batchVectors, records: batchRecords)
                } else {
                    try store.add(ids: batchIDs, vectors: batchVectors, records: batchRecords)
                }
                done = end
                if batchDelayMs > 0 { usleep(useconds_t(batchDelayMs * 1000)) }
            }
        } catch {
            fresh.discardIfEmpty(store)
            guard done > 0 else { throw error }
            throw GalleryIngestError(underlying: error, committed: Array(set.ids[0..<done]),
                                     advice: "rows 0..<\(done); import the remaining rows after fixing them")
        }
        let seconds = Date().timeIntervalSince(start)
        print(String(format: "imported %d vectors into %@ in %.2f s (%.0f vectors/s); gallery now holds %d",
                     set.count, gallery, seconds, Double(set.count) / max(seconds, 1e-9), try store.manifest().count))
    }
}
