import ArgumentParser
import Foundation
import Retrieval
import TensorCore

/// `magpie bench eval`: SOP-size query = gallery evaluation time and peak memory.
struct BenchEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Time and peak memory of recall@k + mAP (+ re-ranking) on SOP-size random data.",
        discussion: """
        Labels are assigned like SOP's test split (--classes products, ~5.3 images each); each \
        vector is its class centre plus noise, so the metrics are not trivial. Peak RSS includes \
        the data itself (n × dim × 4 bytes).
        """
    )

    @Option(help: "Number of vectors (queries = gallery).") var n = 60_502
    @Option(help: "Vector dimension.") var dim = 128
    @Option(help: "Number of classes.") var classes = 11_316
    @Flag(help: "Also run with k-reciprocal re-ranking.") var rerank = false

    func run() throws {
        guard n > 0, dim > 0, classes > 0 else { throw ValidationError("--n, --dim and --classes must be positive") }
        var rng = RNG(seed: 5)
        let centres = RetrievalBench.unitVectors(classes, dim, seed: 6)
        let labels = (0..<n).map { Int64($0 % classes) }
        var x = [Float](repeating: 0, count: n * dim)
        for i in 0..<n {
            let c = Int(labels[i])
            var s: Float = 0
            for j in 0..<dim { let v = centres[c * dim + j] + 0.15 * rng.normal(); x[i * dim + j] = v; s += v * v }
            let inv = 1 / s.squareRoot()
            for j in 0..<dim { x[i * dim + j] *= inv }
        }
        let evaluator = RetrievalEvaluator(ks: [1, 10, 100, 1000])
        var report: EvaluationReport?
        let plain = try RetrievalBench.seconds { report = try evaluator.evaluateSelf(embeddings: x, labels: labels, dimension: dim) }
        print(report!.table)
        print(String(format: "eval n=%d dim=%d: %.2f s, peak RSS %.0f MiB", n, dim, plain, RetrievalBench.peakRSSMiB))
        guard rerank else { return }
        var state: ReRankingState?
        let prep = try RetrievalBench.seconds {
            state = try KReciprocalReRanker().prepare(items: x, dimension: dim, queryCount: n, galleryOffset: 0)
        }
        let s = state!
        let reranked = try RetrievalBench.seconds {
            report = try evaluator.evaluateSelf(embeddings: x, labels: labels, dimension: dim) { q, row in s.rescore(query: q, similarities: row) }
        }
        print(report!.table)
        print(String(format: "re-ranked eval: prepare %.2f s (V non-zeros %d) + evaluate %.2f s, peak RSS %.0f MiB",
                     prep, s.nonZeros, reranked, RetrievalBench.peakRSSMiB))
    }
}
