import Foundation
import TensorCore
import TestSupport
import Testing
@testable import Retrieval

/// The IVF-PQ file: a round trip answers as the saved index did; a damaged file is an error; a
/// gallery loads it while LMDB is unchanged, updates it with the saved quantizers after writes,
/// keeps it when only a search setting changes, and rebuilds it when it is damaged.
@Suite struct IVFPQStorageTests {
    static let d = IVFPQIndexTests.d

    static func file(_ dir: TemporaryFolder) -> URL { URL(fileURLWithPath: dir.path).appendingPathComponent("index.ivfpq") }

    @Test(arguments: [0, 8])
    func saveAndLoadRoundTrip(m: Int) throws {
        let (base, queries) = IVFPQIndexTests.data(seed: 12)
        let n = IVFPQIndexTests.n
        let index = try IVFPQIndex(dimension: Self.d, metric: .l2, parameters: .init(nlist: 48, m: m, nprobe: 6, rescore: 4))
        try index.add(ids: (0..<n).map { Int64($0 + 10) }, vectors: base)
        for id in stride(from: 10, to: 600, by: 7) { index.remove(Int64(id)) }
        // A removed id added again: two rows, the old one removed.
        try index.add(ids: [17], vectors: Array(base[(5 * Self.d)..<(6 * Self.d)]))
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let url = Self.file(dir)
        try index.save(to: url, stamp: -77)
        #expect(IVFPQIndex.savedStamp(at: url) == -77 && HNSWIndex.savedStamp(at: url) == nil)
        let (loaded, stamp) = try IVFPQIndex.load(from: url)
        #expect(stamp == -77 && loaded.count == index.count && loaded.metric == .l2 && loaded.parameters == index.parameters)
        #expect(loaded.trainedLists == 48 && loaded.vector(of: 17).map(Array.init) == Array(base[(5 * Self.d)..<(6 * Self.d)]))
        #expect(loaded.row(of: 24) == nil && loaded.row(of: 25) != nil)
        #expect(try loaded.search(queries, k: 10) == index.search(queries, k: 10))
        // New items are encoded with the saved quantizers, as in the original.
        let extra = Array(queries[0..<(3 * Self.d)])
        try index.add(ids: [90_000, 90_001, 90_002], vectors: extra)
        try loaded.add(ids: [90_000, 90_001, 90_002], vectors: extra)
        #expect(try loaded.search(queries, k: 10) == index.search(queries, k: 10))

        let bytes = try Data(contentsOf: url)
        var flipped = bytes
        flipped[bytes.count - 9] ^= 0x7F  // the last removed row, now past the items
        for damaged in [bytes.prefix(bytes.count / 2), bytes.prefix(40), flipped, Data("not an index".utf8), bytes + Data([0])] {
            try damaged.write(to: url)
            #expect(throws: RetrievalError.self) { try IVFPQIndex.load(from: url) }
        }
    }

    /// A gallery of `IVFPQIndexTests.n` clustered vectors searching with IVF32,PQ8.
    static func makeGallery(_ dir: TemporaryFolder) throws -> [Float] {
        let (base, _) = IVFPQIndexTests.data(seed: 21)
        let store = try Gallery.create(at: dir.path, manifest: GalleryManifest(dimension: d))
        try store.add(ids: (0..<IVFPQIndexTests.n).map(Int64.init), vectors: base)
        try store.setIndex(try IndexSpec(parsing: "IVF32,PQ8", nprobe: 8))
        store.close()
        return base
    }

    @Test func aGalleryLoadsUpdatesAndRebuildsItsFile() throws {
        let dir = TemporaryFolder(); defer { dir.cleanup() }
        let base = try Self.makeGallery(dir)
        let first = try SearchableGallery(path: dir.path)
        let probe = Array(base[(100 * Self.d)..<(101 * Self.d)])
        #expect(try first.search(probe, k: 1).hits[0].first?.id == 100)
        first.close()
        let url = Self.file(dir)
        let saved = try IVFPQIndex.load(from: url)
        #expect(saved.index.count == IVFPQIndexTests.n)

        // Unchanged LMDB: the next open loads the file (same quantizers; not rewritten).
        let written = try FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as? Date
        let again = try SearchableGallery(path: dir.path)
        #expect((again.loadedSnapshot.base as? IVFPQIndex)?.centres == saved.index.centres)
        again.close()
        #expect(try FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as? Date == written)

        // Another process's writes: brought up to date with the saved quantizers, not retrained.
        let store = try Gallery.open(at: dir.path)
        let fresh = HNSWIndexTests.mixture(10, Self.d, clusters: 2, seed: 77)
        try store.add(ids: (50_000..<50_010).map(Int64.init), vectors: fresh)
        _ = try store.delete([100])
        store.close()
        let lines = LogLines()
        let updated = try SearchableGallery(path: dir.path, log: lines.append)
        #expect(lines.all.contains { $0.hasPrefix("brought index.ivfpq up to date") }, "\(lines.all)")
        #expect((updated.loadedSnapshot.base as? IVFPQIndex)?.centres == saved.index.centres)
        #expect(try updated.search(fresh, k: 1).hits.map { $0.first?.id } == (50_000..<50_010).map { Optional(Int64($0)) })
        #expect(try updated.search(probe, k: 5).hits[0].allSatisfy { $0.id != 100 })
        updated.close()
        let stamp = try #require(IVFPQIndex.savedStamp(at: url))

        // Only nprobe changes: the file is re-stamped in place (same inode, not rewritten) and
        // keeps its lists; the next open loads it.
        let inode = try FileManager.default.attributesOfItem(atPath: url.path)[.systemFileNumber] as? Int
        try Gallery.open(at: dir.path).setIndex(try IndexSpec(parsing: "IVF32,PQ8", nprobe: 16))
        #expect(try FileManager.default.attributesOfItem(atPath: url.path)[.systemFileNumber] as? Int == inode)
        let retuned = try IVFPQIndex.load(from: url)
        #expect(retuned.stamp != stamp && retuned.index.parameters.nprobe == 16 && retuned.index.centres == saved.index.centres)
        let reopenLines = LogLines()
        let reopened = try SearchableGallery(path: dir.path, log: reopenLines.append)
        #expect(reopenLines.all.isEmpty, "\(reopenLines.all)")
        #expect(try reopened.search(Array(base[(200 * Self.d)..<(201 * Self.d)]), k: 1).hits[0].first?.id == 200)
        reopened.close()

        // A damaged file is rebuilt, and the gallery answers.
        try Data("damaged".utf8).write(to: url)
        let rebuilt = try SearchableGallery(path: dir.path)
        #expect(try rebuilt.search(Array(base[(200 * Self.d)..<(201 * Self.d)]), k: 1).hits[0].first?.id == 200)
        rebuilt.close()
        #expect(try IVFPQIndex.load(from: url).index.count == IVFPQIndexTests.n + 10 - 1)
    }
}
