import Foundation
@testable import Retrieval
import TensorCore
import TestSupport
import Testing

@Suite struct GalleryTests {
    static func vectors(_ n: Int, _ d: Int, seed: UInt64) -> [Float] {
        var rng = RNG(seed: seed)
        return (0..<(n * d)).map { _ in rng.normal() }
    }

    @Test func addGetSnapshotRoundTrip() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        let g = try Gallery.create(at: dir.path, manifest: GalleryManifest(dimension: 4, model: "ResNet50", fingerprint: "abc"))
        let v = Self.vectors(10, 4, seed: 1)
        let records = (0..<10).map { GalleryRecord(label: Int64($0 % 3), path: "img/\($0).jpg", metadata: #"{"shop":"x"}"#) }
        try g.add(ids: (0..<10).map { Int64($0 * 10) }, vectors: v, records: records)
        let item = try #require(try g.item(30))
        #expect(item.vector == Array(v[12..<16]))
        #expect(item.record == records[3])
        #expect(try g.item(31) == nil)
        let m = try g.manifest()
        #expect(m.count == 10 && m.dimension == 4 && m.model == "ResNet50" && m.fingerprint == "abc" && m.metric == .innerProduct)

        // Reopen from disk (another handle) and read everything back in id order.
        let again = try Gallery.open(at: dir.path, readOnly: true)
        let snap = try again.snapshot()
        #expect(snap.ids == (0..<10).map { Int64($0 * 10) })
        #expect(snap.vectors == v)
        #expect(snap.labels == records.map(\.label))
    }

    @Test func idsSortNumericallyInSnapshot() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        let g = try Gallery.create(at: dir.path, manifest: GalleryManifest(dimension: 1))
        try g.add(ids: [300, 2, 70_000, 1], vectors: [3, 2, 7, 1])
        #expect(try g.snapshot().ids == [1, 2, 300, 70_000])
        #expect(try g.snapshot().vectors == [1, 2, 3, 7])
    }

    @Test func badBatchesWriteNothing() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        let g = try Gallery.create(at: dir.path, manifest: GalleryManifest(dimension: 2))
        try g.add(ids: [1, 2], vectors: [1, 2, 3, 4])
        // An id that exists, a repeated id, NaN, a wrong length, a negative id: each batch fails whole.
        #expect(throws: RetrievalError.duplicateID(id: 2)) { try g.add(ids: [3, 2], vectors: [0, 0, 9, 9]) }
        #expect(throws: RetrievalError.duplicateID(id: 5)) { try g.add(ids: [5, 5], vectors: [0, 0, 9, 9]) }
        #expect(throws: RetrievalError.nonFiniteVector(id: 4)) { try g.add(ids: [3, 4], vectors: [0, 0, .nan, 9]) }
        #expect(throws: RetrievalError.self) { try g.add(ids: [3], vectors: [0, 0, 1]) }
        #expect(throws: RetrievalError.invalidID(id: -1)) { try g.add(ids: [-1], vectors: [0, 0]) }
        #expect(try g.manifest().count == 2)
        #expect(try g.item(3) == nil)
        #expect(try g.snapshot().vectors == [1, 2, 3, 4])
    }

    @Test func upsertDeleteAndCompact() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        let g = try Gallery.create(at: dir.path, manifest: GalleryManifest(dimension: 8))
        let n = 2000
        try g.add(ids: (0..<n).map(Int64.init), vectors: Self.vectors(n, 8, seed: 2))
        try g.upsert([GalleryItem(id: 5, vector: [Float](repeating: 1, count: 8), record: GalleryRecord(label: 9)),
                      GalleryItem(id: 5000, vector: [Float](repeating: 2, count: 8))])
        #expect(try g.item(5)?.vector == [Float](repeating: 1, count: 8))
        #expect(try g.item(5)?.record.label == 9)
        #expect(try g.manifest().count == n + 1)
        #expect(try g.delete((0..<1500).map(Int64.init) + [99_999]) == 1500)
        #expect(try g.manifest().count == n + 1 - 1500)
        #expect(try g.item(5) == nil)
        let before = try g.snapshot()
        try g.compact()
        let after = try g.snapshot()
        #expect(after.ids == before.ids && after.vectors == before.vectors)
        #expect(try g.item(5000)?.vector == [Float](repeating: 2, count: 8))
    }

    @Test func foreignModelsAndMissingFoldersAreRefused() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        _ = try Gallery.create(at: dir.path, manifest: GalleryManifest(dimension: 4, fingerprint: "model-a"))
        #expect(throws: RetrievalError.dimensionMismatch(expected: 4, got: 8, context: "gallery \(dir.path)")) {
            try Gallery.openOrCreate(at: dir.path, manifest: GalleryManifest(dimension: 8, fingerprint: "model-a"))
        }
        #expect(throws: RetrievalError.fingerprintMismatch(expected: "model-a", got: "model-b")) {
            try Gallery.openOrCreate(at: dir.path, manifest: GalleryManifest(dimension: 4, fingerprint: "model-b"))
        }
        #expect(throws: RetrievalError.galleryExists(path: dir.path)) {
            try Gallery.create(at: dir.path, manifest: GalleryManifest(dimension: 4))
        }
        #expect(throws: RetrievalError.galleryMissing(path: dir.path + "/nope")) { try Gallery.open(at: dir.path + "/nope") }
        let empty = TemporaryFolder(); defer { empty.cleanup() }
        try FileManager.default.createDirectory(atPath: empty.path, withIntermediateDirectories: true)
        #expect(throws: RetrievalError.self) { try Gallery.open(at: empty.path) }
        let msg = RetrievalError.fingerprintMismatch(expected: "a", got: "b").description
        #expect(!msg.contains("\n") && msg.contains("re-embed"))
    }

    @Test func readersKeepTheirSnapshotWhileAWriterCommits() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        let g = try Gallery.create(at: dir.path, manifest: GalleryManifest(dimension: 1))
        try g.add(ids: [1], vectors: [1])
        let reader = try Gallery.open(at: dir.path, readOnly: true)
        try reader.environment.read { txn in
            try g.add(ids: [2], vectors: [2])  // commits while the read transaction is open
            #expect(try txn.count("vectors") == 1)
        }
        #expect(try reader.manifest().count == 2)
    }

    @Test func searchOverAGalleryFindsTheStoredVectors() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        let g = try Gallery.create(at: dir.path, manifest: GalleryManifest(dimension: 3))
        try g.add(ids: [10, 20, 30], vectors: [1, 0, 0, 0, 1, 0, 0, 0, 1])
        let index = try FlatIndex(try g.snapshot())
        let r = try index.search([0, 0.9, 0.1], k: 2)
        #expect(r.ids == [20, 30])
    }
}
