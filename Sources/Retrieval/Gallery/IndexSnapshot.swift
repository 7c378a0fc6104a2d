import Foundation

/// The searchable gallery at one moment, never mutated once built: a write makes the next
/// snapshot and swaps it in, so searches holding this one finish undisturbed.
///
/// A write costs O(batch), not O(gallery): the snapshot is an immutable base (the gallery's
/// index, exact or HNSW, and its records, shared by every later snapshot) plus a small exact
/// append segment of the items added since, and a row mask of the base items removed since (a delete from the base copies that
/// mask, one byte per base item, never the vectors or records). Search runs over both and merges.
/// `SearchableGallery` folds the segment and the removals into a new base in the background when
/// they grow (`needsCompaction`).
public final class IndexSnapshot: @unchecked Sendable {
    public let manifest: GalleryManifest
    /// The LMDB transaction this snapshot reflects: when the gallery's last transaction differs,
    /// someone (maybe another process) has committed since.
    public let transaction: Int
    let base: any VectorIndex
    let baseRecords: RecordTable
    /// Base ids removed since the base was built, and the matching row mask (nil: none removed).
    let removed: Set<Int64>
    let baseMask: [Bool]?
    let segment: FlatIndex
    let segmentRecords: [Int64: GalleryRecord]

    init(manifest: GalleryManifest, transaction: Int, base: any VectorIndex, baseRecords: RecordTable, removed: Set<Int64> = [],
         baseMask: [Bool]? = nil, segment: FlatIndex? = nil, segmentRecords: [Int64: GalleryRecord] = [:]) {
        self.manifest = manifest
        self.transaction = transaction
        self.base = base
        self.baseRecords = baseRecords
        self.removed = removed
        self.baseMask = baseMask
        self.segment = segment ?? FlatIndex(dimension: base.dimension, metric: base.metric)
        self.segmentRecords = segmentRecords
    }

    /// Everything in `snapshot` as the base, in `base` (default: an exact index built here).
    convenience init(_ snapshot: GallerySnapshot, base: (any VectorIndex)? = nil) throws {
        var records: [Int64: GalleryRecord] = [:]
        records.reserveCapacity(snapshot.ids.count)
        for (i, id) in snapshot.ids.enumerated() { records[id] = snapshot.records[i] }
        self.init(manifest: snapshot.manifest, transaction: snapshot.transaction, base: try base ?? FlatIndex(snapshot),
                  baseRecords: RecordTable(records))
    }

    /// What the base index searches with.
    public var indexSpec: IndexSpec { base.spec }
    /// Bytes held by the base index and the segment.
    public var indexBytes: Int { base.memoryBytes + segment.memoryBytes }
    /// Items written since the base was built (added, removed): they search exactly beside it.
    public var pendingWrites: (added: Int, removed: Int) { (segment.count, removed.count) }
    /// One index of the base kind holding every live item: the base without the removals, plus
    /// the segment (the records are left alone).
    func mergedIndex() throws -> any VectorIndex {
        try base.merged(without: removed, addingIDs: segment.ids, vectors: segment.vectors)
    }

    public var count: Int { base.count - removed.count + segment.count }
    public var dimension: Int { base.dimension }

    /// Whether `id` is in the gallery.
    public func contains(_ id: Int64) -> Bool { record(id) != nil }

    /// The record of `id` (empty when it has none), nil when absent.
    public func record(_ id: Int64) -> GalleryRecord? {
        if let r = segmentRecords[id] { return r }
        return removed.contains(id) ? nil : baseRecords.records[id]
    }

    /// The vector of `id`, nil when absent.
    public func vector(_ id: Int64) -> [Float]? {
        let d = dimension
        if let i = segment.index(of: id) { return Array(segment.vectors[(i * d)..<((i + 1) * d)]) }
        guard !removed.contains(id), let v = base.vector(of: id) else { return nil }
        return Array(v)
    }

    // MARK: Writes, O(batch)

