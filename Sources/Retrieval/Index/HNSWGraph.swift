import CPrefetch
import Foundation

/// Raw views of an `HNSWIndex`'s arrays for the hot loops of search and insertion, valid for
/// one `withGraph` call. During a parallel insert `locks` guards each item's neighbour lists:
/// a list is read (copied) and written under its item's stripe, and no thread holds two stripes.
struct HNSWGraph {
    let dimension: Int
    let metric: DistanceMetric
    let m: Int
    /// Rows, including those still being inserted.
    let count: Int
    /// Per item its vector, then its layer-0 link slots (Int32 bits): `nodeStride` floats.
    let nodes: UnsafeMutablePointer<Float>
    let levels: UnsafePointer<Int32>
    let upperStart: UnsafePointer<Int>
    let upperLinks: UnsafeMutablePointer<Int32>
    let locks: LockStripes?

    var maxLinks0: Int { 2 * m }
    var nodeStride: Int { dimension + 2 * m }

    /// `row`'s list on `level` (Int32 slots, read and written through raw loads and stores:
    /// the layer-0 slots live among the floats) and its capacity.
    @inline(__always)
    private func slots(_ row: Int, level: Int) -> (UnsafeMutableRawPointer, Int) {
        level == 0 ? (UnsafeMutableRawPointer(nodes + row * nodeStride + dimension), maxLinks0)
                   : (UnsafeMutableRawPointer(upperLinks + upperStart[row] + (level - 1) * m), m)
    }

    @inline(__always)
    private func slot(_ list: UnsafeMutableRawPointer, _ s: Int) -> Int32 { list.load(fromByteOffset: s * 4, as: Int32.self) }

