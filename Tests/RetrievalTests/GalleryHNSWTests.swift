import Foundation
import TensorCore
import TestSupport
import Testing
@testable import Retrieval

/// Galleries that search an HNSW graph: the graph is derived from LMDB and saved beside it,
/// reused while it matches, rebuilt or updated when it does not; writes, deletes and filters
/// behave as on an exact gallery.
@Suite struct GalleryHNSWTests {
    static let d = 16
    static let spec = IndexSpec.hnsw(.init(m: 12, efConstruction: 100, efSearch: 64))

    /// A gallery of `n` clustered unit vectors (ids 0..<n, label id % 5) searching with HNSW.
    static func makeGallery(_ dir: TemporaryFolder, n: Int = 3000) throws -> [Float] {
        let vectors = HNSWIndexTests.mixture(n, d, clusters: 30, seed: 5)
        let store = try Gallery.create(at: dir.path, manifest: GalleryManifest(dimension: d))
        try store.add(ids: (0..<n).map(Int64.init), vectors: vectors,
                      records: (0..<n).map { GalleryRecord(label: Int64($0 % 5), metadata: "{\"shop\": \"\($0 % 2 == 0 ? "A" : "B")\"}") })
        try store.setIndex(spec)
        store.close()
        return vectors
    }

    static func indexFile(_ dir: TemporaryFolder) -> URL { URL(fileURLWithPath: dir.path).appendingPathComponent("index.hnsw") }

    static func stamp(_ dir: TemporaryFolder) throws -> Int { try HNSWIndex.load(from: indexFile(dir)).stamp }

    /// Exact top-k over the gallery's current items, for recall.
    static func exact(_ gallery: SearchableGallery, _ queries: [Float], k: Int, filter: GalleryFilter? = nil) throws -> SearchResults {
        let snap = gallery.snapshot
        let flat = FlatIndex(dimension: d)
        var ids: [Int64] = [], vectors: [Float] = []
        for id in snap.base.rowIDs + snap.segment.ids where snap.contains(id) {
            if let filter, !filter.accepts(snap.record(id)!, fields: GalleryFilter.fields(ofMetadata: snap.record(id)!.metadata)) { continue }
            ids.append(id); vectors += snap.vector(id)!
        }
        try flat.add(ids: ids, vectors: vectors)
        return try flat.search(queries, k: k)
    }

    @Test func opensWithTheGraphSavesItAndReusesItWhileLMDBIsUnchanged() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        let vectors = try Self.makeGallery(dir)
        let gallery = try SearchableGallery(path: dir.path)
        #expect(gallery.loadedSnapshot.indexSpec == Self.spec)
        let queries = Array(vectors[0..<(100 * Self.d)])
        let found = try gallery.search(queries, k: 10).hits
        let exact = try Self.exact(gallery, queries, k: 10)
        let recall = (0..<100).map { q in Double(Set(found[q].map(\.id)).intersection(exact.ids(ofQuery: q)).count) / 10 }.reduce(0, +) / 100
        #expect(recall >= 0.95, "recall@10 \(recall)")
        gallery.close()

