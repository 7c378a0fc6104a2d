import ArgumentParser
import Retrieval

/// `--index` and its parameters, shared by `gallery build`, `gallery index` and `eval`.
struct IndexOptions: ParsableArguments {
    @Option(name: .customLong("index"),
            help: "Index: flat (exact); hnsw or HNSW<M> as PaddleClas names it (HNSW32); ivfpq or IVF<nlist>,PQ<m> / IVF<nlist> as faiss names them (IVF1024,PQ16).")
    var type: String?
    @Option(name: .customLong("m"), help: "HNSW: neighbours per item on the upper layers (2·M on layer 0). Default 16, or the M of HNSW<M>.")
    var m: Int?
    @Option(name: .customLong("ef-construction"), help: "HNSW: beam width while building (default 200).")
    var efConstruction: Int?
    @Option(name: .customLong("ef-search"), help: "HNSW: beam width while searching, raised to k when smaller (default 64).")
    var efSearch: Int?
    @Option(help: "IVF: lists visited per query (default 16).") var nprobe: Int?
    @Option(help: "IVF-PQ: re-score the best rescore × k candidates exactly (default 8; 0: codes only).") var rescore: Int?

    /// The spec asked for; nil when no option was given.
    func spec() throws -> IndexSpec? {
        guard let type else {
            guard m == nil, efConstruction == nil, efSearch == nil, nprobe == nil, rescore == nil else {
                throw ValidationError("--m, --ef-construction, --ef-search, --nprobe and --rescore need --index")
            }
            return nil
        }
        do { return try IndexSpec(parsing: type, m: m, efConstruction: efConstruction, efSearch: efSearch, nprobe: nprobe, rescore: rescore) } catch {
            throw ValidationError("\(error)")
        }
    }
}
