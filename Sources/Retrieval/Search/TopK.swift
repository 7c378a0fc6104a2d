/// A bounded selection of the k best (score, id) pairs for one query: higher score first, equal
/// scores by smaller id. Kept as a binary min-heap whose root is the worst kept pair, so a
/// candidate costs one comparison unless it beats the root.
struct TopK {
    let k: Int
    private(set) var scores: UnsafeMutablePointer<Float>
    private(set) var ids: UnsafeMutablePointer<Int64>
    private(set) var count = 0

    /// The root's score, or -inf while fewer than k pairs are held: candidates below it cannot enter.
    var threshold: Float { count < k ? -.infinity : scores[0] }

    /// A heap over caller-owned storage; `count` > 0 resumes one left there earlier.
    init(k: Int, scores: UnsafeMutablePointer<Float>, ids: UnsafeMutablePointer<Int64>, count: Int = 0) {
        self.k = k
        self.count = count
        self.scores = scores
        self.ids = ids
    }

    @inline(__always)
    static func worse(_ s1: Float, _ i1: Int64, than s2: Float, _ i2: Int64) -> Bool {
        s1 < s2 || (s1 == s2 && i1 > i2)
    }

    @inline(__always)
    mutating func offer(_ score: Float, _ id: Int64) {
        if count < k {
            var i = count
            count += 1
            while i > 0 {  // sift up
                let parent = (i - 1) / 2
                guard Self.worse(score, id, than: scores[parent], ids[parent]) else { break }
                scores[i] = scores[parent]; ids[i] = ids[parent]
                i = parent
            }
            scores[i] = score; ids[i] = id
            return
        }
        guard k > 0, Self.worse(scores[0], ids[0], than: score, id) else { return }
        var i = 0
        while true {  // sift the new root down
            let l = 2 * i + 1
            if l >= k { break }
            var c = l
            if l + 1 < k, Self.worse(scores[l + 1], ids[l + 1], than: scores[l], ids[l]) { c = l + 1 }
            guard Self.worse(scores[c], ids[c], than: score, id) else { break }
            scores[i] = scores[c]; ids[i] = ids[c]
            i = c
        }
        scores[i] = score; ids[i] = id
    }

    /// Sorts the kept pairs best first and pads the rest of the k slots with (padScore, -1).
    mutating func finish(padScore: Float) {
        var pairs = (0..<count).map { (scores[$0], ids[$0]) }
        pairs.sort { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
        for (i, p) in pairs.enumerated() { scores[i] = p.0; ids[i] = p.1 }
        for i in count..<k { scores[i] = padScore; ids[i] = -1 }
    }
}
