import Foundation

/// The searchable gallery: what `magpie query` and the service search, and what the service
/// writes to. It embeds nothing; it assigns ids, adds, removes, searches and returns neighbours
/// joined to their records.
///
/// LMDB is the source of truth: every add or delete is one write transaction, committed before
/// it is acknowledged. Searches use an in-memory `IndexSnapshot`; after each commit the next
/// snapshot is built and swapped in under a lock, so the next query sees the change and queries
/// already running keep the snapshot they started with.
///
/// Other processes may write to the same gallery (`magpie gallery add` while serving): every
/// search and write first compares LMDB's last transaction id with the snapshot's and reloads
/// when they differ. Ids are assigned inside the write transaction, so an automatic id never
/// collides with one committed elsewhere.
///
/// A gallery whose manifest asks for HNSW searches its graph (`GalleryIndexFile`): loaded from
/// `index.hnsw` when it matches LMDB, else rebuilt; another process's writes are applied to the
/// graph as a difference; `close()` saves the graph with this process's writes folded in.
public final class SearchableGallery: @unchecked Sendable {
    public let path: String
    private let store: Gallery
    private let log: @Sendable (String) -> Void
    private var current: IndexSnapshot
    private var closed = false
    /// Guards `current` and `closed`.
    private let snapshotLock = NSLock()
    /// Orders writers and reloads: commit and snapshot swap happen together, one at a time.
    private let writeLock = NSLock()
    private var compacting = false
    private let compactionQueue = DispatchQueue(label: "magpie.gallery-compaction", qos: .utility)
    private let compactions = DispatchGroup()

    /// Opens the gallery at `path` and loads its snapshot; `readOnly` for searching only (the
    /// derived index file is still refreshed when the folder is writable). `log` gets progress
    /// lines (building an index); standard error by default.
    public init(path: String, readOnly: Bool = false,
                log: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) throws {
        self.path = path
        self.log = log
        store = try Gallery.open(at: path, readOnly: readOnly)
        current = try Self.loadSnapshot(store, path: path, previous: nil, log: log)
    }

    /// The gallery as LMDB holds it now, with its index (derived from `previous` when given).
    private static func loadSnapshot(_ store: Gallery, path: String, previous: IndexSnapshot?,
                                     log: (String) -> Void) throws -> IndexSnapshot {
        let snapshot = try store.snapshot()
        let base = try GalleryIndexFile.base(for: snapshot, gallery: path, previous: previous, save: true, log: log)
        return try IndexSnapshot(snapshot, base: base)
    }

    private func loadSnapshot(previous: IndexSnapshot?) throws -> IndexSnapshot {
        try Self.loadSnapshot(store, path: path, previous: previous, log: log)
    }

    /// The `k` nearest items of each row-major query vector in the current snapshot, joined to
    /// their records (re-ranked with `reranker` within each query's `depth` nearest when given).
    /// `filter` restricts the candidates inside the search; `minScore` drops hits scoring below
    /// it (inner-product galleries: "no match" instead of a confident wrong neighbour). An empty
    /// gallery finds nothing.
    public func search(_ vectors: [Float], k: Int, reranker: KReciprocalReRanker? = nil, depth: Int? = nil,
                       filter: GalleryFilter? = nil, minScore: Float? = nil) throws -> (hits: [[GalleryHit]], galleryItems: Int) {
        let snap = snapshot
        let d = snap.dimension
        let queries = d > 0 ? vectors.count / d : 0
        if minScore != nil, snap.manifest.metric != .innerProduct {
            throw RetrievalError.invalidArgument("a minimum score needs an inner-product gallery; this one ranks by L2 distance")
        }
        guard snap.count > 0 else { return (Array(repeating: [], count: queries), 0) }
        let results = try reranker.map { try snap.searchReRanked(vectors, k: k, reranker: $0, depth: depth, filter: filter) }
            ?? snap.search(vectors, k: k, filter: filter)
        let hits = (0..<queries).map { q in
            zip(results.ids(ofQuery: q), results.scores(ofQuery: q))
                .filter { $0.0 >= 0 && $0.1 >= (minScore ?? -.infinity) }
                .enumerated().map { r, hit in
                    GalleryHit(rank: r + 1, id: hit.0, score: hit.1, record: snap.record(hit.0) ?? GalleryRecord())
                }
        }
        return (hits, snap.count)
    }

    /// The snapshot searches should use now (reloaded first when another process has committed).
    public var snapshot: IndexSnapshot {
        let (snap, isClosed) = snapshotLock.withLock { (current, closed) }
        guard !isClosed, let last = try? store.lastTransactionID(), last != snap.transaction else { return snap }
        return (try? writeLock.withLock { try refreshedLocked() }) ?? snap
    }

    /// The snapshot last loaded, without asking LMDB whether it is current: for health and
    /// metrics, which must answer at once even while a write or reload is running.
    public var loadedSnapshot: IndexSnapshot { snapshotLock.withLock { current } }