    /// This snapshot plus new items committed by `transaction` (ids already checked to be new).
    func adding(ids: [Int64], vectors: [Float], records new: [GalleryRecord], transaction: Int) throws -> IndexSnapshot {
        let next = FlatIndex(dimension: dimension, metric: base.metric)
        try next.add(ids: segment.ids + ids, vectors: segment.vectors + vectors)
        var records = segmentRecords
        for (id, r) in zip(ids, new) { records[id] = r }
        var m = manifest
        m.count = count + ids.count
        return IndexSnapshot(manifest: m, transaction: transaction, base: base, baseRecords: baseRecords, removed: removed,
                             baseMask: baseMask, segment: next, segmentRecords: records)
    }

    /// This snapshot without `gone`, deleted by `transaction`.
    func removing(_ gone: Set<Int64>, transaction: Int) throws -> IndexSnapshot {
        var nextSegment = segment, records = segmentRecords
        let inSegment = gone.filter { segmentRecords[$0] != nil }
        if !inSegment.isEmpty {
            nextSegment = try segment.without(inSegment)
            for id in inSegment { records[id] = nil }
        }
        let fromBase = gone.subtracting(inSegment).filter { !removed.contains($0) && base.row(of: $0) != nil }
        var mask = baseMask
        if !fromBase.isEmpty {
            var m = baseMask ?? [Bool](repeating: true, count: base.rowIDs.count)
            for id in fromBase { m[base.row(of: id)!] = false }
            mask = m
        }
        var manifest = self.manifest
        manifest.count = count - inSegment.count - fromBase.count
        return IndexSnapshot(manifest: manifest, transaction: transaction, base: base, baseRecords: baseRecords,
                             removed: removed.union(fromBase), baseMask: mask, segment: nextSegment, segmentRecords: records)
    }

    // MARK: Compaction, O(gallery), off the write path

    /// Whether the segment or the removals have grown enough to fold into a new base: past 1/8
    /// of the base, at most 32,768 items (each write copies the segment, so it stays a few MB).
    var needsCompaction: Bool {
        let limit = max(4096, min(base.count / 8, 32_768))
        return segment.count > limit || removed.count > limit
    }

    /// The same items with everything in one new base of the same kind (O(gallery) to copy; an
    /// HNSW base inserts the segment into a copy of its graph instead of rebuilding it).
    public func compacted() throws -> IndexSnapshot {
        let merged = try mergedIndex()
        var records = baseRecords.records
        for id in removed { records[id] = nil }
        for (id, r) in segmentRecords { records[id] = r }
        return IndexSnapshot(manifest: manifest, transaction: transaction, base: merged, baseRecords: RecordTable(records))
    }

    /// `compacted` (made from `origin`) with the writes this snapshot has had since `origin`
    /// replayed on it; nil when this snapshot does not descend from `origin` (it was reloaded).
    func rebased(onto compacted: IndexSnapshot, from origin: IndexSnapshot) throws -> IndexSnapshot? {
        guard base === origin.base else { return nil }
        // A segment entry of `origin` that is now absent, or present with other contents (deleted
        // and added again with the same explicit id), is gone; current entries not in `origin`
        // (or changed) are added.
        let changed = Set(origin.segment.ids.filter { id in
            segmentRecords[id] != nil && (segmentRecords[id] != origin.segmentRecords[id] || vector(id) != origin.vector(id))
        })
        let added = segment.ids.filter { origin.segmentRecords[$0] == nil || changed.contains($0) }
        var gone = removed.subtracting(origin.removed).union(changed)
        for id in origin.segment.ids where segmentRecords[id] == nil { gone.insert(id) }
        var next = IndexSnapshot(manifest: manifest, transaction: transaction, base: compacted.base, baseRecords: compacted.baseRecords)
        if !gone.isEmpty { next = try next.removing(gone, transaction: transaction) }
        if !added.isEmpty {
            let d = dimension
            let vectors = added.flatMap { id -> ArraySlice<Float> in let i = segment.index(of: id)!; return segment.vectors[(i * d)..<((i + 1) * d)] }
            next = try next.adding(ids: added, vectors: vectors, records: added.map { segmentRecords[$0]! }, transaction: transaction)
        }
        return next
    }

    // MARK: Search

