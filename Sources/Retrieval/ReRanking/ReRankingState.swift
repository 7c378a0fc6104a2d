import Foundation

/// The sparse encodings k-reciprocal re-ranking needs for its final distances: per-item V rows
/// and the inverted index (column → items with a non-zero V there).
public final class ReRankingState: @unchecked Sendable {
    let lambda: Float
    public let n: Int
    public let queryCount: Int
    public let galleryOffset: Int
    let norms: [Float]
    let rowMax: [Float]
    let vRows: [[(Int, Float)]]
    let inverted: [[(Int32, Float)]]

    init(lambda: Float, n: Int, queryCount: Int, galleryOffset: Int, norms: [Float], rowMax: [Float],
         vRows: [[(Int, Float)]], inverted: [[(Int32, Float)]]) {
        self.lambda = lambda
        self.n = n
        self.queryCount = queryCount
        self.galleryOffset = galleryOffset
        self.norms = norms
        self.rowMax = rowMax
        self.vRows = vRows
        self.inverted = inverted
    }

    /// Non-zeros of V (memory is proportional to this).
    public var nonZeros: Int { vRows.reduce(0) { $0 + $1.count } }

    /// Replaces the inner products `similarities[g] = ⟨x_query, x_(galleryOffset+g)⟩` by
    /// −final distance (so higher is still closer).
    public func rescore(query p: Int, similarities row: UnsafeMutableBufferPointer<Float>) {
        var scratch = takeScratch()
        defer { returnScratch(scratch) }
        // shared[x] = Σ_j min(V[p, j], V[x, j]) over the columns where V[p] is non-zero.
        scratch.shared.withUnsafeMutableBufferPointer { shared in
            for (j, vp) in vRows[p] {
                inverted[j].withUnsafeBufferPointer { column in
                    for (x, vx) in column {
                        let i = Int(x)
                        if shared[i] == 0 { scratch.touched.append(x) }
                        shared[i] += min(vp, vx)
                    }
                }
            }
        }
        let scale = lambda / rowMax[p]
        let np = norms[p]
        for g in 0..<row.count {
            let x = galleryOffset + g
            row[g] = -(scale * (np + norms[x] - 2 * row[g]) + (1 - lambda))  // Jaccard 1 where nothing is shared
        }
        for x in scratch.touched {
            let i = Int(x)
            let m = scratch.shared[i]
            scratch.shared[i] = 0
            let g = i - galleryOffset
            guard g >= 0, g < row.count else { continue }
            let jaccard = 1 - m / (2 - m)
            row[g] += (1 - lambda) * (1 - jaccard)
        }
        scratch.touched.removeAll(keepingCapacity: true)
    }

    /// Dense per-thread accumulators (n floats, kept zero between uses) shared through a small pool.
    struct Scratch {
        var shared: [Float]
        var touched: [Int32] = []
    }
    private var pool: [Scratch] = []
    private let poolLock = NSLock()

    private func takeScratch() -> Scratch {
        poolLock.lock()
        defer { poolLock.unlock() }
        return pool.popLast() ?? Scratch(shared: [Float](repeating: 0, count: n))
    }

    private func returnScratch(_ s: Scratch) {
        poolLock.lock()
        pool.append(s)
        poolLock.unlock()
    }
}
