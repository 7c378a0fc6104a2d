import Foundation

/// A gallery's approximate index, derived from its LMDB data and kept beside it (`index.hnsw`),
/// so opening a large gallery does not rebuild the graph. LMDB stays the source of truth: the
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

    /// The base index of `snapshot` as its manifest asks: exact indexes are built in memory; an
    /// HNSW index is loaded from its file when the stamp matches, else derived from `previous`
    /// (a snapshot of the same gallery whose base has the same spec: only the difference is
    /// applied) or built from scratch, then saved when `save`.
    public static func base(for snapshot: GallerySnapshot, gallery path: String, previous: IndexSnapshot? = nil, save: Bool,
                            log: (String) -> Void) throws -> any VectorIndex {
        let spec = snapshot.manifest.indexSpec
        if case .ivfpq(let p) = spec {
            // Trained and encoded in memory at every open (no file yet).
            let start = Date()
            let index = try IVFPQIndex(dimension: snapshot.manifest.dimension, metric: snapshot.manifest.metric, parameters: p)
            try index.add(ids: snapshot.ids, vectors: snapshot.vectors)
            if snapshot.ids.count >= 10_000 { log(String(format: "trained and filled the %@ index in %.1f s", "\(spec)", Date().timeIntervalSince(start))) }
            return index
        }
        guard case .hnsw(let parameters) = spec, let url = url(gallery: path, spec: spec) else { return try FlatIndex(snapshot) }
        let stamp = stamp(transaction: snapshot.transaction, count: snapshot.ids.count)
        var stale: HNSWIndex?
        if let (index, saved) = savedGraph(at: url, parameters: parameters), index.dimension == snapshot.manifest.dimension,
           index.metric == snapshot.manifest.metric {
            if saved == stamp { return index }
            stale = index
        }
        let start = Date()
        let index: any VectorIndex
        if let previous, previous.indexSpec == spec, let updated = try? updatedIndex(previous.base, removed: previous.removed, to: snapshot) {
            index = updated
        } else if let stale, let updated = try? updatedIndex(stale, removed: [], to: snapshot) {
            index = updated
            log(String(format: "brought %@ up to date with the gallery's writes in %.1f s", url.lastPathComponent, Date().timeIntervalSince(start)))
        } else {
            if snapshot.ids.count >= 10_000 {
                log("building the \(spec) index of \(snapshot.ids.count) items (\(url.lastPathComponent) is missing or stale)…")
            }
            let built = HNSWIndex(dimension: snapshot.manifest.dimension, metric: snapshot.manifest.metric, parameters: parameters)
            try built.add(ids: snapshot.ids, vectors: snapshot.vectors)
            index = built
            if snapshot.ids.count >= 10_000 {
                log(String(format: "built the index in %.1f s", Date().timeIntervalSince(start)))
            }
        }
        if save, let hnsw = index as? HNSWIndex {
            do { try hnsw.save(to: url, stamp: stamp) } catch { log("could not save \(url.path): \(error) (it is rebuilt next time)") }
        }
        return index
    }

    /// Re-stamps the index file from `old` to `new` when it was current (`old`) and holds the
    /// graph `spec` asks for (M and efConstruction; efSearch is a search setting): a manifest-only
    /// change must not cost a rebuild. Anything else is left for the next open to rebuild.
    static func restamp(gallery path: String, spec: IndexSpec, from old: Int, to new: Int) {
        guard case .hnsw(let p) = spec, let url = url(gallery: path, spec: spec),
              let (index, stamp) = savedGraph(at: url, parameters: p), stamp == old else { return }
        try? index.save(to: url, stamp: new)
    }

    /// The graph saved at `url` and its stamp, when it is the graph `parameters` build (same M
    /// and efConstruction), with their efSearch, a search setting; nil otherwise or unreadable.
    private static func savedGraph(at url: URL, parameters: HNSWIndex.Parameters) -> (index: HNSWIndex, stamp: Int)? {
        guard let (index, stamp) = try? HNSWIndex.load(from: url), index.parameters.m == parameters.m,
              index.parameters.efConstruction == parameters.efConstruction else { return nil }
        index.parameters.efSearch = parameters.efSearch
        return (index, stamp)
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
