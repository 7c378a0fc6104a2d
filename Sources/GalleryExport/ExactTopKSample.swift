import Retrieval
import TensorCore

/// Exact top-k answers for a seeded sample of gallery items (query = gallery, each query's own
/// entry excluded), written as `exact_topk.json` beside an export: after importing the vectors
/// into an approximate engine, the same queries there give its recall@k against these answers.
public struct ExactTopKSample: Codable, Equatable, Sendable {
    public struct Query: Codable, Equatable, Sendable {
        public var id: Int64
        /// Best first; equal scores in id order. Shorter than k only when the gallery is smaller.
        public var neighbors: [Int64]
        public var scores: [Float]
    }

    public var k: Int
    /// `IP` (inner product; cosine on L2-normalised vectors) or `L2` (squared distance).
    public var metric: DistanceMetric
    public var seed: UInt64
    public var excludesSelf = true
    public var queries: [Query]

    enum CodingKeys: String, CodingKey {
        case k, metric, seed, excludesSelf = "excludes_self", queries
    }

    /// Picks `min(sampleSize, count)` items with `RNG(seed)` (listed in gallery order) and
    /// searches each one's exact top-k among all the others with `FlatIndex`.
    public static func compute(_ snap: GallerySnapshot, sampleSize: Int, k: Int, seed: UInt64) throws -> ExactTopKSample {
        guard sampleSize >= 0, k > 0 else {
            throw RetrievalError.invalidArgument("exact top-k sample: need --sample >= 0 and --k > 0 (got \(sampleSize), \(k))")
        }
        let n = snap.ids.count
        var rng = RNG(seed: seed)
        let picks = n == 0 ? [] : Array(rng.permutation(n).prefix(min(sampleSize, n))).sorted()
        let d = snap.manifest.dimension
        var queries: [Float] = []
        queries.reserveCapacity(picks.count * d)
        for i in picks { queries += snap.vectors[(i * d)..<((i + 1) * d)] }
        let queryIDs = picks.map { snap.ids[$0] }
        var result = ExactTopKSample(k: k, metric: snap.manifest.metric, seed: seed, queries: [])
        guard !picks.isEmpty else { return result }
        let index = try FlatIndex(snap)
        let found = try index.search(queries, k: k, excluding: queryIDs)
        for (q, id) in queryIDs.enumerated() {
            let keep = found.ids(ofQuery: q).prefix { $0 >= 0 }.count
            result.queries.append(Query(id: id, neighbors: Array(found.ids(ofQuery: q).prefix(keep)),
                                        scores: Array(found.scores(ofQuery: q).prefix(keep))))
        }
        return result
    }
}
