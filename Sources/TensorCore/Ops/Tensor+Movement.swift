// Shape and layout ops: reshape, permute, concat, split, slice, gather.

extension Tensor {
    /// Same elements, new shape (one dimension may be -1). Shares storage copy-on-write.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let hole = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != hole }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && count % known == 0, "cannot reshape \(Shape.describe(shape)) to \(Shape.describe(newShape))")
            resolved[hole] = count / known
        }
        precondition(Shape.count(resolved) == count, "cannot reshape \(Shape.describe(shape)) to \(Shape.describe(newShape))")
        return Tensor(shape: resolved, data: data, op: "reshape", inputs: [self]) { [self] g in self.accumulateGrad(g) }
            .traced(.reshape(shape: resolved), [self])
    }

    /// Collapses dimensions `startAxis...` into one (torch.flatten(x, 1) for `startAxis: 1`).
    public func flattened(startAxis: Int = 1) -> Tensor {
        let a = Shape.axis(startAxis, rank: rank)
        return reshaped(Array(shape[..<a]) + [shape[a...].reduce(1, *)]).traced(.flatten(startAxis: a), [self])
    }

    /// Reorders dimensions: output dimension i is input dimension `order[i]`.
    public func permuted(_ order: [Int]) -> Tensor {
        precondition(order.sorted() == Array(0..<rank), "permutation \(order) does not fit rank \(rank)")
        let outShape = order.map { shape[$0] }
        let inStrides = strides
        let gatherStrides = order.map { inStrides[$0] }
        let out = Tensor.strideCopy(data, shape: outShape, sourceStrides: gatherStrides)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, o) in order.enumerated() { inverse[o] = i }
        return Tensor(shape: outShape, data: out, op: "permute", inputs: [self]) { [self] g in
            let back = inverse.map { Shape.strides(outShape)[$0] }
            self.accumulateGrad(Tensor.strideCopy(g, shape: self.shape, sourceStrides: back))
        }
    }

    /// Swaps two dimensions.
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        var order = Array(0..<rank)
        order.swapAt(Shape.axis(a, rank: rank), Shape.axis(b, rank: rank))
        return permuted(order)
    }

    /// Gathers `source` read with `sourceStrides` into a contiguous array of `shape`.
    static func strideCopy(_ source: [Float], shape: [Int], sourceStrides: [Int]) -> [Float] {
        var out = [Float](repeating: 0, count: Shape.count(shape))
        let zero = [Int](repeating: 0, count: shape.count)
        out.withUnsafeMutableBufferPointer { o in
            source.withUnsafeBufferPointer { s in
                Broadcast.forEachRun(shape: shape, stridesA: sourceStrides, stridesB: zero) { oo, so, _, n, step, _ in
                    if step == 1 {
                        for i in 0..<n { o[oo + i] = s[so + i] }
                    } else {
                        for i in 0..<n { o[oo + i] = s[so + i * step] }
                    }
                }
            }
        }
        return out
    }

    /// Elements `range` along `axis` (torch.narrow / slicing).
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let a = Shape.axis(axis, rank: rank)
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[a], "slice \(range) out of bounds for axis \(a) of size \(shape[a])")
        let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *), len = shape[a]
        var outShape = shape
        outShape[a] = range.count
        let run = range.count * inner
        var out = [Float](repeating: 0, count: outer * run)
        data.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<outer {
                    let src = i * len * inner + range.lowerBound * inner
                    for j in 0..<run { o[i * run + j] = x[src + j] }
                }
            }
        }
        let n = count
        return Tensor(shape: outShape, data: out, op: "slice", inputs: [self]) { [self] g in
            var gx = [Float](repeating: 0, count: n)
            for i in 0..<outer {
                let dst = i * len * inner + range.lowerBound * inner
                for j in 0..<run { gx[dst + j] = g[i * run + j] }
            }
            self.accumulateGrad(gx)
        }
    }

    /// Splits into consecutive pieces of the given sizes along `axis`.
    public func split(_ sizes: [Int], axis: Int = 0) -> [Tensor] {
        let a = Shape.axis(axis, rank: rank)
        precondition(sizes.reduce(0, +) == shape[a], "split sizes \(sizes) do not add up to \(shape[a])")
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return slice(axis: a, start..<(start + size))
        }
    }

    /// Rows `indices` along `axis`, in that order (torch.index_select); repeated indices accumulate in backward.
    public func gather(_ indices: [Int], axis: Int = 0) -> Tensor {
        let a = Shape.axis(axis, rank: rank)
        let outer = shape[..<a].reduce(1, *), len = shape[a], inner = shape[(a + 1)...].reduce(1, *)
        for i in indices { precondition(i >= 0 && i < len, "gather index \(i) out of range 0..<\(len)") }
        var outShape = shape
        outShape[a] = indices.count
        var out = [Float](repeating: 0, count: outer * indices.count * inner)
        data.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<outer {
                    for (k, idx) in indices.enumerated() {
                        let src = (i * len + idx) * inner, dst = (i * indices.count + k) * inner
                        for j in 0..<inner { o[dst + j] = x[src + j] }
                    }
                }
            }
        }
        let n = count
        return Tensor(shape: outShape, data: out, op: "gather", inputs: [self]) { [self] g in
            var gx = [Float](repeating: 0, count: n)
            for i in 0..<outer {
                for (k, idx) in indices.enumerated() {
                    let dst = (i * len + idx) * inner, src = (i * indices.count + k) * inner
                    for j in 0..<inner { gx[dst + j] += g[src + j] }
                }
            }
            self.accumulateGrad(gx)
        }
    }

    /// Picks one element per position along `axis` (torch.gather with an index of size 1 on
    /// that axis): out[…, 0, …] = x[…, indices[k], …] for the k-th slice. Used for per-row picks.
    public func takeAlong(axis: Int, indices: [Int]) -> Tensor {
        let a = Shape.axis(axis, rank: rank)
        let outer = shape[..<a].reduce(1, *), len = shape[a], inner = shape[(a + 1)...].reduce(1, *)
        precondition(indices.count == outer * inner, "takeAlong needs \(outer * inner) indices, got \(indices.count)")
        var flat = [Int](repeating: 0, count: indices.count)
        for o in 0..<outer {
            for i in 0..<inner {
                let k = indices[o * inner + i]
                precondition(k >= 0 && k < len, "takeAlong index \(k) out of range 0..<\(len)")
                flat[o * inner + i] = (o * len + k) * inner + i
            }
        }
        var outShape = shape
        outShape[a] = 1
        let values = flat.map { data[$0] }
        let n = count
        return Tensor(shape: outShape, data: values, op: "take_along", inputs: [self]) { [self] g in
            var gx = [Float](repeating: 0, count: n)
            for (k, idx) in flat.enumerated() { gx[idx] += g[k] }
            self.accumulateGrad(gx)
        }
    }
}

