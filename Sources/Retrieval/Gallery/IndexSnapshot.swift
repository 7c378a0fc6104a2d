import Foundation

/// The searchable gallery at one moment: an exact index and the records of its items. Never
/// mutated after it is built; a write builds the next snapshot and swaps it in, so searches that
/// hold this one finish undisturbed.
public final class IndexSnapshot: @unchecked Sendable {
    public let index: FlatIndex
    public let records: [Int64: GalleryRecord]
    public let manifest: GalleryManifest
    /// The LMDB transaction this snapshot reflects: when the gallery's last transaction differs,
    /// someone (maybe another process) has committed since.
    public let transaction: Int

    init(index: FlatIndex, records: [Int64: GalleryRecord], manifest: GalleryManifest, transaction: Int) {
        self.index = index
        self.records = records
        self.manifest = manifest
        self.transaction = transaction
    }

    convenience init(_ snapshot: GallerySnapshot) throws {
        var records: [Int64: GalleryRecord] = [:]
        records.reserveCapacity(snapshot.ids.count)
        for (i, id) in snapshot.ids.enumerated() { records[id] = snapshot.records[i] }
        try self.init(index: FlatIndex(snapshot), records: records, manifest: snapshot.manifest, transaction: snapshot.transaction)
    }

    public var count: Int { index.count }

    /// One flag per index row: which items pass `filter`. Metadata fields are parsed once per
    /// snapshot, on the first metadata filter.
    func mask(_ filter: GalleryFilter) -> [Bool] {
        let fields = filter.metadata.isEmpty ? nil : metadataFields()
        return index.ids.map { id in filter.accepts(records[id] ?? GalleryRecord(), fields: fields?[id] ?? nil) }
    }

    private let fieldsLock = NSLock()
    private var parsedFields: [Int64: [String: String]?]?

    private func metadataFields() -> [Int64: [String: String]?] {
        fieldsLock.withLock {
            if let parsedFields { return parsedFields }
            var out: [Int64: [String: String]?] = [:]
            out.reserveCapacity(records.count)
            for (id, record) in records { out[id] = GalleryFilter.fields(ofMetadata: record.metadata) }
            parsedFields = out
            return out
        }
    }

    /// This snapshot plus new items committed by `transaction` (ids already checked to be new).
    func adding(ids: [Int64], vectors: [Float], records new: [GalleryRecord], transaction: Int) throws -> IndexSnapshot {
        let next = FlatIndex(dimension: index.dimension, metric: index.metric)
        try next.add(ids: index.ids + ids, vectors: index.vectors + vectors)
        var records = self.records
        for (id, r) in zip(ids, new) { records[id] = r }
        var m = manifest
        m.count = next.count
        return IndexSnapshot(index: next, records: records, manifest: m, transaction: transaction)
    }

    /// This snapshot without `removed`, deleted by `transaction`.
    func removing(_ removed: Set<Int64>, transaction: Int) throws -> IndexSnapshot {
        let d = index.dimension
        var keptIDs: [Int64] = [], keptVectors: [Float] = []
        keptIDs.reserveCapacity(index.count)
        keptVectors.reserveCapacity(index.vectors.count)
        for (i, id) in index.ids.enumerated() where !removed.contains(id) {
            keptIDs.append(id)
            keptVectors += index.vectors[(i * d)..<((i + 1) * d)]
        }
        let next = FlatIndex(dimension: d, metric: index.metric)
        try next.add(ids: keptIDs, vectors: keptVectors)
        var records = self.records
        for id in removed { records[id] = nil }
        var m = manifest
        m.count = next.count
        return IndexSnapshot(index: next, records: records, manifest: m, transaction: transaction)
    }
}