        let written = try FileManager.default.attributesOfItem(atPath: Self.indexFile(dir).path)[.modificationDate] as? Date
        let again = try SearchableGallery(path: dir.path)
        #expect(try again.search(queries, k: 10).hits.map { $0.map(\.id) } == found.map { $0.map(\.id) })
        again.close()
        let after = try FileManager.default.attributesOfItem(atPath: Self.indexFile(dir).path)[.modificationDate] as? Date
        #expect(written == after, "an unchanged gallery must load its graph, not rewrite it")
    }

    @Test func anotherProcessesWritesMakeTheFileStaleAndTheNextOpenCatchesUp() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        let vectors = try Self.makeGallery(dir)
        try SearchableGallery(path: dir.path).close()
        let before = try Self.stamp(dir)
        // As `magpie gallery add` / `remove` would: LMDB only.
        let store = try Gallery.open(at: dir.path)
        let fresh = HNSWIndexTests.mixture(20, Self.d, clusters: 3, seed: 99)
        try store.add(ids: (5000..<5020).map(Int64.init), vectors: fresh)
        _ = try store.delete([0, 1, 2])
        store.close()

        let lines = LogLines()
        let gallery = try SearchableGallery(path: dir.path, log: lines.append)
        #expect(try Self.stamp(dir) != before)
        // The stale graph was brought up to date, not rebuilt.
        #expect(lines.all.contains { $0.hasPrefix("brought index.hnsw up to date") }, "\(lines.all)")
        let hits = try gallery.search(fresh + Array(vectors[0..<(3 * Self.d)]), k: 1).hits
        #expect(hits[0..<20].map { $0.first?.id } == (5000..<5020).map { Optional(Int64($0)) })
        #expect(hits[20...].allSatisfy { !($0.first.map { [0, 1, 2].contains($0.id) } ?? false) })
        gallery.close()
    }

    @Test func servedWritesAndDeletesSurviveCompactionAndReopening() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        let vectors = try Self.makeGallery(dir, n: 2000)
        let gallery = try SearchableGallery(path: dir.path)
        // Past the compaction threshold (4,096), so the base graph is rebuilt from a copy in the
        // background while writes go on.
        let added = HNSWIndexTests.mixture(4200, Self.d, clusters: 30, seed: 8)
        var addedIDs: [Int64] = []
        for b in 0..<42 {
            addedIDs += try gallery.add(vectors: Array(added[(b * 100 * Self.d)..<((b + 1) * 100 * Self.d)]),
                                        records: Array(repeating: GalleryRecord(), count: 100), ids: Array(repeating: nil, count: 100))
        }
        let removed = Array(addedIDs.prefix(50)) + (0..<50).map(Int64.init)
        for id in removed { #expect(try gallery.remove(id)) }
        gallery.waitForCompaction()
        let probes = Array(added[0..<(50 * Self.d)]) + Array(vectors[0..<(50 * Self.d)])
        func check(_ g: SearchableGallery) throws {
            let hits = try g.search(probes, k: 10).hits
            #expect(hits.allSatisfy { $0.allSatisfy { !removed.contains($0.id) } })
            #expect(hits.allSatisfy { $0.count == 10 })
            #expect(g.loadedSnapshot.count == 2000 + 4200 - 100)
        }
        try check(gallery)
        gallery.close()
        // close() saved the graph with the writes folded in: the next open loads it.
        #expect(try Self.stamp(dir) == GalleryIndexFile.stamp(transaction: try Gallery.open(at: dir.path, readOnly: true).lastTransactionID(),
                                                              count: 6100))
        let reopened = try SearchableGallery(path: dir.path)
        #expect(reopened.loadedSnapshot.pendingWrites == (0, 0))
        try check(reopened)
        reopened.close()
    }

    @Test func filtersActInsideTheGraphSearch() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        let vectors = try Self.makeGallery(dir)
        let gallery = try SearchableGallery(path: dir.path)
        let queries = Array(vectors[(500 * Self.d)..<(560 * Self.d)])
        for filter in [GalleryFilter(labels: [3]), GalleryFilter(metadata: ["shop": ["B"]]), GalleryFilter(labels: [1, 2], metadata: ["shop": ["A"]])] {
            let hits = try gallery.search(queries, k: 10, filter: filter).hits
            let exact = try Self.exact(gallery, queries, k: 10, filter: filter)
            var overlap = 0
            for (q, row) in hits.enumerated() {
                #expect(row.count == 10)
                #expect(row.allSatisfy { filter.accepts($0.record, fields: GalleryFilter.fields(ofMetadata: $0.record.metadata)) })
                overlap += Set(row.map(\.id)).intersection(exact.ids(ofQuery: q)).count
            }
            #expect(Double(overlap) / Double(hits.count * 10) >= 0.9, "filter \(filter): recall \(Double(overlap) / Double(hits.count * 10))")
        }
        gallery.close()
    }

    @Test func aSearchSettingChangePatchesTheHeaderInPlace() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        let vectors = try Self.makeGallery(dir, n: 1500)
        try SearchableGallery(path: dir.path).close()  // builds and saves index.hnsw
        let url = Self.indexFile(dir)
        let (before, stamp) = try HNSWIndex.load(from: url)
        let inode = try FileManager.default.attributesOfItem(atPath: url.path)[.systemFileNumber] as? Int
        try Gallery.open(at: dir.path).setIndex(.hnsw(.init(m: 12, efConstruction: 100, efSearch: 200)))
        #expect(try FileManager.default.attributesOfItem(atPath: url.path)[.systemFileNumber] as? Int == inode)
        let (after, newStamp) = try HNSWIndex.load(from: url)
        #expect(newStamp != stamp && after.parameters.efSearch == 200 && after.count == before.count)
        // The next open loads the patched file as it is: no rebuild, no update.
        let lines = LogLines()
        let gallery = try SearchableGallery(path: dir.path, log: lines.append)
        defer { gallery.close() }
        #expect(lines.all.isEmpty, "\(lines.all)")
        #expect(try gallery.search(Array(vectors[(7 * Self.d)..<(8 * Self.d)]), k: 1).hits[0].first?.id == 7)
        // A structural change (another M) is not patched: the file keeps its old stamp.
        try Gallery.open(at: dir.path).setIndex(.hnsw(.init(m: 8, efConstruction: 100, efSearch: 200)))
        #expect(HNSWIndex.savedStamp(at: url) == newStamp)
    }

    @Test func aDamagedOrForeignIndexFileIsRebuilt() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        let vectors = try Self.makeGallery(dir, n: 1000)
        try SearchableGallery(path: dir.path).close()
        let url = Self.indexFile(dir)
        let bytes = try Data(contentsOf: url)
        for damaged in [bytes.prefix(bytes.count / 2), Data("not an index".utf8)] {
            try damaged.write(to: url)
            let gallery = try SearchableGallery(path: dir.path)
            #expect(try gallery.search(Array(vectors[0..<Self.d]), k: 1).hits[0].first?.id == 0)
            gallery.close()
            #expect(try HNSWIndex.load(from: url).index.count == 1000)
        }
    }

    @Test func aRemovedIDCanComeBackWithAnotherVector() throws {
        let hnsw = HNSWIndex(dimension: Self.d)
        let vectors = HNSWIndexTests.mixture(300, Self.d, clusters: 5, seed: 2)
        try hnsw.add(ids: (0..<300).map(Int64.init), vectors: vectors)
        let replacement = Array(vectors[(299 * Self.d)...])
        let next = try hnsw.merged(without: [7], addingIDs: [7], vectors: replacement)
        #expect(next.vector(of: 7).map(Array.init) == replacement)
        #expect(hnsw.vector(of: 7).map(Array.init) == Array(vectors[(7 * Self.d)..<(8 * Self.d)]), "merged leaves the original alone")
        let top = try next.search(replacement, k: 2, allowed: nil)
        #expect(Set(top.ids) == [7, 299])
        // The saved form keeps both rows, the old one removed.
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let url = URL(fileURLWithPath: dir.path).appendingPathComponent("index.hnsw")
        try (next as! HNSWIndex).save(to: url, stamp: 1)
        #expect(try HNSWIndex.load(from: url).index.vector(of: 7).map(Array.init) == replacement)
    }

    @Test func specsParseAsPaddleClasNamesThem() throws {
        #expect(try IndexSpec(parsing: "HNSW32") == .hnsw(.init(m: 32)))
        #expect(try IndexSpec(parsing: "hnsw", efSearch: 128) == .hnsw(.init(m: 16, efSearch: 128)))
        #expect(try IndexSpec(parsing: "FLAT") == .flat)
        #expect(throws: RetrievalError.self) { try IndexSpec(parsing: "IVF") }
        #expect(throws: RetrievalError.self) { try IndexSpec(parsing: "flat", m: 8) }
        #expect(throws: RetrievalError.self) { try IndexSpec(parsing: "HNSW1") }
    }
}

/// Collects a gallery's log lines.
final class LogLines: @unchecked Sendable {
    private var lines: [String] = []
    private let lock = NSLock()
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
