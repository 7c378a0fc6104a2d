import Foundation
import Retrieval
import TensorCore

/// The file layouts of `magpie gallery export --format`.
public enum GalleryExportFormat: String, CaseIterable, Sendable {
    /// One `.npy` per field, named after it (Milvus NumPy bulk import).
    case npy
    /// One Parquet file, columns id, vector (list<float>), label, path, metadata (Milvus, Spark, pyarrow).
    case parquet
    /// One JSON document per line in an `NDJSONFlavor` (OpenSearch `_bulk`, Vespa feed, Qdrant points).
    case ndjson
}

public struct GalleryExportOptions: Sendable {
    public var format: GalleryExportFormat
    public var flavor: NDJSONFlavor = .plain
    public var target = ExportTarget()
    /// Items in the exact top-k sample, and k.
    public var sampleSize = 100
    public var k = 10
    public var seed: UInt64 = 0
    public var rowGroupSize = 65_536
    /// Replace an existing output folder.
    public var force = false
    public var magpieVersion = ""
    /// Test hook: runs after the files are written, before the folder is renamed into place.
    var beforeCommit: (@Sendable () throws -> Void)?

    public init(format: GalleryExportFormat) { self.format = format }
}

/// Writes a gallery snapshot to an export folder: the data files of one format, `manifest.json`
/// and `exact_topk.json`. The folder is staged beside `DIR` and renamed into place when every
/// file is complete; on any error nothing is left at `DIR`.
public enum GalleryExporter {
    public struct Summary: Sendable {
        public var manifest: ExportManifest
        /// Seconds spent on each data file, and on the exact top-k sample.
        public var seconds: [String: Double]
    }

    @discardableResult
    public static func export(_ snap: GallerySnapshot, to dir: String, options: GalleryExportOptions) throws -> Summary {
        guard options.rowGroupSize > 0 else { throw RetrievalError.invalidArgument("--row-group-size must be positive") }
        guard options.sampleSize >= 0, options.k > 0 else {
            throw RetrievalError.invalidArgument("need --sample >= 0 and --k > 0 (got \(options.sampleSize), \(options.k))")
        }
        let folder = try StagedFolder(destination: dir, replacing: options.force, refusal: ExportManifest.replacementRefusal)
        do {
            let summary = try write(snap, into: folder, options: options)
            try options.beforeCommit?()
            try folder.commit()
            return summary
        } catch {
            folder.abandon()
            throw error
        }
    }