    /// Throws unless embeddings of this model belong in the gallery.
    public func checkCompatible(dimension: Int, fingerprint: String) throws {
        try store.checkCompatible(dimension: dimension, fingerprint: fingerprint)
    }

    /// Adds items in one transaction; items with id nil get fresh ids. Returns the ids.
    public func add(vectors: [Float], records: [GalleryRecord], ids requested: [Int64?]) throws -> [Int64] {
        try writeLock.withLock {
            let base = try refreshedLocked()
            let (ids, transaction) = try store.add(vectors: vectors, records: records, requestedIDs: requested)
            try swapIn(after: base, transaction: transaction) {
                try base.adding(ids: ids, vectors: vectors, records: records, transaction: transaction)
            }
            return ids
        }
    }

    /// Deletes `id` in one transaction; false when it was not there.
    public func remove(_ id: Int64) throws -> Bool {
        try writeLock.withLock {
            let base = try refreshedLocked()
            guard base.contains(id) else { return false }
            let (removed, transaction) = try store.deleteReportingTransaction([id])
            try swapIn(after: base, transaction: transaction) { try base.removing([id], transaction: transaction) }
            return removed == 1
        }
    }

    /// The item (vector and record) for `id` as of the current snapshot.
    public func item(_ id: Int64) -> GalleryItem? {
        let snap = snapshot
        guard let record = snap.record(id), let vector = snap.vector(id) else { return nil }
        return GalleryItem(id: id, vector: vector, record: record)
    }

    /// Size of the LMDB data file in bytes.
    public var fileSize: Int { store.fileSize() }

    /// Waits for a running write and compaction, then closes LMDB; later writes throw.
    public func close() {
        let wasClosed = writeLock.withLock {
            snapshotLock.withLock { () -> Bool in
                defer { closed = true }
                return closed
            }
        }
        guard !wasClosed else { return }
        compactions.wait()  // no write can start a new one now; a running one finds the gallery closed
        writeLock.withLock {
            saveDerivedIndex()
            store.close()
        }
    }

    /// Writes the derived index (HNSW graph, IVF-PQ lists) with this process's writes folded in, stamped with the current
    /// transaction, so the next open loads it instead of rebuilding. The caller holds `writeLock`.
    private func saveDerivedIndex() {
        let snap = snapshotLock.withLock { current }
        guard let url = GalleryIndexFile.url(gallery: path, spec: snap.indexSpec),
              (try? store.lastTransactionID()) == snap.transaction else { return }
        let pending = snap.pendingWrites
        guard pending.added > 0 || pending.removed > 0,
              let merged = try? snap.mergedIndex() as? any PersistentIndex else { return }
        do {
            try merged.save(to: url, stamp: GalleryIndexFile.stamp(transaction: snap.transaction, count: snap.count))
        } catch {
            log("could not save \(url.path): \(error) (it is rebuilt next time)")
        }
    }

    /// Makes the snapshot after this process's commit `transaction` current: `base` with the
    /// write applied when nothing else committed in between, else a reload from LMDB. The caller
    /// holds `writeLock`.
    private func swapIn(after base: IndexSnapshot, transaction: Int, applying write: () throws -> IndexSnapshot) throws {
        let updated = transaction == base.transaction + 1 ? try write() : try loadSnapshot(previous: base)
        snapshotLock.withLock { current = updated }
        compactIfNeeded(updated)
    }

    /// Folds the append segment and the removals of `origin` into a new base on a background
    /// queue when they have grown; writes go on meanwhile and are replayed onto the result, which
    /// is then swapped in. The caller holds `writeLock`.
    private func compactIfNeeded(_ origin: IndexSnapshot) {
        guard origin.needsCompaction, !compacting else { return }
        compacting = true
        compactions.enter()
        compactionQueue.async { [self] in
            defer { compactions.leave() }
            let merged = try? origin.compacted()
            writeLock.withLock {
                defer { compacting = false }
                guard let merged else { return }
                let now = snapshotLock.withLock { closed ? nil : current }
                if let now, let next = try? now.rebased(onto: merged, from: origin) {
                    snapshotLock.withLock { current = next }
                }
            }
        }
    }

    /// Waits for a compaction in progress (tests and shutdown).
    public func waitForCompaction() { compactions.wait() }

    /// The current snapshot, reloaded from LMDB when another transaction has committed since it
    /// was built. The caller holds `writeLock`.
    private func refreshedLocked() throws -> IndexSnapshot {
        let (snap, isClosed) = snapshotLock.withLock { (current, closed) }
        guard !isClosed else { throw RetrievalError.invalidArgument("the gallery is closed (the service is shutting down)") }
        guard try store.lastTransactionID() != snap.transaction else { return snap }
        let fresh = try loadSnapshot(previous: snap)
        snapshotLock.withLock { current = fresh }
        return fresh
    }
}
