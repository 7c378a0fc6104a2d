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
/// Searches may run concurrently (each takes its own visited set); `add` and `remove` must not
/// run while another call is in flight. Galleries never mutate an index they search: a write
/// goes to a new one (`merged`).
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
    var vectors: [Float] = []
    var levels: [Int] = []
    /// Layer-0 neighbours: `maxLinks0` slots per item, `-1` past the end.
    var links0: [Int32] = []
    /// Upper-layer neighbours per item, `upper[i][l - 1]` for layer l ≥ 1.
    var upper: [[[Int32]]] = []
    var entryPoint = -1
    var topLevel = -1
    var position: [Int64: Int] = [:]
    var removedRows = Set<Int>()
    private var rngState: UInt64
    /// Visited sets for searches and inserts, reused; one per concurrent call.
    private let visitedPool = VisitedPool()

    private var maxLinks0: Int { parameters.m * 2 }

    public init(dimension: Int, metric: DistanceMetric = .innerProduct, parameters: Parameters = Parameters()) {
        precondition(dimension > 0 && parameters.m >= 2, "dimension must be positive and M at least 2")
        self.dimension = dimension
        self.metric = metric
        self.parameters = parameters
        rngState = parameters.seed == 0 ? 0x9E37_79B9_7F4A_7C15 : parameters.seed
    }

    /// Items that can be returned.
    public var count: Int { ids.count - removedRows.count }

    /// Inserts items one by one (ids not live and non-negative; vectors finite). A removed id may
    /// come back: it gets a new row, the old one stays a removed waypoint.
    public func add(ids newIDs: [Int64], vectors newVectors: [Float]) throws {
        try validateAdditions(ids: newIDs, vectors: newVectors, dimension: dimension, index: "HNSWIndex.add") { row(of: $0) != nil }
        vectors.reserveCapacity(vectors.count + newVectors.count)
        for (i, id) in newIDs.enumerated() {
            vectors += newVectors[(i * dimension)..<((i + 1) * dimension)]
            insert(id)
        }
    }

    /// Marks `id` removed: it is never returned again. False when it was not there.
    @discardableResult
    public func remove(_ id: Int64) -> Bool {
        guard let row = position[id], !removedRows.contains(row) else { return false }
        removedRows.insert(row)
        return true
    }

    /// The k best items for each row-major query (ids −1 past the items found). With `allowed`
    /// (one flag per row) only those rows are returned; the beam still walks through the others,
    /// so a restrictive filter costs more graph steps, never fewer results than exist nearby.
    public func search(_ queries: [Float], k: Int, allowed: [Bool]? = nil) throws -> SearchResults {
        guard k >= 0, queries.count % dimension == 0 else {
            throw RetrievalError.invalidArgument("queries must be a multiple of the dimension \(dimension) and k non-negative")
        }
        if let allowed, allowed.count != ids.count {
            throw RetrievalError.invalidArgument("the filter has \(allowed.count) flags for \(ids.count) rows")
        }
        let nq = queries.count / dimension
        var outIDs = [Int64](repeating: -1, count: nq * k)
        var outScores = [Float](repeating: metric == .innerProduct ? -.infinity : .infinity, count: nq * k)
        guard k > 0, entryPoint >= 0 else { return SearchResults(k: k, ids: outIDs, scores: outScores) }
        let removed = removedRows
        let accept: ((Int) -> Bool)? = allowed == nil && removed.isEmpty ? nil : { row in
            (allowed?[row] ?? true) && (removed.isEmpty || !removed.contains(row))
        }
        let visited = visitedPool.take(count: ids.count)
        defer { visitedPool.give(visited) }
        for q in 0..<nq {
            let query = Array(queries[(q * dimension)..<((q + 1) * dimension)])
            var current = entryPoint
            var currentDistance = distance(query, current)
            if topLevel > 0 {
                for level in stride(from: topLevel, to: 0, by: -1) {
                    (current, currentDistance) = greedy(query, from: current, distance: currentDistance, level: level)
                }
            }
            let found = searchLayer(query, entry: current, entryDistance: currentDistance, ef: max(parameters.efSearch, k), level: 0,
                                    visited: visited, accept: accept)
            for (r, hit) in found.prefix(k).enumerated() {
                outIDs[q * k + r] = ids[hit.row]
                outScores[q * k + r] = metric == .innerProduct ? -hit.d : hit.d
            }
        }
        return SearchResults(k: k, ids: outIDs, scores: outScores)
    }

    /// A copy sharing nothing with this index.
    func copy() -> HNSWIndex {
        let c = HNSWIndex(dimension: dimension, metric: metric, parameters: parameters)
        c.ids = ids; c.vectors = vectors; c.levels = levels; c.links0 = links0; c.upper = upper
        c.entryPoint = entryPoint; c.topLevel = topLevel; c.position = position; c.removedRows = removedRows
        c.rngState = rngState
        return c
    }

    // MARK: Graph construction

    private func insert(_ id: Int64) {
        let row = ids.count
        ids.append(id)
        position[id] = row
        let level = randomLevel()
        levels.append(level)
        links0 += [Int32](repeating: -1, count: maxLinks0)
        upper.append([[Int32]](repeating: [], count: level))
        guard entryPoint >= 0 else {
            entryPoint = row; topLevel = level
            return
        }
        let query = Array(vectors[(row * dimension)..<((row + 1) * dimension)])
        var current = entryPoint
        var currentDistance = distance(query, current)
        if topLevel > level {
            for l in stride(from: topLevel, to: level, by: -1) {
                (current, currentDistance) = greedy(query, from: current, distance: currentDistance, level: l)
            }
        }
        let visited = visitedPool.take(count: ids.count)
        defer { visitedPool.give(visited) }
        for l in stride(from: min(level, topLevel), through: 0, by: -1) {
            let candidates = searchLayer(query, entry: current, entryDistance: currentDistance, ef: parameters.efConstruction, level: l,
                                         visited: visited, accept: nil)
            let capacity = l == 0 ? maxLinks0 : parameters.m
            let chosen = selectNeighbours(candidates, count: parameters.m)
            setLinks(row, level: l, to: chosen.map(\.row))
            for neighbour in chosen {
                var theirs = links(neighbour.row, level: l)
                if theirs.count < capacity {
                    theirs.append(row)
                } else {
                    // Full: keep the best `capacity` of their neighbours plus the new item.
                    let all = (theirs + [row]).map { (distance(between: neighbour.row, $0), $0) }.sorted { $0.0 < $1.0 }
                    theirs = selectNeighbours(all.map { (d: $0.0, row: $0.1) }, count: capacity).map(\.row)
                }
                setLinks(neighbour.row, level: l, to: theirs)
            }
            if let best = candidates.first { current = best.row; currentDistance = best.d }
        }
        if level > topLevel { entryPoint = row; topLevel = level }
    }

    /// The paper's heuristic: walk candidates nearest first and keep one only when it is closer
    /// to the new item than to every one kept so far; fill up with the nearest rejected ones.
    private func selectNeighbours(_ candidates: [(d: Float, row: Int)], count: Int) -> [(d: Float, row: Int)] {
        var kept: [(d: Float, row: Int)] = [], rejected: [(d: Float, row: Int)] = []
        for c in candidates {
            guard kept.count < count else { break }
            if kept.allSatisfy({ distance(between: c.row, $0.row) > c.d }) { kept.append(c) } else { rejected.append(c) }
        }
        for r in rejected where kept.count < count { kept.append(r) }
        return kept
    }

    private func randomLevel() -> Int {
        rngState &+= 0x9E37_79B9_7F4A_7C15
        var z = rngState
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        let u = (Double(z >> 11) + 0.5) / Double(1 << 53)
        return Int(-log(u) / log(Double(parameters.m)))
    }

    // MARK: Search primitives

    /// Greedy walk on one layer to the nearest item reachable from `start`.
    private func greedy(_ query: [Float], from start: Int, distance startDistance: Float, level: Int) -> (Int, Float) {
        var current = start, best = startDistance
        var improved = true
        while improved {
            improved = false
            forEachLink(of: current, level: level) { n in
                let d = distance(query, n)
                if d < best { best = d; current = n; improved = true }
            }
        }
        return (current, best)
    }

    /// Calls `body` with each neighbour of `row` on `level`, without building an array.
    @inline(__always)
    private func forEachLink(of row: Int, level: Int, _ body: (Int) -> Void) {
        if level == 0 {
            let start = row * maxLinks0
            for s in start..<(start + maxLinks0) {
                let n = links0[s]
                if n < 0 { return }
                body(Int(n))
            }
        } else if level <= levels[row] {
            for n in upper[row][level - 1] { body(Int(n)) }
        }
    }

    /// A beam search of width `ef` on one layer; the result nearest first. With `accept`, only
    /// accepted rows enter the result, and the walk goes on through the others until the
    /// nearest unexplored candidate is farther than the ef-th accepted row (hnswlib's filter).
    private func searchLayer(_ query: [Float], entry: Int, entryDistance: Float, ef: Int, level: Int,
                             visited: VisitedSet, accept: ((Int) -> Bool)?) -> [(d: Float, row: Int)] {
        let epoch = visited.next(count: ids.count)
        visited.marks[entry] = epoch
        var candidates = NeighbourHeap(nearestFirst: true, capacity: ef * 4)
        var results = NeighbourHeap(nearestFirst: false, capacity: ef + 1)
        candidates.push(entryDistance, entry)
        if accept?(entry) ?? true { results.push(entryDistance, entry) }
        let width = maxLinks0, d = dimension
        // Raw pointers for the hot loop: class properties would be checked for exclusive access
        // on every read.
        query.withUnsafeBufferPointer { qp in
        vectors.withUnsafeBufferPointer { vp in
        links0.withUnsafeBufferPointer { lp in
        visited.marks.withUnsafeMutableBufferPointer { mp in
            let q = qp.baseAddress!, v = vp.baseAddress!, marks = mp.baseAddress!
            while let (dist, row) = candidates.pop() {
                if results.count >= ef, dist > results.top!.0 { break }
                func visit(_ n: Int) {
                    guard marks[n] != epoch else { return }
                    marks[n] = epoch
                    let dn = kernel(q, v + n * d)
                    if results.count < ef || dn < results.top!.0 {
                        candidates.push(dn, n)
                        guard accept?(n) ?? true else { return }
                        results.push(dn, n)
                        if results.count > ef { _ = results.pop() }
                    }
                }
                if level == 0 {
                    let links = lp.baseAddress! + row * width
                    for s in 0..<width {
                        let n = links[s]
                        if n < 0 { break }
                        visit(Int(n))
                    }
                } else if level <= levels[row] {
                    for n in upper[row][level - 1] { visit(Int(n)) }
                }
            }
        }
        }
        }
        }
        return results.items.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : ids[$0.1] < ids[$1.1] }.map { (d: $0.0, row: $0.1) }
    }

    private func links(_ row: Int, level: Int) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(level == 0 ? maxLinks0 : parameters.m)
        forEachLink(of: row, level: level) { out.append($0) }
        return out
    }

    private func setLinks(_ row: Int, level: Int, to neighbours: [Int]) {
        if level == 0 {
            for s in 0..<maxLinks0 { links0[row * maxLinks0 + s] = s < neighbours.count ? Int32(neighbours[s]) : -1 }
        } else {
            upper[row][level - 1] = neighbours.map(Int32.init)
        }
    }

    /// Smaller is closer: −⟨q, v⟩ for inner product, ‖q − v‖² for L2.
    @inline(__always)
    private func distance(_ query: [Float], _ row: Int) -> Float {
        query.withUnsafeBufferPointer { q in vectors.withUnsafeBufferPointer { v in kernel(q.baseAddress!, v.baseAddress! + row * dimension) } }
    }

    @inline(__always)
    private func distance(between a: Int, _ b: Int) -> Float {
        vectors.withUnsafeBufferPointer { v in kernel(v.baseAddress! + a * dimension, v.baseAddress! + b * dimension) }
    }

    @inline(__always)
    private func kernel(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>) -> Float {
        var acc = SIMD8<Float>(repeating: 0)
        var j = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        if metric == .innerProduct {
            while j + 8 <= dimension {
                acc += ra.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
                j += 8
            }
            var s = acc.sum()
            while j < dimension { s += a[j] * b[j]; j += 1 }
            return -s
        }
        while j + 8 <= dimension {
            let diff = ra.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self) - rb.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
            acc += diff * diff
            j += 8
        }
        var s = acc.sum()
        while j < dimension { let t = a[j] - b[j]; s += t * t; j += 1 }
        return s
    }
}

