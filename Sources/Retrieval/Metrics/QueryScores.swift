/// Per-query metric values computed from the 0-based ranks of its R relevant items.
struct QueryScores {
    /// Rank of the best relevant item (recall@k hit ⇔ firstRank < k); -1 when R = 0.
    var firstRank = -1
    var averagePrecision = 0.0
    var mapAtR = 0.0
    var rPrecision = 0.0
    var valid: Bool { firstRank >= 0 }

    init() {}

    init(ranks: [Int]) {
        let r = ranks.count
        guard r > 0 else { return }
        firstRank = ranks[0]
        var ap = 0.0, apR = 0.0, inR = 0
        for (p, rank) in ranks.enumerated() {
            let precision = Double(p + 1) / Double(rank + 1)
            ap += precision
            if rank < r { apR += precision; inR += 1 }
        }
        averagePrecision = ap / Double(r)
        mapAtR = apR / Double(r)
        rPrecision = Double(inR) / Double(r)
    }
}
