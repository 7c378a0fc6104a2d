import Foundation
import TensorCore

/// k-reciprocal re-ranking (Zhong et al., CVPR 2017) on sparse k-nearest-neighbour lists.
///
/// The items are X = [queries; gallery] (separate sets, as the reference concatenates them) or
/// X = gallery (query = gallery, treated as one set). With D the squared Euclidean distance
/// and each row of D divided by its maximum:
/// R(p, k) = {f in the k+1 nearest of p : p in the k+1 nearest of f}; R*(p) = R(p, k1) expanded by
/// every R(q, round(k1/2)) (q in R(p, k1)) that shares more than 2/3 of its items with R(p, k1);
/// V[p, j] = exp(−D[p, j]) / Σ over R*(p); V[i] ← mean of V over the k2 nearest of i;
/// Jaccard J(p, g) = 1 − Σ min(V[p], V[g]) / (2 − Σ min(V[p], V[g]));
/// final = (1 − λ)·J + λ·D. Memory is O(N · (k1 + |R*|)): nothing N × N is stored.
public struct KReciprocalReRanker: Sendable {
    public var k1: Int
    public var k2: Int
    public var lambda: Float

    public init(k1: Int = 20, k2: Int = 6, lambda: Float = 0.3) {
        self.k1 = k1
        self.k2 = k2
        self.lambda = lambda
    }