    private static func write(_ snap: GallerySnapshot, into folder: StagedFolder, options: GalleryExportOptions) throws -> Summary {
        var files: [ExportManifest.File] = []
        var seconds: [String: Double] = [:]
        func timed(_ name: String, _ content: String, _ body: (String) throws -> Void) throws {
            let start = Date()
            try body(folder.path(name))
            seconds[name] = Date().timeIntervalSince(start)
            let bytes = (try? FileManager.default.attributesOfItem(atPath: folder.path(name))[.size] as? NSNumber)?.intValue ?? 0
            files.append(.init(name: name, bytes: bytes, content: content))
        }
        let d = snap.manifest.dimension
        let n = snap.ids.count
        switch options.format {
        case .npy:
            try timed("id.npy", "int64 [N]") { try NPYFileWriter.write(int64: snap.ids, to: $0) }
            try timed("vector.npy", "float32 [N, \(d)]") { try NPYFileWriter.write(float32: snap.vectors, shape: [n, d], to: $0) }
            try timed("label.npy", "int64 [N], -1 where an item has no label") {
                try NPYFileWriter.write(int64: snap.records.map { $0.label ?? -1 }, to: $0)
            }
            try timed("path.npy", "unicode [N], empty where an item has no path") {
                try NPYFileWriter.write(strings: snap.records.map { $0.path ?? "" }, to: $0)
            }
            try timed("metadata.npy", "unicode [N], JSON text, {} where an item has none") {
                try NPYFileWriter.write(strings: snap.records.map { $0.metadata ?? "{}" }, to: $0)
            }
        case .parquet:
            try timed("gallery.parquet", "columns id int64, vector list<float>[\(d)], label int64?, path string?, metadata string? (JSON text)") {
                try writeParquet(snap, to: $0, rowGroupSize: options.rowGroupSize, version: options.magpieVersion)
            }
        case .ndjson:
            try timed("gallery.ndjson", "\(options.flavor.rawValue) rows") {
                try NDJSONWriter(flavor: options.flavor, target: options.target).write(snap, to: $0)
            }
            if let (name, text) = TargetSchemas.file(for: options.flavor, dimension: d, metric: snap.manifest.metric, target: options.target) {
                try timed(name, "\(options.flavor.rawValue) index definition") {
                    try Data(text.utf8).write(to: URL(fileURLWithPath: $0))
                }
            }
        }
        var sample: ExactTopKSample?
        try timed("exact_topk.json", "exact top-\(options.k) of a seeded sample (query = gallery, self excluded)") {
            sample = try ExactTopKSample.compute(snap, sampleSize: options.sampleSize, k: options.k, seed: options.seed)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try (try encoder.encode(sample!) + Data("\n".utf8)).write(to: URL(fileURLWithPath: $0))
        }
        let normalized = ExportManifest.isNormalized(snap)
        let m = snap.manifest
        let manifest = ExportManifest(
            format: options.format.rawValue, flavor: options.format == .ndjson ? options.flavor.rawValue : nil,
            files: files, count: n, dimension: d, metric: m.metric,
            metricDescription: ExportManifest.metricDescription(m.metric, normalized: normalized), normalized: normalized,
            model: m.model, fingerprint: m.fingerprint, preprocessing: m.preprocessing, magpieVersion: options.magpieVersion,
            created: Date(), galleryCreated: m.created, galleryUpdated: m.updated, exactTopK: "exact_topk.json")
        try manifest.encoded().write(to: URL(fileURLWithPath: folder.path("manifest.json")))
        return Summary(manifest: manifest, seconds: seconds)
    }

    static func writeParquet(_ snap: GallerySnapshot, to path: String, rowGroupSize: Int, version: String) throws {
        let d = snap.manifest.dimension
        let columns = [
            ParquetColumn("id", .int64), ParquetColumn("vector", .floatList(width: d)), ParquetColumn("label", .optionalInt64),
            ParquetColumn("path", .optionalString), ParquetColumn("metadata", .optionalString),
        ]
        let writer = try ParquetWriter(path: path, columns: columns, createdBy: "magpie version \(version)")
        var lo = 0
        repeat {
            let hi = min(snap.ids.count, lo + rowGroupSize)
            let records = snap.records[lo..<hi]
            try writer.writeRowGroup(rows: hi - lo, [
                .int64(Array(snap.ids[lo..<hi])),
                .floatList(Array(snap.vectors[(lo * d)..<(hi * d)])),
                .optionalInt64(records.map(\.label)),
                .optionalString(records.map(\.path)),
                .optionalString(records.map(\.metadata)),
            ])
            lo = hi
        } while lo < snap.ids.count
        try writer.close()
    }
}

extension GalleryExporter {
    /// Writes NDJSON rows to one file (through a temporary name renamed when complete).
    public static func writeNDJSON(_ snap: GallerySnapshot, to path: String, flavor: NDJSONFlavor = .plain,
                                   target: ExportTarget = ExportTarget()) throws {
        let url = URL(fileURLWithPath: path)
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())").path
        do {
            try NDJSONWriter(flavor: flavor, target: target).write(snap, to: tmp)
            guard rename(tmp, path) == 0 else {
                throw RetrievalError.invalidInput(path: path, reason: "cannot rename the finished file into place (\(String(cString: strerror(errno))))")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: tmp)
            throw error
        }
    }
}
