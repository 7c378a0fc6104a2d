// Reductions: sum, mean, max over chosen axes.

extension Tensor {
    /// Sum over `axes` (all axes when nil), keeping reduced dimensions as 1 when `keepDims`.
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let (kept, out) = reducedShapes(axes, keepDims: keepDims)
        let values = Broadcast.reduce(data, from: shape, to: kept)
        let targetStrides = Shape.broadcastStrides(kept, to: shape)
        let inShape = shape
        return Tensor(shape: out, data: values, op: "sum", inputs: [self]) { [self] g in
            // Broadcast the gradient back over the reduced axes.
            self.accumulateGrad(Tensor.strideCopy(g, shape: inShape, sourceStrides: targetStrides))
        }
    }

    /// Mean over `axes` (all axes when nil).
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let (kept, _) = reducedShapes(axes, keepDims: true)
        let n = Swift.max(count / Swift.max(Shape.count(kept), 1), 1)
        return sum(axes: axes, keepDims: keepDims) * (1 / Float(n))
    }

    /// Maximum along one axis; the gradient flows to the first maximal element.
    public func max(axis: Int, keepDims: Bool = false) -> Tensor {
        let (values, indices) = maxWithIndices(axis: axis)
        let a = Shape.axis(axis, rank: rank)
        var outShape = shape
        if keepDims { outShape[a] = 1 } else { outShape.remove(at: a) }
        let n = count
        return Tensor(shape: outShape, data: values, op: "max", inputs: [self]) { [self] g in
            var gx = [Float](repeating: 0, count: n)
            for (k, idx) in indices.enumerated() { gx[idx] += g[k] }
            self.accumulateGrad(gx)
        }
    }

    /// Maximum over all elements.
    public func max() -> Tensor { reshaped([count]).max(axis: 0) }

    /// Index of the maximum along `axis` (first on ties), without gradient.
    public func argmax(axis: Int) -> [Int] {
        let a = Shape.axis(axis, rank: rank)
        let inner = shape[(a + 1)...].reduce(1, *)
        return maxWithIndices(axis: axis).1.map { ($0 / inner) % shape[a] }
    }

    /// Max values and the flat input index of each along `axis`.
    func maxWithIndices(axis: Int) -> ([Float], [Int]) {
        let a = Shape.axis(axis, rank: rank)
        let outer = shape[..<a].reduce(1, *), len = shape[a], inner = shape[(a + 1)...].reduce(1, *)
        precondition(len > 0, "max over an empty axis")
        var values = [Float](repeating: -.infinity, count: outer * inner)
        var indices = [Int](repeating: 0, count: outer * inner)
        data.withUnsafeBufferPointer { x in
            for o in 0..<outer {
                for i in 0..<inner {
                    var best = x[o * len * inner + i], bestIndex = o * len * inner + i
                    for k in 1..<len {
                        let idx = (o * len + k) * inner + i
                        if x[idx] > best || (best.isNaN == false && x[idx].isNaN) { best = x[idx]; bestIndex = idx }
                    }
                    values[o * inner + i] = best
                    indices[o * inner + i] = bestIndex
                }
            }
        }
        return (values, indices)
    }

    /// (shape with reduced axes set to 1, output shape honouring keepDims).
    func reducedShapes(_ axes: [Int]?, keepDims: Bool) -> ([Int], [Int]) {
        let set = Set((axes ?? Array(0..<rank)).map { Shape.axis($0, rank: rank) })
        let kept = shape.enumerated().map { set.contains($0.offset) ? 1 : $0.element }
        let out = keepDims ? kept : shape.enumerated().filter { !set.contains($0.offset) }.map(\.element)
        return (kept, out)
    }
}