    /// The k best items per query over base and segment, filtered by `filter` inside the search.
    func search(_ queries: [Float], k: Int, filter: GalleryFilter?) throws -> SearchResults {
        let fromBase = try base.search(queries, k: k, allowed: Self.both(baseMask, filter.map { mask($0, over: base.rowIDs) }))
        guard segment.count > 0 else { return fromBase }
        let fromSegment = try segment.search(queries, k: k, allowed: filter.map { mask($0, over: segment.ids) })
        return Self.merge(fromBase, fromSegment, k: k, higherIsBetter: base.metric == .innerProduct)
    }

    /// The k best items per query after k-reciprocal re-ranking, which needs every live item in
    /// one exact index (the base itself when it is exact and nothing was written since).
    func searchReRanked(_ queries: [Float], k: Int, reranker: KReciprocalReRanker, depth: Int?,
                        filter: GalleryFilter?) throws -> SearchResults {
        let (index, live) = segment.count == 0 && base is FlatIndex ? (base as! FlatIndex, baseMask) : (try liveIndex(), nil)
        return try index.searchReRanked(queries, k: k, reranker: reranker, depth: depth,
                                        allowed: Self.both(live, filter.map { mask($0, over: index.ids) }))
    }

    /// Every live item, base without the removals then the segment, in one new exact index.
    private func liveIndex() throws -> FlatIndex {
        let merged = FlatIndex(dimension: dimension, metric: base.metric)
        let live = base.rowIDs.filter { !removed.contains($0) && base.row(of: $0) != nil }
        try merged.add(ids: live, vectors: live.flatMap { base.vector(of: $0)! })
        try merged.add(ids: segment.ids, vectors: segment.vectors)
        return merged
    }

    /// One flag per row (`rows`: the ids of the base's, the segment's or a live index's rows):
    /// which items pass `filter`. Base metadata is parsed once per base; a segment item's when it
    /// is asked about.
    private func mask(_ filter: GalleryFilter, over rows: [Int64]) -> [Bool] {
        let baseFields = filter.metadata.isEmpty ? nil : baseRecords.metadataFields()
        return rows.map { id in
            if let r = segmentRecords[id] {
                return filter.accepts(r, fields: filter.metadata.isEmpty ? nil : GalleryFilter.fields(ofMetadata: r.metadata))
            }
            return filter.accepts(baseRecords.records[id] ?? GalleryRecord(), fields: baseFields?[id] ?? nil)
        }
    }

    /// Rows allowed by both masks (nil: no restriction).
    private static func both(_ a: [Bool]?, _ b: [Bool]?) -> [Bool]? {
        guard let a, let b else { return a ?? b }
        return zip(a, b).map { $0 && $1 }
    }

    /// The top k of two result sets of the same queries, ties by smaller id.
    static func merge(_ a: SearchResults, _ b: SearchResults, k: Int, higherIsBetter: Bool) -> SearchResults {
        var ids = [Int64](repeating: -1, count: a.queryCount * k)
        var scores = [Float](repeating: higherIsBetter ? -.infinity : .infinity, count: a.queryCount * k)
        for q in 0..<a.queryCount {
            var candidates = zip(a.ids(ofQuery: q), a.scores(ofQuery: q)).filter { $0.0 >= 0 }
            candidates += zip(b.ids(ofQuery: q), b.scores(ofQuery: q)).filter { $0.0 >= 0 }
            candidates.sort { $0.1 != $1.1 ? (higherIsBetter ? $0.1 > $1.1 : $0.1 < $1.1) : $0.0 < $1.0 }
            for (r, c) in candidates.prefix(k).enumerated() { ids[q * k + r] = c.0; scores[q * k + r] = c.1 }
        }
        return SearchResults(k: k, ids: ids, scores: scores)
    }
}

/// The base's records, shared by reference between snapshots so a write never copies them.
final class RecordTable: @unchecked Sendable {
    let records: [Int64: GalleryRecord]
    private let lock = NSLock()
    private var fields: [Int64: [String: String]?]?

    init(_ records: [Int64: GalleryRecord]) { self.records = records }

    /// Each record's top-level metadata fields, parsed on the first call.
    func metadataFields() -> [Int64: [String: String]?] {
        lock.withLock {
            if let fields { return fields }
            var out: [Int64: [String: String]?] = [:]
            out.reserveCapacity(records.count)
            for (id, record) in records { out[id] = GalleryFilter.fields(ofMetadata: record.metadata) }
            fields = out
            return out
        }
    }
}
