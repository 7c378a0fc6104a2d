import Foundation
import TensorCore
import TestSupport
import Testing
@testable import Retrieval

/// Filters act inside the search (k results whenever k items pass), and a minimum score gives "no match".
@Suite struct FilteredSearchTests {
    @Test(arguments: [DistanceMetric.innerProduct, .l2])
    func maskedSearchMatchesBruteForceOverTheAllowedRows(_ metric: DistanceMetric) throws {
        var rng = RNG(seed: 9)
        let d = 8, n = 3000, nq = 40, k = 10
        let g = (0..<(n * d)).map { _ in rng.normal() }
        let q = (0..<(nq * d)).map { _ in rng.normal() }
        let ids = (0..<n).map { Int64($0 * 2 + 5) }
        let index = FlatIndex(dimension: d, metric: metric)
        try index.add(ids: ids, vectors: g)
        let allowed = (0..<n).map { $0 % 7 == 3 }  // about 1 in 7: most nearest rows are filtered out
        let keptIDs = (0..<n).filter { allowed[$0] }.map { ids[$0] }
        let keptVectors = (0..<n).filter { allowed[$0] }.flatMap { g[($0 * d)..<(($0 + 1) * d)] }
        let result = try index.search(q, k: k, allowed: allowed)
        for qi in 0..<nq {
            let want = FlatIndexTests.reference(Array(q[(qi * d)..<((qi + 1) * d)]), keptVectors, ids: keptIDs, d: d, k: k, metric: metric)
            #expect(Array(result.ids(ofQuery: qi)) == want.map(\.0))
        }
        // Fewer allowed rows than k: those, then padding.
        let three = (0..<n).map { $0 < 3 }
        let few = try index.search(Array(q[0..<d]), k: k, allowed: three)
        #expect(Set(few.ids(ofQuery: 0).filter { $0 >= 0 }) == Set(ids[0..<3]) && few.ids(ofQuery: 0).filter { $0 < 0 }.count == k - 3)
        #expect(throws: RetrievalError.self) { try index.search(q, k: k, allowed: [true]) }
    }

    @Test func filtersParseAndMatchLabelsAndMetadata() throws {
        let filter = try GalleryFilter(parsing: ["label=3,7", "shop=A", "size=2", "label=9", "shop=C"])
        #expect(filter.labels == [3, 7, 9] && filter.metadata == ["shop": ["A", "C"], "size": ["2"]])
        let fields = GalleryFilter.fields(ofMetadata: #"{"shop": "A", "size": 2, "new": true, "tags": ["x"]}"#)
        #expect(fields == ["shop": "A", "size": "2", "new": "true"])
        #expect(filter.accepts(GalleryRecord(label: 7), fields: fields))
        #expect(!filter.accepts(GalleryRecord(label: 8), fields: fields))
        #expect(!filter.accepts(GalleryRecord(label: 7), fields: ["shop": "B", "size": "2"]))
        #expect(filter.accepts(GalleryRecord(label: 3), fields: ["shop": "C", "size": "2"]))
        #expect(!filter.accepts(GalleryRecord(label: 7), fields: nil))
        #expect(throws: RetrievalError.self) { try GalleryFilter(parsing: ["label=x"]) }
        #expect(throws: RetrievalError.self) { try GalleryFilter(parsing: ["nokey"]) }
    }

    @Test func searchableGalleryFiltersAndSaysNoMatch() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        let store = try Gallery.create(at: dir.path, manifest: GalleryManifest(dimension: 2))
        try store.add(ids: [1, 2, 3, 4], vectors: [1, 0, 0.9, 0.436, 0, 1, -1, 0],
                      records: [GalleryRecord(label: 1, metadata: #"{"shop": "A"}"#), GalleryRecord(label: 2, metadata: #"{"shop": "B"}"#),
                                GalleryRecord(label: 2, metadata: #"{"shop": "A"}"#), GalleryRecord(label: 1)])
        store.close()
        let gallery = try SearchableGallery(path: dir.path, readOnly: true)
        let query: [Float] = [1, 0]
        #expect(try gallery.search(query, k: 2).hits[0].map(\.id) == [1, 2])
        #expect(try gallery.search(query, k: 2, filter: GalleryFilter(labels: [2])).hits[0].map(\.id) == [2, 3])
        #expect(try gallery.search(query, k: 2, filter: GalleryFilter(metadata: ["shop": ["A"]])).hits[0].map(\.id) == [1, 3])
        #expect(try gallery.search(query, k: 3, filter: GalleryFilter(labels: [1], metadata: ["shop": ["A"]])).hits[0].map(\.id) == [1])
        #expect(try gallery.search(query, k: 4, minScore: 0.5).hits[0].map(\.id) == [1, 2])
        #expect(try gallery.search([0, -1], k: 4, minScore: 0.5).hits[0].isEmpty)  // nothing close: no match
    }
}
