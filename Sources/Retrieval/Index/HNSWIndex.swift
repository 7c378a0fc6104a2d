import Dispatch
import TensorCore
import Foundation

/// Approximate nearest-neighbour search on a hierarchical navigable small-world graph (Malkov &
/// Yashunin 2018): every item sits on layer 0 and, with probability falling by 1/M per layer, on
/// the layers above; a search descends greedily from the top entry point and ends with a beam of
/// width `efSearch` on layer 0. Neighbours are chosen with the paper's heuristic (a candidate is
/// kept only when it is closer to the new item than to every neighbour already kept), which
/// keeps the graph navigable on clustered data.
///
/// Scores follow `FlatIndex`: inner products (higher is closer) or squared L2 distances (lower is
/// closer). Removed items stay in the graph as waypoints but are never returned.
///
/// A batch of items is inserted on all cores (`Parallel.cores`; each item's neighbour lists are
/// guarded by striped locks, as hnswlib and faiss do), so the graph depends on thread timing
/// unless one thread builds it. Searches may run concurrently (each takes its own visited
/// set); `add` and `remove` must not run while another call is in flight. Galleries never
/// mutate an index they search: a write goes to a new one (`merged`).
public final class HNSWIndex: @unchecked Sendable {
    public struct Parameters: Equatable, Sendable {
        /// Neighbours per item on the upper layers (2·M on layer 0).
        public var m: Int
        /// Beam width while inserting.
        public var efConstruction: Int
        /// Beam width while searching (raised to k when smaller).
        public var efSearch: Int
        public var seed: UInt64

        public init(m: Int = 16, efConstruction: Int = 200, efSearch: Int = 64, seed: UInt64 = 1) {
            self.m = m; self.efConstruction = efConstruction; self.efSearch = efSearch; self.seed = seed
        }
    }

    public let dimension: Int
    public let metric: DistanceMetric
    public var parameters: Parameters
    public internal(set) var ids: [Int64] = []
    /// Per item, its vector and then its layer-0 neighbours (`2·M` Int32 slots stored as raw
    /// bits, `-1` past the end), side by side as hnswlib keeps them: the links a search reads
    /// next to a vector it has just scored are usually in cache already.
    var level0: [Float] = []
    var levels: [Int32] = []
    /// Upper-layer neighbours: for item i, `M` slots per layer 1...levels[i] from
    /// `upperStart[i]` on, `-1` past the end.
    var upperLinks: [Int32] = []
    var upperStart: [Int] = []
    var entryPoint = -1
    var topLevel = -1
    var position: [Int64: Int] = [:]
    var removedRows = Set<Int>()
    private var rngState: UInt64
    /// Visited sets for searches and inserts, reused; one per concurrent call.
    private let visitedPool = VisitedPool()
    /// Worker threads for batch inserts (1: one thread, the same graph every time).
    public var buildThreads = Parallel.cores

    var maxLinks0: Int { parameters.m * 2 }
    /// Floats per item in `level0`: the vector, then the layer-0 links.
    var nodeStride: Int { dimension + maxLinks0 }

    /// Every item's vector, row after row (a copy, for saving).
    var vectors: [Float] {
        var out = [Float]()
        out.reserveCapacity(ids.count * dimension)
        for row in 0..<ids.count { out += level0[(row * nodeStride)..<(row * nodeStride + dimension)] }
        return out
    }

    /// Every item's layer-0 link slots, row after row (a copy, for saving and tests).
    var links0: [Int32] {
        level0.withUnsafeBytes { raw in
            (0..<(ids.count * maxLinks0)).map { i in
                raw.load(fromByteOffset: ((i / maxLinks0) * nodeStride + dimension + i % maxLinks0) * 4, as: Int32.self)
            }
        }
    }

    /// Lays out `level0` from saved vectors and link slots (`ids` already set).
    func setLevel0(vectors: [Float], links: [Int32]) {
        level0 = [Float](repeating: 0, count: ids.count * nodeStride)
        level0.withUnsafeMutableBytes { raw in
            for row in 0..<ids.count {
                vectors.withUnsafeBytes { v in
                    raw.baseAddress!.advanced(by: row * nodeStride * 4)
                        .copyMemory(from: v.baseAddress!.advanced(by: row * dimension * 4), byteCount: dimension * 4)
                }
                links.withUnsafeBytes { l in
                    raw.baseAddress!.advanced(by: (row * nodeStride + dimension) * 4)
                        .copyMemory(from: l.baseAddress!.advanced(by: row * maxLinks0 * 4), byteCount: maxLinks0 * 4)
                }
            }
        }
    }

    /// Marks every layer-0 slot of `row` empty (−1).
    private func setNoLinks(_ row: Int) {
        level0.withUnsafeMutableBytes { raw in
            for s in 0..<maxLinks0 { raw.storeBytes(of: Int32(-1), toByteOffset: (row * nodeStride + dimension + s) * 4, as: Int32.self) }
        }
    }

