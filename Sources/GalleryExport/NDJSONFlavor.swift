import Retrieval

/// The row shapes `magpie gallery export --format ndjson` writes: one JSON document per line.
public enum NDJSONFlavor: String, CaseIterable, Sendable {
    /// `{"id", "vector", "label", "path", "metadata"}` — what `magpie gallery import` reads back.
    case plain
    /// OpenSearch `_bulk` body: an `{"index": {"_index", "_id"}}` action line, then the document
    /// `{"id", "vector", "label", "path", "metadata"}` for a `knn_vector` field named `vector`.
    case opensearch
    /// Vespa feed (JSONL of operations for `vespa feed`): `{"put": "id:NS:TYPE::ID", "fields":
    /// {"id", "vector": {"values": [...]}, "label", "path", "metadata" (JSON text)}}`.
    case vespa
    /// Qdrant points `{"id", "vector", "payload": {"label", "path", "metadata"}}`; batches of
    /// lines wrapped as `{"points": [...]}` are the body of `PUT /collections/NAME/points`.
    case qdrant
}

/// Names the exported documents carry in the target engine.
public struct ExportTarget: Sendable {
    /// OpenSearch index name.
    public var index = "magpie"
    /// Vespa document id namespace and document type (schema name).
    public var namespace = "magpie"
    public var documentType = "image"

    public init() {}
}