    /// Prepares re-ranking for all rows of `items` (row-major, `dimension` columns); queries are
    /// rows `0..<queryCount`, gallery columns start at row `galleryOffset`.
    public func prepare(items: [Float], dimension d: Int, queryCount: Int, galleryOffset: Int) throws -> ReRankingState {
        guard k1 >= 1, k2 >= 1, lambda >= 0, lambda <= 1 else {
            throw RetrievalError.invalidArgument("re-ranking needs k1 ≥ 1, k2 ≥ 1 and 0 ≤ λ ≤ 1 (got k1 \(k1), k2 \(k2), λ \(lambda))")
        }
        let n = items.count / d
        guard n > 0, items.count == n * d else { throw RetrievalError.invalidArgument("re-ranking needs a non-empty n × d matrix") }
        let kNN = min(k1 + 1, n)

        // Nearest lists by distance (ties by index) and each row's largest distance, in one scan.
        var neighbours = [Int64](repeating: -1, count: n * kNN)
        var nearScores = [Float](repeating: 0, count: n * kNN)
        var lowest = [Float](repeating: .infinity, count: n)
        var held = [Int](repeating: 0, count: n)
        let norms: [Float] = (0..<n).map { i in (0..<d).reduce(Float(0)) { $0 + items[i * d + $1] * items[i * d + $1] } }
        let ids = (0..<n).map(Int64.init)
        items.withUnsafeBufferPointer { xp in
            neighbours.withUnsafeMutableBufferPointer { nb in
                nearScores.withUnsafeMutableBufferPointer { ns in
                    lowest.withUnsafeMutableBufferPointer { lo in
                        held.withUnsafeMutableBufferPointer { hd in
                            ids.withUnsafeBufferPointer { idp in
                                let scan = ScoreScan(gallery: xp.baseAddress!, count: n, dimension: d, metric: .l2)
                                let nbBase = nb.baseAddress!, nsBase = ns.baseAddress!, loBase = lo.baseAddress!, hdBase = hd.baseAddress!
                                scan.run(queries: xp.baseAddress!, count: n) { qr, gr, tile in
                                    let width = gr.count
                                    for q in qr {
                                        let row = tile + (q - qr.lowerBound) * width
                                        var m = loBase[q]
                                        for j in 0..<width where row[j] < m { m = row[j] }
                                        loBase[q] = m
                                        var heap = TopK(k: kNN, scores: nsBase + q * kNN, ids: nbBase + q * kNN,
                                                        count: gr.lowerBound == 0 ? 0 : hdBase[q])
                                        FlatIndex.scanRow(row, count: width, firstColumn: gr.lowerBound, ids: idp.baseAddress!,
                                                          excluded: -1, heap: &heap)
                                        hdBase[q] = heap.count
                                        if gr.upperBound == n { heap.finish(padScore: -.infinity) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        // Scan scores are ‖x_i‖² − D: the largest D comes from the lowest score.
        let rowMax: [Float] = (0..<n).map { i in max(norms[i] - lowest[i], .leastNormalMagnitude) }
        let rank: [[Int]] = (0..<n).map { i in (0..<kNN).map { Int(neighbours[i * kNN + $0]) } }

        func distance(_ i: Int, _ j: Int) -> Float {
            var s: Float = 0
            for t in 0..<d { s += items[i * d + t] * items[j * d + t] }
            return (norms[i] + norms[j] - 2 * s) / rowMax[i]
        }
        func reciprocal(_ p: Int, _ k: Int) -> [Int] {
            let width = min(k + 1, kNN)
            return rank[p].prefix(width).filter { f in rank[f].prefix(width).contains(p) }
        }

        // Sparse V rows.
        let half = Int((Double(k1) / 2).rounded(.toNearestOrEven))
        var vRows = [[(Int, Float)]](repeating: [], count: n)
        DispatchQueue.concurrentPerform(iterations: Parallel.cores) { w in
            var local: [(Int, [(Int, Float)])] = []
            var i = n * w / Parallel.cores
            let end = n * (w + 1) / Parallel.cores
            while i < end {
                let base = reciprocal(i, k1)
                var expansion = Set(base)
                let baseSet = Set(base)
                for q in base {
                    let candidate = reciprocal(q, half)
                    let shared = candidate.reduce(0) { $0 + (baseSet.contains($1) ? 1 : 0) }
                    if Double(shared) > 2.0 / 3.0 * Double(candidate.count) { expansion.formUnion(candidate) }
                }
                let members = expansion.sorted()
                let weights = members.map { Double(exp(-distance(i, $0))) }
                let total = weights.reduce(0, +)
                local.append((i, zip(members, weights).map { ($0, Float($1 / total)) }))
                i += 1
            }
            vLock.lock()
            for (i, row) in local { vRows[i] = row }
            vLock.unlock()
        }

        // Local query expansion: mean of V over the k2 nearest (including the item itself).
        if k2 > 1 {
            let expanded: [[(Int, Float)]] = (0..<n).map { i in
                let near = rank[i].prefix(min(k2, kNN))
                var sum: [Int: Double] = [:]
                for t in near { for (j, v) in vRows[t] { sum[j, default: 0] += Double(v) } }
                return sum.keys.sorted().map { ($0, Float(sum[$0]! / Double(near.count))) }
            }
            vRows = expanded
        }

        var inverted = [[(Int32, Float)]](repeating: [], count: n)
        for (i, row) in vRows.enumerated() { for (j, v) in row where v != 0 { inverted[j].append((Int32(i), v)) } }
        return ReRankingState(lambda: lambda, n: n, queryCount: queryCount, galleryOffset: galleryOffset,
                              norms: norms, rowMax: rowMax, vRows: vRows, inverted: inverted)
    }

    /// Dense re-ranked distances `queries.count/d × gallery.count/d` for small sets (tests, `query`):
    /// the reference's output for separate sets.
    public func distances(queries: [Float], gallery: [Float], dimension d: Int) throws -> [Float] {
        let nq = queries.count / d, ng = gallery.count / d
        let state = try prepare(items: queries + gallery, dimension: d, queryCount: nq, galleryOffset: nq)
        var out = [Float](repeating: 0, count: nq * ng)
        for q in 0..<nq {
            var row = (0..<ng).map { g in (0..<d).reduce(Float(0)) { $0 + queries[q * d + $1] * gallery[g * d + $1] } }
            row.withUnsafeMutableBufferPointer { state.rescore(query: q, similarities: $0) }
            for g in 0..<ng { out[q * ng + g] = -row[g] }
        }
        return out
    }
}

private let vLock = NSLock()
