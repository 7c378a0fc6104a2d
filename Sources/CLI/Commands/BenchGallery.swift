import ArgumentParser
import Foundation
import Retrieval
import TensorCore

/// `magpie bench gallery`: vectors per second into an LMDB gallery.
struct BenchGalleryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gallery",
        abstract: "Gallery build throughput (vectors/s into LMDB, one transaction per batch) and snapshot load time.",
        discussion: """
        --live-adds N then opens the gallery as the service does and times N single-item adds \
        (commit + snapshot swap; p50/p99), next to one full copy of the snapshot: what each add \
        cost before writes went to an append segment.
        """
    )

    @Option(help: "Number of vectors.") var n = 100_000
    @Option(help: "Vector dimension.") var dim = 512
    @Option(help: "Vectors per transaction.") var batchSize = 10_000
    @Option(help: "Folder for the temporary gallery.") var directory = FileManager.default.temporaryDirectory.path
    @Option(name: .customLong("live-adds"), help: "Time this many single-item adds to the served gallery.") var liveAdds = 0

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
        guard liveAdds > 0 else { return }
        gallery.close()
        let live = try SearchableGallery(path: path)
        let extra = RetrievalBench.unitVectors(liveAdds, dim, seed: 2)
        var times: [Double] = []
        for i in 0..<liveAdds {
            let vector = Array(extra[(i * dim)..<((i + 1) * dim)])
            times.append(try RetrievalBench.seconds { _ = try live.add(vectors: vector, records: [GalleryRecord()], ids: [nil]) })
        }
        live.waitForCompaction()
        let copy = try RetrievalBench.seconds { _ = try live.snapshot.compacted() }
        times.sort()
        func percentile(_ p: Double) -> Double { times[min(times.count - 1, Int(Double(times.count) * p))] * 1000 }
        print(String(format: "live adds to %d items: p50 %.2f ms, p99 %.2f ms, max %.2f ms; one full snapshot copy %.1f ms",
                     n, percentile(0.5), percentile(0.99), times.last! * 1000, copy * 1000))
        live.close()
    }
}
