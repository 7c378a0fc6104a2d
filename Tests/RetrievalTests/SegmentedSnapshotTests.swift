import Foundation
import TensorCore
import TestSupport
import Testing
@testable import Retrieval

/// Writes to a served gallery go to an append segment and a removal mask (O(batch)); searches
/// see base and segment as one gallery; compaction folds them into a new base in the background.
@Suite struct SegmentedSnapshotTests {
    /// Brute-force top-k ids over `live` (id → vector), inner product, ties by smaller id.
    static func exact(_ q: [Float], _ live: [Int64: [Float]], k: Int) -> [Int64] {
        var scored: [(id: Int64, score: Float)] = []
        for (id, v) in live {
            var s: Float = 0
            for t in 0..<q.count { s += q[t] * v[t] }
            scored.append((id, s))
        }
        scored.sort { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
        return scored.prefix(k).map(\.id)
    }

    @Test func writesSearchesAndCompactionAgreeWithBruteForce() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        let d = 8
        var rng = RNG(seed: 21)
        func vector() -> [Float] { (0..<d).map { _ in rng.normal() } }
        let store = try Gallery.create(at: dir.path, manifest: GalleryManifest(dimension: d))
        var live: [Int64: [Float]] = [:]
        let initial = (0..<2000).map { _ in vector() }
        try store.add(ids: (0..<2000).map(Int64.init), vectors: initial.flatMap { $0 })
        for (i, v) in initial.enumerated() { live[Int64(i)] = v }
        store.close()

        let gallery = try SearchableGallery(path: dir.path)
        // 6,000 adds in batches of 50 (past the 4,096 segment threshold, so compaction runs while
        // writes go on) and a delete of every 7th item, base and segment alike.
        for batch in 0..<120 {
            let vectors = (0..<50).map { _ in vector() }
            let ids = try gallery.add(vectors: vectors.flatMap { $0 }, records: Array(repeating: GalleryRecord(label: Int64(batch)), count: 50),
                                      ids: Array(repeating: nil, count: 50))
            for (id, v) in zip(ids, vectors) { live[id] = v }
            for id in ids where id % 7 == 0 {
                #expect(try gallery.remove(id))
                live[id] = nil
            }
            if batch % 30 == 0 {
                for id in Array(live.keys.sorted().prefix(3)) { #expect(try gallery.remove(id)); live[id] = nil }
            }
            if batch % 20 == 0 {
                let q = vector()
                #expect(try gallery.search(q, k: 10).hits[0].map(\.id) == Self.exact(q, live, k: 10), "batch \(batch)")
            }
        }
        gallery.waitForCompaction()
        let snap = gallery.snapshot
        #expect(snap.count == live.count)
        // Without a compaction the base would still hold the 2,000 first items and the segment
        // every later one (over 5,000 live).
        #expect(snap.base.count > 2000 && snap.segment.count <= 4096, "compaction folded the segment into the base")
        for _ in 0..<5 {
            let q = vector()
            let found = try gallery.search(q, k: 10).hits[0]
            #expect(found.map(\.id) == Self.exact(q, live, k: 10))
        }
        let filtered = try gallery.search(vector(), k: 5, filter: GalleryFilter(labels: [3])).hits[0]
        #expect(!filtered.isEmpty && filtered.allSatisfy { $0.record.label == 3 })
        // Deleted ids are never returned and read as absent; the items match LMDB after a reload.
        #expect(gallery.item(7) == nil && gallery.item(2002) == nil && live[2002] == nil)
        let reloaded = try SearchableGallery(path: dir.path, readOnly: true)
        #expect(reloaded.snapshot.count == live.count)
        for id in Array(live.keys.prefix(50)) { #expect(gallery.item(id)?.vector == live[id]) }
    }
}

/// A compaction replays the writes made while it ran, including an id deleted and added again.
@Suite struct CompactionReplayTests {
    @Test func reAddedIdKeepsItsNewVectorAndRecord() throws {
        let base = FlatIndex(dimension: 2)
        try base.add(ids: [1, 2], vectors: [1, 0, 0, 1])
        let origin = try IndexSnapshot(manifest: GalleryManifest(dimension: 2), transaction: 1, base: base,
                                       baseRecords: RecordTable([1: GalleryRecord(), 2: GalleryRecord()]))
            .adding(ids: [10], vectors: [0.5, 0.5], records: [GalleryRecord(label: 1)], transaction: 2)
        let merged = try origin.compacted()
        // While the compaction ran: 10 deleted and added again with other contents, 2 deleted, 11 added.
        let current = try origin.removing([10, 2], transaction: 3)
            .adding(ids: [10, 11], vectors: [-1, 0, 0, -1], records: [GalleryRecord(label: 2), GalleryRecord()], transaction: 4)
        let next = try #require(try current.rebased(onto: merged, from: origin))
        #expect(next.vector(10) == [-1, 0] && next.record(10) == GalleryRecord(label: 2))
        #expect(next.record(2) == nil && next.vector(11) == [0, -1] && next.count == 3)
        #expect(try next.search([-1, 0], k: 1, filter: nil).ids == [10])
        // A snapshot reloaded from LMDB meanwhile (another base) is not rebased.
        let reloaded = try IndexSnapshot(manifest: GalleryManifest(dimension: 2), transaction: 5, base: FlatIndex(dimension: 2),
                                         baseRecords: RecordTable([:]))
        #expect(try reloaded.rebased(onto: merged, from: origin) == nil)
    }
}
