import Foundation
import TensorCore
import TestSupport
import Testing
@testable import Retrieval

/// IVF-PQ and IVF-Flat against exact search on clustered data.
@Suite struct IVFPQIndexTests {
    static let n = 6000, d = 32, k = 10

    static func data(seed: UInt64 = 31) -> (base: [Float], queries: [Float]) {
        let all = HNSWIndexTests.mixture(n + 200, d, clusters: 60, seed: seed)
        return (Array(all[0..<(n * d)]), Array(all[(n * d)...]))
    }

    static func exact(_ base: [Float], _ queries: [Float], metric: DistanceMetric, allowed: [Bool]? = nil) throws -> SearchResults {
        let flat = FlatIndex(dimension: d, metric: metric)
        try flat.add(ids: (0..<n).map(Int64.init), vectors: base)
        return try flat.search(queries, k: k, allowed: allowed)
    }

    @Test(arguments: [DistanceMetric.innerProduct, .l2])
    func recallFloorsWithAndWithoutRescoring(_ metric: DistanceMetric) throws {
        let (base, queries) = Self.data()
        let truth = try Self.exact(base, queries, metric: metric)
        // (m, rescore, nprobe, floor): IVF-Flat is exact inside the probed lists; PQ codes alone
        // (4 dimensions a byte) lose much of the order among close neighbours (random ids would
        // score ~0.002), re-scoring the best 4k candidates wins it back.
        var recalls: [Double] = []
        for (m, rescore, nprobe, floor) in [(0, 0, 8, 0.95), (8, 4, 8, 0.9), (8, 0, 8, 0.3)] {
            let index = try IVFPQIndex(dimension: Self.d, metric: metric,
                                       parameters: .init(nlist: 64, m: m, nprobe: nprobe, rescore: rescore))
            try index.add(ids: (0..<Self.n).map(Int64.init), vectors: base)
            let r = HNSWIndexTests.recall(try index.search(queries, k: Self.k), truth, k: Self.k)
            #expect(r >= floor, "m \(m) rescore \(rescore): recall@10 \(r)")
            recalls.append(r)
            if m == 8 && rescore == 4 {
                // Scores of re-scored hits are the exact ones.
                let found = try index.search(Array(queries[0..<Self.d]), k: 1)
                let exactTop = try Self.exact(base, Array(queries[0..<Self.d]), metric: metric)
                if found.ids[0] == exactTop.ids[0] { #expect(abs(found.scores[0] - exactTop.scores[0]) < 1e-4) }
            }
        }
        #expect(recalls[1] > recalls[2] + 0.2, "re-scoring must recover what the codes lose: \(recalls)")
    }

    /// With every list probed and no re-scoring, the result is exactly the top k by each item's
    /// reconstruction (its list centre plus its codewords), scored as the metric says; the lookup
    /// tables (one per query for inner product, one per list for L2) must agree with that.
    @Test(arguments: [DistanceMetric.innerProduct, .l2])
    func codeScoresAreTheReconstructionsScores(_ metric: DistanceMetric) throws {
        let (base, queries) = Self.data(seed: 8)
        let d = Self.d, m = 8, ds = d / m
        let index = try IVFPQIndex(dimension: d, metric: metric, parameters: .init(nlist: 16, m: m, nprobe: 16, rescore: 0))
        try index.add(ids: (0..<Self.n).map(Int64.init), vectors: base)
        var reconstruction = [[Double]](repeating: [], count: Self.n)
        for list in 0..<index.trainedLists {
            for (i, row) in index.listRows[list].enumerated() {
                reconstruction[Int(row)] = (0..<d).map { t in
                    let code = Int(index.listCodes[list][i * m + t / ds])
                    return Double(index.centres[list * d + t]) + Double(index.codebooks[((t / ds) * 256 + code) * ds + t % ds])
                }
            }
        }
        for q in 0..<20 {
            let query = Array(queries[(q * d)..<((q + 1) * d)])
            let found = try index.search(query, k: Self.k)
            let scored = reconstruction.enumerated().map { row, x -> (Double, Int) in
                let score = metric == .innerProduct ? zip(query, x).reduce(0) { $0 + Double($1.0) * $1.1 }
                                                    : zip(query, x).reduce(0) { $0 + (Double($1.0) - $1.1) * (Double($1.0) - $1.1) }
                return (score, row)
            }.sorted { metric == .innerProduct ? $0.0 > $1.0 : $0.0 < $1.0 }
            for r in 0..<Self.k {
                let expected = scored[r].0
                #expect(abs(Double(found.scores[r]) - expected) < 1e-4 * max(1, abs(expected)), "query \(q) rank \(r)")
                let foundScore = scored.first { $0.1 == Int(found.ids[r]) }!.0
                #expect(abs(foundScore - expected) < 1e-4 * max(1, abs(expected)), "query \(q) rank \(r): not among the best")
            }
        }
    }

    @Test func filtersRemovalsAndMergesBehaveLikeTheOtherIndexes() throws {
        let (base, queries) = Self.data(seed: 5)
        let index = try IVFPQIndex(dimension: Self.d, parameters: .init(nlist: 32, m: 8, nprobe: 32, rescore: 8))
        try index.add(ids: (0..<Self.n).map(Int64.init), vectors: base)
        // A filter keeping every third row: results all pass it and match filtered exact search.
        let allowed = (0..<Self.n).map { $0 % 3 == 0 }
        let filtered = try index.search(queries, k: Self.k, allowed: allowed)
        #expect(filtered.ids.allSatisfy { $0 >= 0 && $0 % 3 == 0 })
        let r = HNSWIndexTests.recall(filtered, try Self.exact(base, queries, metric: .innerProduct, allowed: allowed), k: Self.k)
        #expect(r >= 0.9, "filtered recall \(r)")
        // Removed ids never come back; a merged copy leaves the original alone.
        let gone = Set((0..<Int64(Self.n)).filter { $0 % 2 == 1 })
        let next = try index.merged(without: gone, addingIDs: [1], vectors: Array(base[0..<Self.d]))
        let found = try next.search(queries, k: Self.k, allowed: nil)
        #expect(found.ids.allSatisfy { $0 >= 0 && ($0 % 2 == 0 || $0 == 1) })
        #expect(next.count == Self.n / 2 + 1 && index.count == Self.n)
        #expect(Array(next.vector(of: 1)!) == Array(base[0..<Self.d]))
        #expect(throws: RetrievalError.duplicateID(id: 2)) { try index.add(ids: [2], vectors: Array(base[0..<Self.d])) }
    }

    @Test func aGalleryCanSearchWithIVFPQ() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        let (base, _) = Self.data(seed: 8)
        let store = try Gallery.create(at: dir.path, manifest: GalleryManifest(dimension: Self.d))
        try store.add(ids: (0..<Self.n).map(Int64.init), vectors: base)
        try store.setIndex(try IndexSpec(parsing: "IVF64,PQ8", nprobe: 16))
        store.close()
        let gallery = try SearchableGallery(path: dir.path)
        #expect(gallery.loadedSnapshot.indexSpec == .ivfpq(.init(nlist: 64, m: 8, nprobe: 16)))
        let hits = try gallery.search(Array(base[(100 * Self.d)..<(101 * Self.d)]), k: 1).hits
        #expect(hits[0].first?.id == 100)
        #expect(try gallery.remove(100))
        #expect(try gallery.search(Array(base[(100 * Self.d)..<(101 * Self.d)]), k: 5).hits[0].allSatisfy { $0.id != 100 })
        gallery.close()
    }

    @Test func specsParseAsFaissNamesThem() throws {
        #expect(try IndexSpec(parsing: "IVF1024,PQ16") == .ivfpq(.init(nlist: 1024, m: 16)))
        #expect(try IndexSpec(parsing: "IVF256", nprobe: 8) == .ivfpq(.init(nlist: 256, m: 0, nprobe: 8)))
        #expect(try IndexSpec(parsing: "ivfpq", rescore: 0) == .ivfpq(.init(rescore: 0)))
        #expect(throws: RetrievalError.self) { try IndexSpec(parsing: "IVF64,PQ8", m: 4) }
        #expect(throws: RetrievalError.self) { try IndexSpec(parsing: "hnsw", nprobe: 4) }
        #expect(throws: RetrievalError.self) { try IVFPQIndex(dimension: 30, parameters: .init(m: 16)) }
        // The manifest round-trips the spec.
        let spec = try IndexSpec(parsing: "IVF64,PQ8", nprobe: 12, rescore: 2)
        #expect(try JSONDecoder().decode(IndexSpec.self, from: JSONEncoder().encode(spec)) == spec)
    }
}
