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
        if json {
            var object: [String: Any] = [
                "path": gallery, "count": m.count, "embedding_size": m.dimension, "dist_type": m.metric.rawValue,
                "model": m.model, "fingerprint": m.fingerprint, "format_version": m.formatVersion,
                "created": date.string(from: m.created), "updated": date.string(from: m.updated), "bytes": g.fileSize(),
            ]
            if let preprocessing = m.preprocessing { object["preprocessing"] = preprocessing }
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
            format        \(m.formatVersion)
            size          \(g.fileSize()) bytes
            """)
        }
    }

    /// Continuation lines of a multi-line value start under the value column.
    static func indented(_ value: String) -> String {
        value.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n" + String(repeating: " ", count: 14))
    }
}
