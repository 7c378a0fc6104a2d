/// Which index a gallery searches with, and its parameters; recorded in the gallery's manifest
/// (`index`) so every command that opens the gallery searches the same way.
///
/// Names as PaddleClas's PP-ShiTu `index_method` takes them (`FLAT`, `HNSW32`) or spelled out
/// (`flat`, `hnsw`).
public enum IndexSpec: Equatable, Sendable, CustomStringConvertible {
    case flat
    case hnsw(HNSWIndex.Parameters)

    /// Parses `flat` / `FLAT`, `hnsw` (M 16) / `HNSW<M>` (e.g. `HNSW32`). Parameters left nil keep
    /// their defaults (efConstruction 200, efSearch 64).
    public init(parsing text: String, m: Int? = nil, efConstruction: Int? = nil, efSearch: Int? = nil) throws {
        let lower = text.lowercased()
        if lower == "flat" {
            guard m == nil, efConstruction == nil, efSearch == nil else {
                throw RetrievalError.invalidArgument("--m, --ef-construction and --ef-search are HNSW parameters; the flat index has none")
            }
            self = .flat
            return
        }
        guard lower.hasPrefix("hnsw"), let named = lower == "hnsw" ? 16 : Int(lower.dropFirst(4)) else {
            throw RetrievalError.invalidArgument("unknown index '\(text)': use flat (exact) or hnsw / HNSW<M> such as HNSW32 (approximate)")
        }
        var p = HNSWIndex.Parameters(m: m ?? named)
        if let efConstruction { p.efConstruction = efConstruction }
        if let efSearch { p.efSearch = efSearch }
        guard p.m >= 2, p.m <= 256, p.efConstruction >= 1, p.efSearch >= 1 else {
            throw RetrievalError.invalidArgument("HNSW needs 2 ≤ M ≤ 256 and positive efConstruction / efSearch, got M \(p.m), "
                                                 + "efConstruction \(p.efConstruction), efSearch \(p.efSearch)")
        }
        self = .hnsw(p)
    }

    /// `FLAT`, or `HNSW32 (efConstruction 200, efSearch 64)`.
    public var description: String {
        switch self {
        case .flat: "FLAT (exact)"
        case .hnsw(let p): "HNSW\(p.m) (efConstruction \(p.efConstruction), efSearch \(p.efSearch))"
        }
    }

    /// The file beside the LMDB data that holds a derived index, nil for one rebuilt in memory.
    public var fileName: String? {
        switch self {
        case .flat: nil
        case .hnsw: "index.hnsw"
        }
    }
}

extension IndexSpec: Codable {
    enum CodingKeys: String, CodingKey { case type, m, efConstruction = "ef_construction", efSearch = "ef_search" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(String.self, forKey: .type) {
        case "flat": self = .flat
        case "hnsw":
            self = .hnsw(HNSWIndex.Parameters(m: try c.decode(Int.self, forKey: .m), efConstruction: try c.decode(Int.self, forKey: .efConstruction),
                                              efSearch: try c.decode(Int.self, forKey: .efSearch)))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription: "unknown index type '\(other)'")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .flat: try c.encode("flat", forKey: .type)
        case .hnsw(let p):
            try c.encode("hnsw", forKey: .type)
            try c.encode(p.m, forKey: .m)
            try c.encode(p.efConstruction, forKey: .efConstruction)
            try c.encode(p.efSearch, forKey: .efSearch)
        }
    }
}