    /// Calls `body` with each neighbour of `row` on `level` (none above the row's top level),
    /// from a copy taken under the row's stripe during a parallel insert.
    @inline(__always)
    func forEachLink(of row: Int, level: Int, _ body: (Int) -> Void) {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: maxLinks0) { buffer in
            let count = copyLinks(of: row, level: level, into: buffer.baseAddress!)
            for s in 0..<count { body(Int(buffer[s])) }
        }
    }

    /// Copies the neighbours of `row` on `level` into `buffer` (room for 2·M), under the row's
    /// stripe during a parallel insert, and returns how many there are.
    @inline(__always)
    func copyLinks(of row: Int, level: Int, into buffer: UnsafeMutablePointer<Int32>) -> Int {
        // Every row is on layer 0: no read of its level there (at a million rows it misses cache).
        guard level == 0 || level <= Int(levels[row]) else { return 0 }
        let (list, capacity) = slots(row, level: level)
        locks?.lock(row)
        defer { locks?.unlock(row) }
        var count = 0
        while count < capacity {
            let n = slot(list, count)
            if n < 0 { break }
            buffer[count] = n
            count += 1
        }
        return count
    }

    /// The neighbours of `row` on `level`; the caller holds its stripe during a parallel insert.
    private func linksHeld(_ row: Int, level: Int) -> [Int] {
        let (list, capacity) = slots(row, level: level)
        var out: [Int] = []
        out.reserveCapacity(capacity + 1)
        for s in 0..<capacity where slot(list, s) >= 0 { out.append(Int(slot(list, s))) }
        return out
    }

    private func writeHeld(_ row: Int, level: Int, _ neighbours: [Int]) {
        let (list, capacity) = slots(row, level: level)
        for s in 0..<capacity {
            list.storeBytes(of: s < neighbours.count ? Int32(neighbours[s]) : -1, toByteOffset: s * 4, as: Int32.self)
        }
    }

    // MARK: Search

    /// Greedy walk on one layer to the nearest item reachable from `start`.
    func greedy(_ query: UnsafePointer<Float>, from start: Int, distance startDistance: Float, level: Int) -> (Int, Float) {
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

    /// A beam search of width `ef` on one layer; the result nearest first. With `accept`, only
    /// accepted rows enter the result, and the walk goes on through the others until the
    /// nearest unexplored candidate is farther than the ef-th accepted row (hnswlib's filter).
    func searchLayer(_ query: UnsafePointer<Float>, entry: Int, entryDistance: Float, ef: Int, level: Int,
                     visited: VisitedSet, accept: ((Int) -> Bool)?) -> [(d: Float, row: Int)] {
        let epoch = visited.next(count: count)
        var candidates = NeighbourHeap(nearestFirst: true, capacity: ef * 4)
        return CandidateHeap.with(capacity: ef) { results in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: maxLinks0) { links in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: maxLinks0) { distances in
            visited.marks.withUnsafeMutableBufferPointer { mp in
                let marks = mp.baseAddress!, links = links.baseAddress!, distances = distances.baseAddress!
                marks[entry] = epoch
                candidates.push(entryDistance, entry)
                if accept?(entry) ?? true { results.offer(entryDistance, entry) }
                while let (dist, row) = candidates.pop() {
                    if results.isFull, dist > results.worst { break }
                    // The unvisited neighbours, marked and their vectors asked for first, so their
                    // loads overlap instead of each distance waiting for memory in turn; then all
                    // their distances in one kernel call.
                    var fresh = 0
                    for s in 0..<copyLinks(of: row, level: level, into: links) {
                        let n = Int(links[s])
                        guard marks[n] != epoch else { continue }
                        marks[n] = epoch
                        prefetchVector(n)
                        links[fresh] = links[s]
                        fresh += 1
                    }
                    DistanceKernel.distances(query, base: nodes, stride: nodeStride, rows: links, count: fresh, dimension: dimension,
                                             metric: metric, into: distances)
                    for s in 0..<fresh {
                        let n = Int(links[s]), dn = distances[s]
                        guard !results.isFull || dn < results.worst else { continue }
                        candidates.push(dn, n)
                        // The nearest candidate's links are read next: ask for them now.
                        if level == 0, let next = candidates.top { magpie_prefetch(nodes + next.1 * nodeStride + dimension) }
                        if accept?(n) ?? true { results.offer(dn, n) }
                    }
                }
            }
            }
            }
            return results.items.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }.map { (d: $0.0, row: $0.1) }
        }
    }

    // MARK: Insertion

    /// Links `row` (its vector and level already stored) into the graph. A row that reaches
    /// above the current top level holds the entry lock for its whole insert, so two rows never
    /// both become the entry point.
    func insert(_ row: Int, entry: GraphEntry, ef: Int, visited: VisitedSet) {
        let level = Int(levels[row])
        entry.lock.lock()
        let (start, top) = (entry.point, entry.level)
        let raisesTop = level > top
        if !raisesTop { entry.lock.unlock() }
        defer {
            if raisesTop { entry.point = row; entry.level = level; entry.lock.unlock() }
        }
        let query = UnsafePointer(nodes + row * nodeStride)
        var current = start
        var currentDistance = distance(query, current)
        for l in stride(from: top, to: level, by: -1) {
            (current, currentDistance) = greedy(query, from: current, distance: currentDistance, level: l)
        }
        for l in stride(from: min(level, top), through: 0, by: -1) {
            let candidates = searchLayer(query, entry: current, entryDistance: currentDistance, ef: ef, level: l,
                                         visited: visited, accept: nil)
            let capacity = l == 0 ? maxLinks0 : m
            let chosen = selectNeighbours(candidates.filter { $0.row != row }, count: m)
            locks?.lock(row)
            writeHeld(row, level: l, chosen.map(\.row))
            locks?.unlock(row)
            for neighbour in chosen {
                locks?.lock(neighbour.row)
                var theirs = linksHeld(neighbour.row, level: l)
                if !theirs.contains(row) {
                    if theirs.count < capacity {
                        theirs.append(row)
                    } else {
                        // Full: re-select among their neighbours plus the new item by the heuristic,
                        // without filling up with the pruned ones (as hnswlib does): at a million
                        // items that gave higher recall at the same efSearch and a faster build.
                        for t in theirs { prefetchVector(t) }
                        let all = (theirs + [row]).map { (d: distance(between: neighbour.row, $0), row: $0) }.sorted { $0.d < $1.d }
                        theirs = selectNeighbours(all, count: capacity, fillUp: false).map(\.row)
                    }
                    writeHeld(neighbour.row, level: l, theirs)
                }
                locks?.unlock(neighbour.row)
            }
            if let best = candidates.first { current = best.row; currentDistance = best.d }
        }
    }

    /// The paper's heuristic: walk candidates nearest first and keep one only when it is closer
    /// to the new item than to every one kept so far; with `fillUp`, fill up with the nearest
    /// rejected ones (a new item's own links: at 100,000 items that raised recall at small efSearch).
    func selectNeighbours(_ candidates: [(d: Float, row: Int)], count: Int, fillUp: Bool = true) -> [(d: Float, row: Int)] {
        var kept: [(d: Float, row: Int)] = [], rejected: [(d: Float, row: Int)] = []
        kept.reserveCapacity(count)
        for c in candidates {
            guard kept.count < count else { break }
            if kept.allSatisfy({ distance(between: c.row, $0.row) > c.d }) { kept.append(c) } else { rejected.append(c) }
        }
        if fillUp { for r in rejected where kept.count < count { kept.append(r) } }
        return kept
    }

    // MARK: Distances

    /// Asks for the first 256 bytes of `row`'s vector (the hardware streams the rest once those
    /// arrive; asking for all of it floods the memory queue).
    @inline(__always)
    func prefetchVector(_ row: Int) {
        let node = nodes + row * nodeStride
        for offset in stride(from: 0, to: min(dimension, 64), by: 16) { magpie_prefetch(node + offset) }
    }

    /// Smaller is closer: −⟨q, v⟩ for inner product, ‖q − v‖² for L2.
    @inline(__always)
    func distance(_ query: UnsafePointer<Float>, _ row: Int) -> Float { kernel(query, nodes + row * nodeStride) }

    @inline(__always)
    func distance(between a: Int, _ b: Int) -> Float { kernel(nodes + a * nodeStride, nodes + b * nodeStride) }

    @inline(__always)
    private func kernel(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>) -> Float {
        DistanceKernel.distance(a, b, count: dimension, metric: metric)
    }
}

/// The entry point and top level of a graph being built, shared by the inserting threads.
final class GraphEntry: @unchecked Sendable {
    let lock = NSLock()
    var point: Int
    var level: Int
    init(point: Int, level: Int) { self.point = point; self.level = level }
}

/// Striped locks over rows: row r uses stripe r mod count.
final class LockStripes: @unchecked Sendable {
    private let locks: [NSLock]
    init(count: Int) { locks = (0..<count).map { _ in NSLock() } }
    @inline(__always) func lock(_ row: Int) { locks[row & (locks.count - 1)].lock() }
    @inline(__always) func unlock(_ row: Int) { locks[row & (locks.count - 1)].unlock() }
}
