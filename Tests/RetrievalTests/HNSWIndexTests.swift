import Foundation
import TensorCore
import Testing
@testable import Retrieval

/// HNSW against exact search on clustered data (real embeddings cluster; uniform noise is the
/// easy case for neither).
@Suite struct HNSWIndexTests {
    /// `n` unit vectors around `clusters` random centres.
    static func mixture(_ n: Int, _ d: Int, clusters: Int, seed: UInt64) -> [Float] {
        var rng = RNG(seed: seed)
        let centres = (0..<(clusters * d)).map { _ in rng.normal() }
        var out: [Float] = []
        out.reserveCapacity(n * d)
        for _ in 0..<n {
            let c = Int(rng.next() % UInt64(clusters))
            var v = (0..<d).map { centres[c * d + $0] + 0.35 * rng.normal() }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for j in 0..<d { v[j] /= norm }
            out += v
        }
        return out
    }

    static func recall(_ approx: SearchResults, _ exact: SearchResults, k: Int) -> Double {
        var hits = 0
        for q in 0..<exact.queryCount { hits += Set(approx.ids(ofQuery: q)).intersection(exact.ids(ofQuery: q)).count }
        return Double(hits) / Double(exact.queryCount * k)
    }

    @Test(arguments: [DistanceMetric.innerProduct, .l2])
    func recallAt10IsHighOnClusteredData(_ metric: DistanceMetric) throws {
        let n = 4000, d = 32, k = 10
        // Queries from the same clusters as the items (held out), as real queries are.
        let all = Self.mixture(n + 200, d, clusters: 40, seed: 1)
        let base = Array(all[0..<(n * d)]), queries = Array(all[(n * d)...])
        let ids = (0..<n).map { Int64($0 * 3) }
        let hnsw = HNSWIndex(dimension: d, metric: metric, parameters: .init(m: 16, efConstruction: 100, efSearch: 64))
        try hnsw.add(ids: ids, vectors: base)
        let exact = FlatIndex(dimension: d, metric: metric)
        try exact.add(ids: ids, vectors: base)
        let r = Self.recall(try hnsw.search(queries, k: k), try exact.search(queries, k: k), k: k)
        #expect(r >= 0.95, "recall@10 \(r)")
    }

    /// Inserting a batch on several threads (striped locks) keeps the recall of a one-thread
    /// build; one thread gives the same graph every time.
    @Test func parallelBuildKeepsRecallAndOneThreadIsDeterministic() throws {
        let n = 6000, d = 24, k = 10
        let all = Self.mixture(n + 200, d, clusters: 50, seed: 12)
        let base = Array(all[0..<(n * d)]), queries = Array(all[(n * d)...])
        let ids = (0..<n).map(Int64.init)
        let exact = FlatIndex(dimension: d)
        try exact.add(ids: ids, vectors: base)
        let truth = try exact.search(queries, k: k)
        var graphs: [[Int32]] = []
        for threads in [4, 1, 1] {
            let hnsw = HNSWIndex(dimension: d, parameters: .init(m: 12, efConstruction: 80, efSearch: 48))
            hnsw.buildThreads = threads
            // Two batches: the second inserts into a graph that already has an entry point.
            try hnsw.add(ids: Array(ids[0..<1000]), vectors: Array(base[0..<(1000 * d)]))
            try hnsw.add(ids: Array(ids[1000...]), vectors: Array(base[(1000 * d)...]))
            let r = Self.recall(try hnsw.search(queries, k: k), truth, k: k)
            #expect(r >= 0.95, "\(threads) threads: recall@10 \(r)")
            #expect((0..<n).allSatisfy { row in hnsw.links(row, level: 0).allSatisfy { $0 >= 0 && Int($0) < n && Int($0) != row } })
            if threads == 1 { graphs.append(hnsw.links0) }
        }
        #expect(graphs[0] == graphs[1])
    }

    @Test func removedItemsAreNeverReturned() throws {
        let n = 2000, d = 16
        let base = Self.mixture(n, d, clusters: 20, seed: 3)
        let hnsw = HNSWIndex(dimension: d)
        try hnsw.add(ids: (0..<n).map(Int64.init), vectors: base)
        for id in stride(from: 0, to: n, by: 3) { #expect(hnsw.remove(Int64(id))) }
        #expect(!hnsw.remove(0) && hnsw.count == n - (n + 2) / 3)
        let found = try hnsw.search(Array(base[0..<(50 * d)]), k: 10)
        #expect(found.ids.allSatisfy { $0 < 0 || $0 % 3 != 0 })
        #expect(found.ids.filter { $0 >= 0 }.count == 500)
        #expect(throws: RetrievalError.duplicateID(id: 5)) { try hnsw.add(ids: [5], vectors: [Float](repeating: 0.1, count: d)) }
    }

    /// The two-byte epoch wraps after 65,535 searches: a row marked in the first search must not
    /// read as visited when the epoch comes round to the same value again.
    @Test func visitMarksAreClearedWhenTheEpochWraps() {
        let visited = VisitedSet()
        let first = visited.next(count: 8)
        visited.marks[3] = first
        var epoch = first
        for _ in 0..<Int(UInt16.max) { epoch = visited.next(count: 8) }
        #expect(epoch == first, "the epoch should have come round to \(first)")
        #expect(visited.marks[3] != epoch)
    }
}

/// The HNSW file: a round trip gives the same answers, and a damaged file is an error.
@Suite struct HNSWStorageTests {
    @Test func saveAndLoadRoundTrip() throws {
        let n = 1500, d = 16
        let all = HNSWIndexTests.mixture(n + 50, d, clusters: 15, seed: 5)
        let index = HNSWIndex(dimension: d, metric: .l2, parameters: .init(m: 8, efConstruction: 64, efSearch: 32))
        try index.add(ids: (0..<n).map { Int64($0 + 100) }, vectors: Array(all[0..<(n * d)]))
        for id in stride(from: 100, to: 400, by: 5) { index.remove(Int64(id)) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("magpie-hnsw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("index.hnsw")
        try index.save(to: file, stamp: 42)
        let (loaded, stamp) = try HNSWIndex.load(from: file)
        #expect(stamp == 42 && loaded.count == index.count && loaded.metric == .l2 && loaded.parameters == index.parameters)
        let queries = Array(all[(n * d)...])
        #expect(try loaded.search(queries, k: 10) == index.search(queries, k: 10))
        // Truncated and foreign files are errors naming the damage, never a crash.
        let bytes = try Data(contentsOf: file)
        try bytes.prefix(bytes.count / 2).write(to: file)
        #expect(throws: RetrievalError.self) { try HNSWIndex.load(from: file) }
        try Data("not an index".utf8).write(to: file)
        #expect(throws: RetrievalError.self) { try HNSWIndex.load(from: file) }
    }
}
