/// Row-wise iteration over a broadcast result: the innermost dimension is one run; the outer
/// dimensions are walked with an odometer so each run's operand offsets come from strides.
enum Broadcast {
    /// Calls `body(outOffset, aOffset, bOffset, runLength, aStep, bStep)` for each innermost run of `shape`.
    @inline(__always)
    static func forEachRun(shape: [Int], stridesA: [Int], stridesB: [Int],
                           _ body: (Int, Int, Int, Int, Int, Int) -> Void) {
        let rank = shape.count
        if rank == 0 { body(0, 0, 0, 1, 0, 0); return }
        let inner = shape[rank - 1]
        let aStep = stridesA[rank - 1], bStep = stridesB[rank - 1]
        let rows = Shape.count(shape) / max(inner, 1)
        if inner == 0 || rows == 0 { return }
        var index = [Int](repeating: 0, count: rank)
        var aOff = 0, bOff = 0
        for row in 0..<rows {
            body(row * inner, aOff, bOff, inner, aStep, bStep)
            // Advance the odometer over the outer dimensions.
            var d = rank - 2
            while d >= 0 {
                index[d] += 1
                aOff += stridesA[d]; bOff += stridesB[d]
                if index[d] < shape[d] { break }
                aOff -= stridesA[d] * shape[d]; bOff -= stridesB[d] * shape[d]
                index[d] = 0
                d -= 1
            }
        }
    }

    /// Sums `values` (laid out as `from`) down to `shape`, which broadcasts to `from`:
    /// the adjoint of broadcasting, used by every binary op's backward.
    static func reduce(_ values: [Float], from: [Int], to shape: [Int]) -> [Float] {
        if from == shape { return values }
        var out = [Float](repeating: 0, count: Shape.count(shape))
        let target = broadcastStrides(shape, to: from)
        let zero = [Int](repeating: 0, count: from.count)
        out.withUnsafeMutableBufferPointer { o in
            values.withUnsafeBufferPointer { v in
                forEachRun(shape: from, stridesA: target, stridesB: zero) { outOff, aOff, _, n, aStep, _ in
                    if aStep == 0 {
                        var s: Float = 0
                        for i in 0..<n { s += v[outOff + i] }
                        o[aOff] += s
                    } else {
                        for i in 0..<n { o[aOff + i] += v[outOff + i] }
                    }
                }
            }
        }
        return out
    }

    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        Shape.broadcastStrides(shape, to: target)
    }
}
