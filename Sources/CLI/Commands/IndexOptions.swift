import ArgumentParser
import Retrieval

/// `--index` and its HNSW parameters, shared by `gallery build` and `gallery index`.
struct IndexOptions: ParsableArguments {
    @Option(name: .customLong("index"),
            help: "Index: flat (exact), hnsw, or HNSW<M> as PaddleClas names it (HNSW32).")
    var type: String?
    @Option(name: .customLong("m"), help: "HNSW: neighbours per item on the upper layers (2·M on layer 0). Default 16, or the M of HNSW<M>.")
    var m: Int?
    @Option(name: .customLong("ef-construction"), help: "HNSW: beam width while building (default 200).")
    var efConstruction: Int?
    @Option(name: .customLong("ef-search"), help: "HNSW: beam width while searching, raised to k when smaller (default 64).")
    var efSearch: Int?

    /// The spec asked for; nil when no option was given.
    func spec() throws -> IndexSpec? {
        guard let type else {
            guard m == nil, efConstruction == nil, efSearch == nil else {
                throw ValidationError("--m, --ef-construction and --ef-search need --index hnsw (or HNSW<M>)")
            }
            return nil
        }
        do { return try IndexSpec(parsing: type, m: m, efConstruction: efConstruction, efSearch: efSearch) } catch {
            throw ValidationError("\(error)")
        }
    }
}
