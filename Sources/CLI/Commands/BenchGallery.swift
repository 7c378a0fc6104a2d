import ArgumentParser
import Foundation
import Retrieval
import TensorCore

/// `magpie bench gallery`: vectors per second into an LMDB gallery.
struct BenchGalleryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gallery",
        abstract: "Gallery build throughput (vectors/s into LMDB, one transaction per batch) and snapshot load time."
    )

    @Option(help: "Number of vectors.") var n = 100_000
    @Option(help: "Vector dimension.") var dim = 512
    @Option(help: "Vectors per transaction.") var batchSize = 10_000
    @Option(help: "Folder for the temporary gallery.") var directory = FileManager.default.temporaryDirectory.path

    func run() throws {
        guard n > 0, dim > 0, batchSize > 0 else { throw ValidationError("--n, --dim and --batch-size must be positive") }
        let x = RetrievalBench.unitVectors(n, dim, seed: 1)
        let path = directory + "/magpie-bench-gallery-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let gallery = try Gallery.create(at: path, manifest: GalleryManifest(dimension: dim))
        let build = try RetrievalBench.seconds {
            var start = 0
            while start < n {
                let end = min(n, start + batchSize)
                try gallery.add(ids: (start..<end).map(Int64.init), vectors: Array(x[(start * dim)..<(end * dim)]))
                start = end
            }
        }
        var loaded = 0
        let load = try RetrievalBench.seconds { loaded = try gallery.snapshot().ids.count }
        print(String(format: "gallery build n=%d dim=%d batch=%d: %.2f s, %.0f vectors/s (%.0f MB/s); snapshot of %d in %.2f s",
                     n, dim, batchSize, build, Double(n) / build, Double(n * dim * 4) / build / 1e6, loaded, load))
    }
}
