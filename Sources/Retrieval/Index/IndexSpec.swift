/// Which index a gallery searches with, and its parameters; recorded in the gallery's manifest
/// (`index`) so every command that opens the gallery searches the same way.
///
/// Names as PaddleClas's PP-ShiTu `index_method` takes them (`FLAT`, `HNSW32`) or spelled out
/// (`flat`, `hnsw`).
public enum IndexSpec: Equatable, Sendable, CustomStringConvertible {
    case flat
    case hnsw(HNSWIndex.Parameters)
    case ivfpq(IVFPQIndex.Parameters)

    /// `ivfpq` / `IVF<nlist>,PQ<m>` (faiss's factory names, e.g. `IVF1024,PQ16`) or `IVF<nlist>`
    /// (IVF-Flat), with nprobe and rescore.
    public static func ivf(parsing text: String, nprobe: Int?, rescore: Int?) throws -> IndexSpec? {
        let lower = text.lowercased().replacingOccurrences(of: " ", with: "")
        var p = IVFPQIndex.Parameters()
        if lower == "ivfpq" {
        } else if lower.hasPrefix("ivf") {
            let parts = lower.dropFirst(3).split(separator: ",")
            guard let first = parts.first, let nlist = Int(first), parts.count <= 2 else { return nil }
            p.nlist = nlist
            if parts.count == 2 {
                guard parts[1].hasPrefix("pq"), let m = Int(parts[1].dropFirst(2)) else { return nil }
                p.m = m
            } else {
                p.m = 0
            }
        } else {
            return nil
        }
        if let nprobe { p.nprobe = nprobe }
        if let rescore { p.rescore = rescore }
        guard p.nlist >= 1, p.nprobe >= 1, p.m >= 0, p.m <= 256, p.rescore >= 0 else {
            throw RetrievalError.invalidArgument("IVF needs nlist and nprobe ≥ 1, 0 ≤ m ≤ 256, rescore ≥ 0")
        }
        return .ivfpq(p)
    }

    /// Parses `flat` / `FLAT`, `hnsw` (M 16) / `HNSW<M>` (e.g. `HNSW32`). Parameters left nil keep
    /// their defaults (efConstruction 200, efSearch 64).
    public init(parsing text: String, m: Int? = nil, efConstruction: Int? = nil, efSearch: Int? = nil,
                nprobe: Int? = nil, rescore: Int? = nil) throws {
        let lower = text.lowercased()
        if let ivf = try Self.ivf(parsing: text, nprobe: nprobe, rescore: rescore) {
            guard m == nil, efConstruction == nil, efSearch == nil else {
                throw RetrievalError.invalidArgument("--m, --ef-construction and --ef-search are HNSW parameters; IVF takes nprobe and rescore")
            }
            self = ivf
            return
        }
        guard nprobe == nil, rescore == nil else {
            throw RetrievalError.invalidArgument("--nprobe and --rescore are IVF parameters")
        }
        if lower == "flat" {
            guard m == nil, efConstruction == nil, efSearch == nil else {
                throw RetrievalError.invalidArgument("--m, --ef-construction and --ef-search are HNSW parameters; the flat index has none")
            }
            self = .flat
            return
        }
        guard lower.hasPrefix("hnsw"), let named = lower == "hnsw" ? 16 : Int(lower.dropFirst(4)) else {
            throw RetrievalError.invalidArgument("unknown index '\(text)': use flat (exact), hnsw / HNSW<M> such as HNSW32, or ivfpq / IVF<nlist>,PQ<m> such as IVF1024,PQ16 (approximate)")
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
        case .ivfpq(let p): p.m == 0 ? "IVF\(p.nlist),Flat (nprobe \(p.nprobe))"
            : "IVF\(p.nlist),PQ\(p.m) (nprobe \(p.nprobe), rescore \(p.rescore))"
        }
    }

    /// The file beside the LMDB data that holds a derived index, nil for one rebuilt in memory.
    public var fileName: String? {
        switch self {
        case .flat: nil
        case .hnsw: "index.hnsw"
        case .ivfpq: "index.ivfpq"
        }
    }
}

extension IndexSpec: Codable {
    enum CodingKeys: String, CodingKey {
        case type, m, efConstruction = "ef_construction", efSearch = "ef_search", nlist, nprobe, rescore
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(String.self, forKey: .type) {
        case "flat": self = .flat
        case "hnsw":
            self = .hnsw(HNSWIndex.Parameters(m: try c.decode(Int.self, forKey: .m), efConstruction: try c.decode(Int.self, forKey: .efConstruction),
                                              efSearch: try c.decode(Int.self, forKey: .efSearch)))
        case "ivfpq":
            self = .ivfpq(IVFPQIndex.Parameters(nlist: try c.decode(Int.self, forKey: .nlist), m: try c.decode(Int.self, forKey: .m),
                                                nprobe: try c.decode(Int.self, forKey: .nprobe), rescore: try c.decode(Int.self, forKey: .rescore)))
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
        case .ivfpq(let p):
            try c.encode("ivfpq", forKey: .type)
            try c.encode(p.nlist, forKey: .nlist)
            try c.encode(p.m, forKey: .m)
            try c.encode(p.nprobe, forKey: .nprobe)
            try c.encode(p.rescore, forKey: .rescore)
        }
    }
}
