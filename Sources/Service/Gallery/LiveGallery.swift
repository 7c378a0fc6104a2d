import Foundation
import Retrieval

/// A gallery that takes writes while it serves searches.
///
/// LMDB is the source of truth: every add or delete is one write transaction, committed before
/// it is acknowledged. Searches use an in-memory `IndexSnapshot`; after each commit the next
/// snapshot is built and swapped in under a lock, so the next query sees the change and queries
/// already running keep the snapshot they started with.
public final class LiveGallery: @unchecked Sendable {
    public let path: String
    private let store: Gallery
    private var current: IndexSnapshot
    private let snapshotLock = NSLock()
    /// Orders writers: commit and snapshot swap happen together, one writer at a time.
    private let writeLock = NSLock()
    /// Next id handed out to items added without one (never reused within a run).
    private var nextID: Int64
    private var closed = false

    public init(path: String) throws {
        self.path = path
        store = try Gallery.open(at: path)
        current = try IndexSnapshot(store.snapshot())
        nextID = (current.index.ids.max() ?? -1) + 1
    }

    /// The snapshot searches should use now.
    public var snapshot: IndexSnapshot { snapshotLock.withLock { current } }

    /// Throws unless embeddings of this model belong in the gallery.
    public func checkCompatible(dimension: Int, fingerprint: String) throws {
        try store.checkCompatible(dimension: dimension, fingerprint: fingerprint)
    }

    /// Adds items in one transaction; items with id nil get fresh ids. Returns the ids.
    public func add(vectors: [Float], records: [GalleryRecord], ids requested: [Int64?]) throws -> [Int64] {
        try writeLock.withLock {
            guard !closed else { throw RetrievalError.invalidArgument("the gallery is closed (the service is shutting down)") }
            let base = snapshot
            var ids: [Int64] = []
            var next = nextID
            for id in requested {
                if let id {
                    if base.records[id] != nil { throw RetrievalError.duplicateID(id: id) }
                    ids.append(id)
                } else {
                    while base.records[next] != nil || requested.contains(next) { next += 1 }
                    ids.append(next)
                    next += 1
                }
            }
            try store.add(ids: ids, vectors: vectors, records: records)
            nextID = max(next, (ids.max() ?? -1) + 1, nextID)
            let updated = try base.adding(ids: ids, vectors: vectors, records: records)
            snapshotLock.withLock { current = updated }
            return ids
        }
    }

    /// Deletes `id` in one transaction; false when it was not there.
    public func remove(_ id: Int64) throws -> Bool {
        try writeLock.withLock {
            guard !closed else { throw RetrievalError.invalidArgument("the gallery is closed (the service is shutting down)") }
            let base = snapshot
            guard base.records[id] != nil else { return false }
            guard try store.delete([id]) == 1 else { return false }
            let updated = try base.removing([id])
            snapshotLock.withLock { current = updated }
            return true
        }
    }

    /// The item (vector and record) for `id` as of the current snapshot.
    public func item(_ id: Int64) -> GalleryItem? {
        let snap = snapshot
        guard let record = snap.records[id], let i = snap.index.index(of: id) else { return nil }
        let d = snap.index.dimension
        return GalleryItem(id: id, vector: Array(snap.index.vectors[(i * d)..<((i + 1) * d)]), record: record)
    }

    /// Size of the LMDB data file in bytes.
    public var fileSize: Int { store.fileSize() }

    /// Waits for a running write, then closes LMDB; later writes throw.
    public func close() {
        writeLock.withLock {
            guard !closed else { return }
            closed = true
            store.close()
        }
    }
}