extension HNSWIndex: VectorIndex {
    public var spec: IndexSpec { .hnsw(parameters) }
    public var rowIDs: [Int64] { ids }

    public func row(of id: Int64) -> Int? {
        guard let row = position[id], !removedRows.contains(row) else { return nil }
        return row
    }

    public func vector(of id: Int64) -> ArraySlice<Float>? {
        row(of: id).map { vectors[($0 * dimension)..<(($0 + 1) * dimension)] }
    }

    /// A copy with `gone` marked removed and the new items inserted: O(items) to copy, then
    /// O(new · log items) to insert; the graph is not rebuilt.
    public func merged(without gone: Set<Int64>, addingIDs: [Int64], vectors added: [Float]) throws -> any VectorIndex {
        let next = copy()
        for id in gone { next.remove(id) }
        try next.add(ids: addingIDs, vectors: added)
        return next
    }

    public var memoryBytes: Int {
        vectors.count * 4 + links0.count * 4 + ids.count * (8 + 8 + 32) + upper.reduce(0) { $0 + $1.reduce(0) { $0 + $1.count * 4 + 32 } }
    }
}

/// Visit marks for one search: a row is visited in this search when its mark equals the epoch,
/// so starting a search costs nothing until the epoch wraps.
final class VisitedSet {
    var marks: [UInt32] = []
    private var epoch: UInt32 = 0

    /// The epoch of a new search over `count` rows.
    func next(count: Int) -> UInt32 {
        if marks.count < count { marks += [UInt32](repeating: 0, count: count - marks.count) }
        epoch &+= 1
        if epoch == 0 { for i in marks.indices { marks[i] = 0 }; epoch = 1 }
        return epoch
    }
}

/// Visited sets handed to concurrent calls, kept for reuse.
final class VisitedPool: @unchecked Sendable {
    private var free: [VisitedSet] = []
    private let lock = NSLock()

    func take(count: Int) -> VisitedSet { lock.withLock { free.popLast() } ?? VisitedSet() }
    func give(_ set: VisitedSet) { lock.withLock { free.append(set) } }
}