/// Joins tensors along `axis`; all other dimensions must match.
public func concat(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
    precondition(!tensors.isEmpty, "concat of no tensors")
    let first = tensors[0]
    let a = Shape.axis(axis, rank: first.rank)
    for t in tensors {
        var s1 = t.shape, s0 = first.shape
        precondition(s1.count == s0.count, "concat rank mismatch")
        s1[a] = 0; s0[a] = 0
        precondition(s1 == s0, "concat: \(Shape.describe(t.shape)) does not match \(Shape.describe(first.shape)) off axis \(a)")
    }
    let outer = first.shape[..<a].reduce(1, *), inner = first.shape[(a + 1)...].reduce(1, *)
    let total = tensors.reduce(0) { $0 + $1.shape[a] }
    var outShape = first.shape
    outShape[a] = total
    var out = [Float](repeating: 0, count: outer * total * inner)
    var offset = 0
    for t in tensors {
        let run = t.shape[a] * inner
        t.data.withUnsafeBufferPointer { x in
            for i in 0..<outer {
                let dst = i * total * inner + offset * inner
                for j in 0..<run { out[dst + j] = x[i * run + j] }
            }
        }
        offset += t.shape[a]
    }
    return Tensor(shape: outShape, data: out, op: "concat", inputs: tensors) { g in
        var offset = 0
        for t in tensors {
            let run = t.shape[a] * inner
            if t.requiresGrad {
                var gt = [Float](repeating: 0, count: t.count)
                for i in 0..<outer {
                    let src = i * total * inner + offset * inner
                    for j in 0..<run { gt[i * run + j] = g[src + j] }
                }
                t.accumulateGrad(gt)
            }
            offset += t.shape[a]
        }
    }
}
