import Foundation
@testable import Retrieval
import TensorCore
import TestSupport
import Testing

/// Ids, corruption and concurrent writers: the cases that used to crash or collide.
@Suite struct GalleryHardeningTests {
    static func gallery(_ dir: TemporaryFolder, dimension: Int = 2) throws -> Gallery {
        try Gallery.create(at: dir.path, manifest: GalleryManifest(dimension: dimension))
    }

    @Test func idsOutsideTheDocumentedRangeAreRefused() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        let g = try Self.gallery(dir)
        for id in [Int64.max, Gallery.maxID + 1, -1] {
            #expect(throws: RetrievalError.invalidID(id: id)) { try g.add(ids: [id], vectors: [1, 2]) }
        }
        #expect(try g.manifest().count == 0)
        try g.add(ids: [0, 1, 3, Gallery.maxID], vectors: [1, 2, 1, 2, 1, 2, 1, 2])
        // Counting up has reached the end of the range: automatic ids fill the lowest free ids
        // instead of overflowing or refusing (one extreme id must not lock id-less writers out).
        let filled = try g.add(vectors: [3, 4, 5, 6, 7, 8], records: Array(repeating: GalleryRecord(), count: 3), requestedIDs: [nil, 4, nil])
        #expect(filled.ids == [2, 4, 5])
    }

    /// A gallery written before the range existed may hold Int64.max: it opens, serves its
    /// snapshot, and automatic ids continue after the largest id inside the range.
    @Test func legacyExtremeIdsOpenAndAutomaticIdsStayInRange() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        let g = try Self.gallery(dir)
        try g.add(ids: [0, 41], vectors: [1, 0, 0, 1])
        try [Float(0.5), 0.5].withUnsafeBytes { row in
            try g.environment.write { txn in _ = try txn.put("vectors", key: Gallery.key(Int64.max), value: row) }
        }
        g.close()
        let reopened = try Gallery.open(at: dir.path)
        #expect(try reopened.snapshot().ids == [0, 41, Int64.max])
        let added = try reopened.add(vectors: [1, 1, 2, 2], records: [GalleryRecord(), GalleryRecord()], requestedIDs: [nil, nil])
        #expect(added.ids == [42, 43])
    }

    @Test func automaticIdsAreNeverReusedAfterADelete() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        let g = try Self.gallery(dir)
        let first = try g.add(vectors: [1, 0, 0, 1, 1, 1], records: Array(repeating: GalleryRecord(), count: 3), requestedIDs: [nil, 7, nil])
        #expect(first.ids == [0, 7, 1])
        #expect(try g.delete([7]) == 1)
        let next = try g.add(vectors: [2, 2], records: [GalleryRecord()], requestedIDs: [nil])
        #expect(next.ids == [8])
        #expect(throws: RetrievalError.duplicateID(id: 5)) {
            try g.add(vectors: [1, 1, 2, 2], records: [GalleryRecord(), GalleryRecord()], requestedIDs: [5, 5])
        }
    }

    /// Another handle (another process in real use) commits between two writes of this one: the
    /// id is assigned inside the transaction, so it cannot collide.
    @Test func automaticIdsSeeCommitsOfAnotherHandle() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        let a = try Self.gallery(dir)
        let b = try Gallery.open(at: dir.path)
        let before = try a.lastTransactionID()
        try b.add(ids: [0, 1, 2], vectors: [Float](repeating: 1, count: 6))
        #expect(try a.lastTransactionID() > before)
        #expect(try a.add(vectors: [3, 3], records: [GalleryRecord()], requestedIDs: [nil]).ids == [3])
    }

    @Test func truncatedDataFileIsAnErrorNotACrash() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        let g = try Self.gallery(dir, dimension: 64)
        try g.add(ids: (0..<4000).map(Int64.init), vectors: GalleryTests.vectors(4000, 64, seed: 3))
        g.close()
        let file = dir.path + "/data.mdb"
        let size = try #require((try FileManager.default.attributesOfItem(atPath: file))[.size] as? NSNumber).intValue
        #expect(truncate(file, off_t(size / 2)) == 0)
        do {
            _ = try Gallery.open(at: dir.path).snapshot()
            Issue.record("a truncated data.mdb opened")
        } catch let error as RetrievalError {
            guard case .corrupt = error else { Issue.record("expected a corrupt-gallery error, got \(error)"); return }
            #expect("\(error)".contains("truncated"))
        }
    }

    @Test func aDamagedKeyIsNamedAsSuch() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        let g = try Self.gallery(dir)
        try g.add(ids: [1], vectors: [1, 2])
        try [Float(3), 4].withUnsafeBytes { row in
            try g.environment.write { txn in _ = try txn.put("vectors", key: [1, 2, 3, 4], value: row) }
        }
        #expect(throws: RetrievalError.corrupt(path: dir.path, reason: "a vector key has 4 bytes, expected 8")) {
            try g.snapshot()
        }
    }
}