    public init(dimension: Int, metric: DistanceMetric = .innerProduct, parameters: Parameters = Parameters()) {
        precondition(dimension > 0 && parameters.m >= 2, "dimension must be positive and M at least 2")
        self.dimension = dimension
        self.metric = metric
        self.parameters = parameters
        rngState = parameters.seed == 0 ? 0x9E37_79B9_7F4A_7C15 : parameters.seed
    }

    /// Items that can be returned.
    public var count: Int { ids.count - removedRows.count }

    /// Inserts items (ids not live and non-negative; vectors finite). A removed id may come back:
    /// it gets a new row, the old one stays a removed waypoint. Levels are drawn in id order
    /// from the seed; the inserts run on `buildThreads` threads.
    public func add(ids newIDs: [Int64], vectors newVectors: [Float]) throws {
        try validateAdditions(ids: newIDs, vectors: newVectors, dimension: dimension, index: "HNSWIndex.add") { row(of: $0) != nil }
        guard !newIDs.isEmpty else { return }
        let first = ids.count
        level0.reserveCapacity(level0.count + newIDs.count * nodeStride)
        for (i, id) in newIDs.enumerated() {
            let row = ids.count
            ids.append(id)
            position[id] = row
            level0 += newVectors[(i * dimension)..<((i + 1) * dimension)]
            level0 += repeatElement(0, count: maxLinks0)
            setNoLinks(row)
            let level = randomLevel()
            levels.append(Int32(level))
            upperStart.append(upperLinks.count)
            upperLinks += [Int32](repeating: -1, count: level * parameters.m)
        }
        var rows = first..<ids.count
        if entryPoint < 0 {
            entryPoint = first; topLevel = Int(levels[first])
            rows = (first + 1)..<ids.count
        }
        guard !rows.isEmpty else { return }
        let efConstruction = parameters.efConstruction
        let threads = rows.count >= 256 ? max(1, buildThreads) : 1
        let pool = visitedPool
        let entry = GraphEntry(point: entryPoint, level: topLevel)
        withGraph(mutable: true, lockStripes: threads > 1 ? 4096 : 0) { graph in
            let next = RowCounter(rows)
            let work = { (_: Int) in
                let visited = pool.take()
                defer { pool.give(visited) }
                while let row = next.take() { graph.insert(row, entry: entry, ef: efConstruction, visited: visited) }
            }
            if threads > 1 { DispatchQueue.concurrentPerform(iterations: threads, execute: work) } else { work(0) }
        }
        entryPoint = entry.point; topLevel = entry.level
    }

    /// The k best items for each row-major query (ids −1 past the items found). With `allowed`
    /// (one flag per row) only those rows are returned; the beam still walks through the others,
    /// so a restrictive filter costs more graph steps, never fewer results than exist nearby.
    public func search(_ queries: [Float], k: Int, allowed: [Bool]? = nil) throws -> SearchResults {
        var (nq, outIDs, outScores) = try preparedSearch(queries, k: k, allowed: allowed, dimension: dimension, rows: ids.count, metric: metric)
        guard k > 0, entryPoint >= 0 else { return SearchResults(k: k, ids: outIDs, scores: outScores) }
        let removed = removedRows
        let accept: ((Int) -> Bool)? = allowed == nil && removed.isEmpty ? nil : { row in
            (allowed?[row] ?? true) && (removed.isEmpty || !removed.contains(row))
        }
        let visited = visitedPool.take()
        defer { visitedPool.give(visited) }
        let ef = max(parameters.efSearch, k), entry = entryPoint, top = topLevel
        withGraph(mutable: false, lockStripes: 0) { graph in
            queries.withUnsafeBufferPointer { qp in
                for q in 0..<nq {
                    let query = qp.baseAddress! + q * dimension
                    var current = entry
                    var currentDistance = graph.distance(query, current)
                    for level in stride(from: top, to: 0, by: -1) {
                        (current, currentDistance) = graph.greedy(query, from: current, distance: currentDistance, level: level)
                    }
                    let found = graph.searchLayer(query, entry: current, entryDistance: currentDistance, ef: ef, level: 0,
                                                  visited: visited, accept: accept)
                    for (r, hit) in found.prefix(k).enumerated() {
                        outIDs[q * k + r] = ids[hit.row]
                        outScores[q * k + r] = metric == .innerProduct ? -hit.d : hit.d
                    }
                }
            }
        }
        return SearchResults(k: k, ids: outIDs, scores: outScores)
    }

    /// A copy sharing nothing with this index.
    func copy() -> HNSWIndex {
        let c = HNSWIndex(dimension: dimension, metric: metric, parameters: parameters)
        c.ids = ids; c.level0 = level0; c.levels = levels; c.upperLinks = upperLinks; c.upperStart = upperStart
        c.entryPoint = entryPoint; c.topLevel = topLevel; c.position = position; c.removedRows = removedRows
        c.rngState = rngState; c.buildThreads = buildThreads
        return c
    }

