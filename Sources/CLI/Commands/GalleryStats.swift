import ArgumentParser
import Foundation
import Retrieval

/// `magpie gallery stats`: the manifest and on-disk size of a gallery.
struct GalleryStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Print a gallery's manifest (count, dimension, metric, model, fingerprint, preprocessing, dates) and size."
    )

    @Option(help: "Gallery folder.") var gallery: String
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let g = try Gallery.open(at: gallery, readOnly: true)
        let m = try g.manifest()
        let date = ISO8601DateFormatter()
        let index = indexState(m, transaction: try g.lastTransactionID())
        if json {
            var object: [String: Any] = [
                "path": gallery, "count": m.count, "embedding_size": m.dimension, "dist_type": m.metric.rawValue,
                "model": m.model, "fingerprint": m.fingerprint, "format_version": m.formatVersion,
                "created": date.string(from: m.created), "updated": date.string(from: m.updated), "bytes": g.fileSize(),
            ]
            if let preprocessing = m.preprocessing { object["preprocessing"] = preprocessing }
            object["index"] = "\(m.indexSpec)"
            object["index_file"] = index
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print("""
            gallery       \(gallery)
            count         \(m.count)
            dimension     \(m.dimension)
            metric        \(m.metric.rawValue)
            model         \(m.model.isEmpty ? "-" : m.model)
            fingerprint   \(m.fingerprint.isEmpty ? "-" : m.fingerprint)
            preprocessing \(Self.indented(m.preprocessing ?? "-"))
            created       \(date.string(from: m.created))
            updated       \(date.string(from: m.updated))
            index         \(m.indexSpec)\(index.map { "; \($0)" } ?? "")
            format        \(m.formatVersion)
            size          \(g.fileSize()) bytes
            """)
        }
    }

    /// Whether the derived index file is current: "index.hnsw 12.3 MB, current" / "stale (updated
    /// at the next open)" / "missing (…)"; nil for an exact index, which has no file. Reads only
    /// the file's header.
    func indexState(_ m: GalleryManifest, transaction: Int) -> String? {
        guard let url = GalleryIndexFile.url(gallery: gallery, spec: m.indexSpec) else { return nil }
        guard let stamp = GalleryIndexFile.savedStamp(gallery: gallery, spec: m.indexSpec) else {
            return "\(url.lastPathComponent) missing or unreadable (built at the next open)"
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        let current = stamp == GalleryIndexFile.stamp(transaction: transaction, count: m.count)
        return String(format: "%@ %.1f MB, %@", url.lastPathComponent, Double(size) / 1e6,
                      current ? "current" : "stale (brought up to date at the next open)")
    }

    /// Continuation lines of a multi-line value start under the value column.
    static func indented(_ value: String) -> String {
        value.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n" + String(repeating: " ", count: 14))
    }
}
