import Foundation
import Retrieval

/// `manifest.json` of an export folder: what the files hold and how the vectors were made, so a
/// target engine is configured with the right dimension and metric and queries are embedded with
/// the same model and preprocessing.
public struct ExportManifest: Codable, Equatable, Sendable {
    public struct File: Codable, Equatable, Sendable {
        public var name: String
        public var bytes: Int
        public var content: String
    }

    public var format: String
    public var flavor: String?
    public var files: [File]
    public var count: Int
    public var dimension: Int
    /// The gallery's metric: `IP` or `L2`.
    public var metric: DistanceMetric
    public var metricDescription: String
    /// Whether every vector has unit L2 norm (±1e-3): then inner product is cosine similarity.
    public var normalized: Bool
    public var model: String
    public var fingerprint: String
    public var preprocessing: String?
    public var magpieVersion: String
    public var created: Date
    public var galleryCreated: Date
    public var galleryUpdated: Date
    public var exactTopK: String

    enum CodingKeys: String, CodingKey {
        case format, flavor, files, count, dimension, metric, normalized, model, fingerprint, preprocessing, created
        case metricDescription = "metric_description", magpieVersion = "magpie_version"
        case galleryCreated = "gallery_created", galleryUpdated = "gallery_updated", exactTopK = "exact_topk"
    }

    /// Why `--force` must not replace `folder` (nil for an earlier export or an empty folder).
    static func replacementRefusal(_ folder: URL) -> String? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? ["?"]
        if entries.isEmpty { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601  // as `encode` writes it
        if let data = FileManager.default.contents(atPath: folder.appendingPathComponent("manifest.json").path),
           (try? decoder.decode(ExportManifest.self, from: data)) != nil { return nil }
        return "is not a gallery export (no export manifest.json); --force replaces only exports, choose another --out"
    }

    static func metricDescription(_ metric: DistanceMetric, normalized: Bool) -> String {
        switch metric {
        case .innerProduct:
            return normalized ? "inner product, higher is closer; the vectors are L2-normalised, so this is cosine similarity"
                              : "inner product, higher is closer (vectors are not normalised: use a dot-product metric, not cosine)"
        case .l2: return "squared Euclidean distance, lower is closer"
        }
    }

    static func isNormalized(_ snap: GallerySnapshot) -> Bool {
        let d = snap.manifest.dimension
        guard !snap.ids.isEmpty else { return false }  // nothing to vouch for
        return snap.vectors.withUnsafeBufferPointer { v in
            (0..<snap.ids.count).allSatisfy { i in
                var s: Float = 0
                for j in (i * d)..<((i + 1) * d) { s += v[j] * v[j] }
                return abs(s.squareRoot() - 1) <= 1e-3
            }
        }
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self) + Data("\n".utf8)
    }
}