    /// The neighbours of `row` on `level` (for tests).
    func links(_ row: Int, level: Int) -> [Int32] {
        var out: [Int32] = []
        withGraph(mutable: false, lockStripes: 0) { graph in graph.forEachLink(of: row, level: level) { out.append(Int32($0)) } }
        return out
    }

    /// Runs `body` on raw views of the graph: one access to each stored array for the whole
    /// call, so worker threads never touch the class's properties.
    /// `mutable` for inserts (the link arrays are written); searches take read access only.
    func withGraph(mutable: Bool, lockStripes: Int, _ body: (HNSWGraph) -> Void) {
        guard !ids.isEmpty else { return }
        let locks = lockStripes > 0 ? LockStripes(count: lockStripes) : nil
        levels.withUnsafeBufferPointer { lv in
        upperStart.withUnsafeBufferPointer { us in
            func run(_ nodes: UnsafeMutablePointer<Float>, _ ul: UnsafeMutablePointer<Int32>?) {
                body(HNSWGraph(dimension: dimension, metric: metric, m: parameters.m, count: ids.count,
                               nodes: nodes, levels: lv.baseAddress!, upperStart: us.baseAddress!,
                               upperLinks: ul ?? Self.noUpperLinks, locks: locks))
            }
            if mutable {
                level0.withUnsafeMutableBufferPointer { l0 in upperLinks.withUnsafeMutableBufferPointer { run(l0.baseAddress!, $0.baseAddress) } }
            } else {
                level0.withUnsafeBufferPointer { l0 in
                    upperLinks.withUnsafeBufferPointer { run(UnsafeMutablePointer(mutating: l0.baseAddress!), $0.baseAddress.map(UnsafeMutablePointer.init(mutating:))) }
                }
            }
        }
        }
    }

    /// Stands in for an empty upper-link array (never read: every item is on layer 0 only).
    private static let noUpperLinks = UnsafeMutablePointer<Int32>.allocate(capacity: 1)

    private func randomLevel() -> Int {
        rngState &+= 0x9E37_79B9_7F4A_7C15
        var z = rngState
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        let u = (Double(z >> 11) + 0.5) / Double(1 << 53)
        return min(Int(-log(u) / log(Double(parameters.m))), 60)
    }
}

/// The next row to insert, handed to one worker at a time.
private final class RowCounter: @unchecked Sendable {
    private var next: Int
    private let end: Int
    private let lock = NSLock()
    init(_ rows: Range<Int>) { next = rows.lowerBound; end = rows.upperBound }
    func take() -> Int? { lock.withLock { guard next < end else { return nil }; defer { next += 1 }; return next } }
}

extension HNSWIndex: VectorIndex, TombstonedRows {
    public var spec: IndexSpec { .hnsw(parameters) }
    public var rowIDs: [Int64] { ids }

    public func vector(of id: Int64) -> ArraySlice<Float>? {
        row(of: id).map { level0[($0 * nodeStride)..<($0 * nodeStride + dimension)] }
    }

    /// A copy with `gone` marked removed and the new items inserted: O(items) to copy, then
    /// O(new · log items) to insert; the graph is not rebuilt.
    public func merged(without gone: Set<Int64>, addingIDs: [Int64], vectors added: [Float]) throws -> any VectorIndex {
        let next = copy()
        for id in gone { next.remove(id) }
        try next.add(ids: addingIDs, vectors: added)
        return next
    }

    /// Vectors, links, ids and levels, and the id → row table.
    public var memoryBytes: Int {
        (level0.count + upperLinks.count) * 4 + ids.count * (8 + 4 + 8 + 32)
    }
}

/// Visit marks for one search: a row is visited in this search when its mark equals the epoch,
/// so starting a search costs nothing until the epoch wraps (every 65,535 searches, when the
/// marks are cleared). Two-byte marks, as hnswlib keeps them, halve the array a search touches
/// at random.
final class VisitedSet {
    var marks: [UInt16] = []
    private var epoch: UInt16 = 0

    /// The epoch of a new search over `count` rows.
    func next(count: Int) -> UInt16 {
        if marks.count < count { marks += [UInt16](repeating: 0, count: count - marks.count) }
        epoch &+= 1
        if epoch == 0 { for i in marks.indices { marks[i] = 0 }; epoch = 1 }
        return epoch
    }
}

/// Visited sets handed to concurrent calls, kept for reuse.
final class VisitedPool: @unchecked Sendable {
    private var free: [VisitedSet] = []
    private let lock = NSLock()

    func take() -> VisitedSet { lock.withLock { free.popLast() } ?? VisitedSet() }
    func give(_ set: VisitedSet) { lock.withLock { free.append(set) } }
}
