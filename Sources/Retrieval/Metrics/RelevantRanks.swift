/// Finds where the relevant items of one query land in its full ranking without sorting the row:
/// the relevant scores are sorted (R of them), and every other gallery entry is binary-searched
/// among them — O(N log R) per query, O(N + R) memory.
///
/// Ranking order: higher score first; equal scores by smaller gallery index.
enum RelevantRanks {
    /// 0-based ranks of the relevant items, ascending. `row` is scratch and is modified: the
    /// relevant entries are overwritten. Entries set to -inf rank after every relevant item, so
    /// they never affect a metric (that is how excluded entries are removed).
    static func compute(row: UnsafeMutablePointer<Float>, count n: Int, relevant: [Int],
                        scratch: inout [(Float, Int)], counts: inout [Int]) -> [Int] {
        let r = relevant.count
        guard r > 0 else { return [] }
        scratch.removeAll(keepingCapacity: true)
        for g in relevant { scratch.append((row[g], g)) }
        scratch.sort { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
        for g in relevant { row[g] = -.infinity }
        let lowest = scratch[r - 1].0
        counts.removeAll(keepingCapacity: true)
        counts.append(contentsOf: repeatElement(0, count: r + 1))

        // How many relevant items rank ahead of entry (s, g).
        @inline(__always) func ahead(_ s: Float, _ g: Int) -> Int {
            var lo = 0, hi = r
            while lo < hi {
                let mid = (lo + hi) >> 1
                let (rs, ri) = scratch[mid]
                if rs > s || (rs == s && ri < g) { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }
        var j = 0
        while j + 64 <= n {
            if ScanKernels.maxOf64(row + j) >= lowest {
                for t in j..<(j + 64) where row[t] >= lowest { counts[ahead(row[t], t)] += 1 }
            }
            j += 64
        }
        while j < n {
            if row[j] >= lowest { counts[ahead(row[j], j)] += 1 }
            j += 1
        }
        var ranks = [Int](repeating: 0, count: r)
        var others = 0
        for p in 0..<r {
            others += counts[p]
            ranks[p] = p + others
        }
        return ranks
    }
}
