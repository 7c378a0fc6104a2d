import Foundation
import TensorCore

/// Vectors with ids, labels and records, loaded from a gallery folder, `.npy` (+ labels/ids
/// `.npy`), `.npz` (`vectors`|`embeddings`|`features`, optional `ids`, `labels`, `paths`) or NDJSON rows.
public struct EmbeddingSet: Sendable {
    public var dimension: Int
    public var ids: [Int64]
    public var vectors: [Float]
    public var records: [GalleryRecord]
    public var metric: DistanceMetric?
    public var count: Int { ids.count }

    /// Labels of every row; throws naming `path` when some are missing.
    public func requireLabels(_ path: String) throws -> [Int64] {
        var out: [Int64] = []
        out.reserveCapacity(count)
        for (i, r) in records.enumerated() {
            guard let l = r.label else {
                throw RetrievalError.invalidInput(path: path, reason: "item \(ids[i]) has no label; evaluation needs a label for every item")
            }
            out.append(l)
        }
        return out
    }

    public static func load(_ path: String, labels labelsPath: String? = nil, ids idsPath: String? = nil) throws -> EmbeddingSet {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw RetrievalError.invalidInput(path: path, reason: "no such file or folder")
        }
        var set: EmbeddingSet
        if isDir.boolValue {
            let snap = try Gallery.open(at: path, readOnly: true).snapshot()
            set = EmbeddingSet(dimension: snap.manifest.dimension, ids: snap.ids, vectors: snap.vectors,
                               records: snap.records, metric: snap.manifest.metric)
        } else if path.hasSuffix(".npz") {
            set = try fromNPZ(path)
        } else if path.hasSuffix(".ndjson") || path.hasSuffix(".jsonl") {
            set = try fromNDJSON(path)
        } else {
            let array = try NPY.read(URL(fileURLWithPath: path))
            set = try fromMatrix(array, path: path, ids: nil, labels: nil)
        }
        if let labelsPath {
            let labels = try integers(labelsPath, expected: set.count)
            for i in 0..<set.count { set.records[i].label = EmbeddingSet.label(labels[i]) }
        }
        if let idsPath { set.ids = try integers(idsPath, expected: set.count) }
        return set
    }

    /// A stored label: -1 (what `export-embeddings` and `gallery export` write for "no label") and
    /// any other negative value mean none.
    static func label(_ value: Int64) -> Int64? { value < 0 ? nil : value }

    static func fromMatrix(_ array: NPYArray, path: String, ids: [Int64]?, labels: [Int64]?) throws -> EmbeddingSet {
        guard array.shape.count == 2, array.shape[1] > 0 else {
            throw RetrievalError.invalidInput(path: path, reason: "expected a 2-D array of embeddings (rows × dimension), got shape \(array.shape)")
        }
        guard array.integers == nil else { throw RetrievalError.invalidInput(path: path, reason: "embeddings must be floating point, got \(array.descr)") }
        let n = array.shape[0]
        var records = [GalleryRecord](repeating: GalleryRecord(), count: n)
        if let labels { for i in 0..<n { records[i].label = EmbeddingSet.label(labels[i]) } }
        return EmbeddingSet(dimension: array.shape[1], ids: ids ?? (0..<n).map(Int64.init), vectors: array.tensor.data,
                            records: records, metric: nil)
    }

    static func fromNPZ(_ path: String) throws -> EmbeddingSet {
        let file = try NPZ.read(URL(fileURLWithPath: path))
        guard let key = ["vectors", "embeddings", "features"].first(where: { file.arrays[$0] != nil }) else {
            throw RetrievalError.invalidInput(path: path, reason: "no 'vectors', 'embeddings' or 'features' array (has \(file.names.joined(separator: ", ")))")
        }
        let matrix = file.arrays[key]!
        let n = matrix.shape.first ?? 0
        func ints(_ name: String) throws -> [Int64]? {
            guard let a = file.arrays[name] else { return nil }
            guard let v = a.integers?.values, v.count == n else {
                throw RetrievalError.invalidInput(path: path, reason: "'\(name)' must hold \(n) integers, got \(a.descr) shape \(a.shape)")
            }
            return v
        }
        var set = try fromMatrix(matrix, path: path, ids: try ints("ids"), labels: try ints("labels"))
        // `magpie export-embeddings` writes the image paths as a unicode array.
        if let paths = file.arrays["paths"] {
            guard let strings = paths.strings, strings.count == n else {
                throw RetrievalError.invalidInput(path: path, reason: "'paths' must hold \(n) strings, got \(paths.descr) shape \(paths.shape)")
            }
            for i in 0..<n { set.records[i].path = strings[i].isEmpty ? nil : strings[i] }  // "" = no path
        }
        return set
    }

    static func integers(_ path: String, expected: Int) throws -> [Int64] {
        let a = try NPY.read(URL(fileURLWithPath: path))
        guard let v = a.integers?.values else {
            throw RetrievalError.invalidInput(path: path, reason: "expected integers (int64/int32), got \(a.descr)")
        }
        guard v.count == expected else {
            throw RetrievalError.invalidInput(path: path, reason: "holds \(v.count) values but there are \(expected) embeddings")
        }
        return v
    }

    /// One JSON object per line: `{"id": 7, "vector": [...], "label": 3, "path": "a.jpg", "metadata": {...}}`.
    static func fromNDJSON(_ path: String) throws -> EmbeddingSet {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var set = EmbeddingSet(dimension: 0, ids: [], vectors: [], records: [], metric: nil)
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            func bad(_ reason: String) -> RetrievalError { .invalidInput(path: path, reason: "line \(number + 1): \(reason)") }
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw bad("not a JSON object")
            }
            guard let id = (object["id"] as? NSNumber)?.int64Value else { throw bad("missing integer 'id'") }
            guard let vector = (object["vector"] as? [NSNumber])?.map(\.floatValue), !vector.isEmpty else {
                throw bad("missing numeric array 'vector'")
            }
            if set.dimension == 0 { set.dimension = vector.count }
            guard vector.count == set.dimension else { throw bad("vector has \(vector.count) values, earlier rows have \(set.dimension)") }
            var record = GalleryRecord(label: (object["label"] as? NSNumber)?.int64Value, path: object["path"] as? String)
            if let meta = object["metadata"], !(meta is NSNull) {
                let data = try JSONSerialization.data(withJSONObject: meta, options: [.sortedKeys, .fragmentsAllowed])
                record.metadata = String(decoding: data, as: UTF8.self)
            }
            set.ids.append(id)
            set.vectors += vector
            set.records.append(record)
        }
        guard set.count > 0 else { throw RetrievalError.invalidInput(path: path, reason: "no rows") }
        return set
    }
}
