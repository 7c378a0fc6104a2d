import Foundation

/// How a gallery compares vectors.
public enum DistanceMetric: String, Codable, Sendable, CaseIterable {
    /// Inner product, higher is closer (cosine on L2-normalised vectors). FAISS `IndexFlatIP`.
    case innerProduct = "IP"
    /// Squared Euclidean distance, lower is closer. FAISS `IndexFlatL2`.
    case l2 = "L2"

    /// Parses `ip`, `IP`, `cosine`, `l2`, `L2`.
    public init(parsing text: String) throws {
        switch text.lowercased() {
        case "ip", "inner_product", "cosine": self = .innerProduct
        case "l2", "euclidean": self = .l2
        default: throw RetrievalError.invalidArgument("unknown metric '\(text)': use IP (inner product / cosine) or L2")
        }
    }
}

/// What the gallery's `meta` database records about its vectors (JSON under the key `manifest`).
public struct GalleryManifest: Codable, Equatable, Sendable {
    public static let currentFormatVersion = 1

    public var formatVersion: Int
    public var dimension: Int
    public var metric: DistanceMetric
    public var count: Int
    /// Model architecture name, e.g. `ResNet50`.
    public var model: String
    /// Hash of the model weights and preprocessing; galleries refuse vectors from another fingerprint.
    public var fingerprint: String
    /// The eval preprocessing the vectors were embedded with (recorded by `gallery build`; nil
    /// for galleries imported from files or made before it was recorded).
    public var preprocessing: String?
    public var created: Date
    public var updated: Date
    /// The smallest id automatic ids may take: one past every id ever stored, so a deleted id is
    /// never handed out again. Nil in galleries written before it was recorded (then the largest
    /// stored id decides).
    public var nextID: Int64?
    /// The index searches use (`gallery build --index`, `gallery index`); nil: exact (`FLAT`).
    public var index: IndexSpec?

    /// The index searches use, exact when none was chosen.
    public var indexSpec: IndexSpec { index ?? .flat }

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", dimension = "embedding_size", metric = "dist_type", count
        case model, fingerprint, preprocessing, created, updated
        case nextID = "next_id", index
    }

    public init(dimension: Int, metric: DistanceMetric = .innerProduct, model: String = "", fingerprint: String = "",
                preprocessing: String? = nil, date: Date = Date()) {
        formatVersion = Self.currentFormatVersion
        self.dimension = dimension
        self.metric = metric
        count = 0
        self.model = model
        self.fingerprint = fingerprint
        self.preprocessing = preprocessing
        created = date
        updated = date
    }

    func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return Array(try! encoder.encode(self))
    }

    static func decode(_ bytes: [UInt8], path: String) throws -> GalleryManifest {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do { return try decoder.decode(GalleryManifest.self, from: Data(bytes)) } catch {
            throw RetrievalError.notAGallery(path: path, reason: "its manifest is unreadable")
        }
    }
}
