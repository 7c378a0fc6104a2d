import Foundation

/// A gallery's approximate index, derived from its LMDB data and kept beside it (`index.hnsw`,
/// `index.ivfpq`), so opening a large gallery neither rebuilds the graph nor retrains the
/// quantizers. LMDB stays the source of truth: the
/// file is stamped with the transaction and item count it was built from and loaded as it is
/// when both match the gallery. A stale file (the gallery was written since, e.g. by `gallery
/// add`) is brought up to date by removing and inserting only what differs; a missing, damaged
/// or foreign file is rebuilt (with a progress line). Either way the result is rewritten. A
/// crash while writing leaves the old file or the new one (temporary file, then rename).
public enum GalleryIndexFile {
    /// What a derived index is stamped with: the LMDB transaction and the item count it reflects.
    public static func stamp(transaction: Int, count: Int) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for v in [UInt64(bitPattern: Int64(transaction)), UInt64(bitPattern: Int64(count))] {
            h = (h ^ v) &* 0x0000_0100_0000_01b3
        }
        return Int(bitPattern: UInt(h >> 1))
    }

    public static func url(gallery path: String, spec: IndexSpec) -> URL? {
        spec.fileName.map { URL(fileURLWithPath: path).appendingPathComponent($0) }
    }

    /// The base index of `snapshot` as its manifest asks: an exact index is built in memory; an
    /// HNSW or IVF-PQ index is loaded from its file when the stamp matches, else derived from
    /// `previous` (a snapshot of the same gallery whose base has the same spec: only the
    /// difference is applied) or from a stale file the same way, or built from scratch, then
    /// saved when `save`.
    public static func base(for snapshot: GallerySnapshot, gallery path: String, previous: IndexSnapshot? = nil, save: Bool,
                            log: (String) -> Void) throws -> any VectorIndex {
        let spec = snapshot.manifest.indexSpec
        guard let url = url(gallery: path, spec: spec) else { return try FlatIndex(snapshot) }
        let stamp = stamp(transaction: snapshot.transaction, count: snapshot.ids.count)
        func fits(_ index: any VectorIndex) -> Bool {
            index.dimension == snapshot.manifest.dimension && index.metric == snapshot.manifest.metric
        }
        // The header says whether the file is current; the whole file is read only when it is,
        // or when it is the one older index there is to update.
        let current = savedStamp(gallery: path, spec: spec) == stamp
        if current, let (index, _) = savedIndex(at: url, spec: spec), fits(index) { return index }
        let start = Date()
        let index: any VectorIndex
        if let previous, previous.indexSpec == spec, worthUpdating(previous.base),
           let updated = try? updatedIndex(previous.base, removed: previous.removed, to: snapshot) {
            index = updated
        } else if !current, let (stale, _) = savedIndex(at: url, spec: spec), fits(stale), worthUpdating(stale),
                  let updated = try? updatedIndex(stale, removed: [], to: snapshot) {
            index = updated
            log(String(format: "brought %@ up to date with the gallery's writes in %.1f s", url.lastPathComponent, Date().timeIntervalSince(start)))
        } else {
            let large = snapshot.ids.count >= 10_000
            if large { log("building the \(spec) index of \(snapshot.ids.count) items (\(url.lastPathComponent) is missing or stale)…") }
            let built = try emptyIndex(spec, dimension: snapshot.manifest.dimension, metric: snapshot.manifest.metric)
            try built.add(ids: snapshot.ids, vectors: snapshot.vectors)
            index = built
            if large { log(String(format: "built the index in %.1f s", Date().timeIntervalSince(start))) }
        }
        if save, let persistent = index as? any PersistentIndex {
            do { try persistent.save(to: url, stamp: stamp) } catch { log("could not save \(url.path): \(error) (it is rebuilt next time)") }
        }
        return index
    }

    /// Whether an older index is worth bringing up to date rather than rebuilding: always, except
    /// an IVF-PQ index trained on a first batch too small for all its lists (a gallery that was
    /// tiny when the index was chosen), whose quantizers a rebuild trains on today's items.
    private static func worthUpdating(_ index: any VectorIndex) -> Bool {
        guard let ivf = index as? IVFPQIndex else { return true }
        return ivf.trainedLists == ivf.parameters.nlist
    }

    /// A new, empty index of the kind `spec` names (an IVF-PQ index trains on its first batch).
    static func emptyIndex(_ spec: IndexSpec, dimension: Int, metric: DistanceMetric) throws -> any VectorIndex {
        switch spec {
        case .flat: return FlatIndex(dimension: dimension, metric: metric)
        case .hnsw(let p): return HNSWIndex(dimension: dimension, metric: metric, parameters: p)
        case .ivfpq(let p): return try IVFPQIndex(dimension: dimension, metric: metric, parameters: p)
        }
    }

    /// The stamp in the header of the index file `spec` keeps (nil: no file, or not that kind),
    /// without loading the index.
    public static func savedStamp(gallery path: String, spec: IndexSpec) -> Int? {
        guard let url = url(gallery: path, spec: spec) else { return nil }
        switch spec {
        case .flat: return nil
        case .hnsw: return HNSWIndex.savedStamp(at: url)
        case .ivfpq: return IVFPQIndex.savedStamp(at: url)
        }
    }

    /// Re-stamps the index file from `old` to `new` when it was current (`old`) and holds the
    /// index `spec` asks for up to its search settings: a manifest-only change must not cost a
    /// rebuild, nor a rewrite of the file (657 MB at 1M HNSW items): the search settings and the
    /// stamp are patched in the header, read alone. Anything else is left for the next open.
    static func restamp(gallery path: String, spec: IndexSpec, from old: Int, to new: Int) {
        guard let url = url(gallery: path, spec: spec) else { return }
        switch spec {
        case .flat: return
        case .hnsw(let p): HNSWIndex.restamp(at: url, for: p, from: old, to: new)
        case .ivfpq(let p): IVFPQIndex.restamp(at: url, for: p, from: old, to: new)
        }
    }

    /// The index saved at `url` and its stamp, when it is built as `spec` asks (HNSW: the same M
    /// and efConstruction; IVF-PQ: the same lists, sub-quantizers, training sample and seed),
    /// with `spec`'s search settings (efSearch; nprobe and rescore); nil otherwise or unreadable.
    private static func savedIndex(at url: URL, spec: IndexSpec) -> (index: any VectorIndex, stamp: Int)? {
        switch spec {
        case .flat:
            return nil
        case .hnsw(let p):
            guard let (index, stamp) = try? HNSWIndex.load(from: url), index.parameters.m == p.m,
                  index.parameters.efConstruction == p.efConstruction else { return nil }
            index.parameters.efSearch = p.efSearch
            return (index, stamp)
        case .ivfpq(let p):
            guard let (index, stamp) = try? IVFPQIndex.load(from: url) else { return nil }
            var saved = index.parameters
            saved.nprobe = p.nprobe; saved.rescore = p.rescore
            guard saved == p else { return nil }
            index.parameters = saved
            return (index, stamp)
        }
    }

    /// `base` (without the ids in `removed`) brought to `snapshot`'s items by removing and adding
    /// only what differs (another process's writes): O(items) to compare, O(changes) to apply.
    static func updatedIndex(_ base: any VectorIndex, removed: Set<Int64>, to snapshot: GallerySnapshot) throws -> any VectorIndex {
        let d = snapshot.manifest.dimension
        var gone = Set<Int64>(), addedIDs: [Int64] = [], addedVectors: [Float] = []
        var present = Set<Int64>()
        present.reserveCapacity(snapshot.ids.count)
        for (i, id) in snapshot.ids.enumerated() {
            present.insert(id)
            let vector = snapshot.vectors[(i * d)..<((i + 1) * d)]
            if let old = base.vector(of: id) {
                if !removed.contains(id) && old.elementsEqual(vector) { continue }
                gone.insert(id)   // deleted and added again, maybe with another vector: a new row
            }
            addedIDs.append(id)
            addedVectors += vector
        }
        for id in base.rowIDs where !present.contains(id) && base.row(of: id) != nil { gone.insert(id) }
        return try base.merged(without: gone, addingIDs: addedIDs, vectors: addedVectors)
    }
}
