import ArgumentParser
import Foundation
import Retrieval
import TensorCore

/// `magpie bench search`: all-vs-all exact top-k on random unit vectors (the FAISS IndexFlatIP job).
struct BenchSearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "All-vs-all exact top-k (inner product) on random unit vectors: seconds and GFLOP/s.",
        discussion: """
        Every vector queries the whole set (queries = gallery = --n vectors). GFLOP/s counts the \
        2·n²·dim flops of the similarity products. Scripts/bench-search-peer.sh runs the same job \
        through faiss-cpu IndexFlatIP on the same data (--save) and prints the ratio.
        """
    )

    @Option(help: "Number of vectors (queries = gallery).") var n = 60_502
    @Option(help: "Vector dimension.") var dim = 128
    @Option(help: "Neighbours per query.") var k = 100
    @Option(help: "Timed repetitions (the best is reported).") var repeats = 1
    @Option(help: "Write the vectors to this .npy file (for the FAISS comparison).") var save: String?
    @Option(name: .customLong("save-ids"), help: "Write the result ids (n × k, int64) to this .npy file.") var saveIDs: String?
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        guard n > 0, dim > 0, k > 0, repeats > 0 else { throw ValidationError("--n, --dim, --k and --repeats must be positive") }
        let x = RetrievalBench.unitVectors(n, dim, seed: 42)
        if let save { try NPY.write(Tensor(shape: [n, dim], data: x), to: URL(fileURLWithPath: save)) }
        let index = FlatIndex(dimension: dim)
        try index.add(ids: (0..<n).map(Int64.init), vectors: x)
        var best = Double.infinity
        var result: SearchResults?
        for _ in 0..<repeats {
            best = min(best, try RetrievalBench.seconds { result = try index.search(x, k: k) })
        }
        if let saveIDs, let result { try NPY.write(Int64Array(shape: [n, k], values: result.ids), to: URL(fileURLWithPath: saveIDs)) }
        let gflops = 2 * Double(n) * Double(n) * Double(dim) / best / 1e9
        if json {
            print(String(format: "{\"bench\":\"search\",\"n\":%d,\"dim\":%d,\"k\":%d,\"seconds\":%.4f,\"gflops\":%.1f,\"peak_rss_mib\":%.0f}",
                         n, dim, k, best, gflops, RetrievalBench.peakRSSMiB))
        } else {
            print(String(format: "search n=%d dim=%d k=%d: %.3f s, %.1f GFLOP/s, peak RSS %.0f MiB",
                         n, dim, k, best, gflops, RetrievalBench.peakRSSMiB))
        }
    }
}
