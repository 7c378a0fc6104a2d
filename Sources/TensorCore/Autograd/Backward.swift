extension Tensor {
    /// Reverse-mode pass from this tensor. A scalar is seeded with 1; otherwise pass `seed`
    /// (the gradient of some scalar with respect to this tensor). Leaf gradients accumulate
    /// across calls until `zeroGrad()`; the tape below this tensor is released afterwards,
    /// as PyTorch does without `retain_graph`.
    public func backward(seed: [Float]? = nil) {
        precondition(seed != nil || count == 1,
                     "backward() without a seed needs a one-element tensor, shape is \(Shape.describe(shape))")
        precondition(requiresGrad, "backward() on a tensor that does not require grad")
        if let seed { precondition(seed.count == count, "seed has \(seed.count) elements, tensor has \(count)") }
        let order = topologicalOrder()
        accumulateGrad(seed ?? [1])  // row-major, converted to this tensor's gradient layout
        for t in order.reversed() {
            guard let node = t.node else { continue }
            t.node = nil
            guard let g = t.gradStorage else { continue }
            if !t.retainsGrad { t.gradStorage = nil }
            node.backward(g)
        }
    }

    /// Tensors reachable through recorded nodes, each after its inputs (iterative DFS: deep
    /// networks would overflow a recursive one).
    func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var seen = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (t, expanded) = stack.popLast() {
            if expanded { order.append(t); continue }
            guard seen.insert(ObjectIdentifier(t)).inserted else { continue }
            stack.append((t, true))
            if let node = t.node {
                for input in node.inputs where input.requiresGrad { stack.append((input, false)) }
            }
        }
        return order
    }

    /// Adds the row-major gradient `g` into this tensor's gradient (takes ownership when there is
    /// none yet and no conversion is needed).
    func accumulateGrad(_ g: [Float]) { accumulateGrad(g, layout: .plain) }

    /// Adds `g`, laid out as `layout`, into this tensor's gradient (kept in `gradientLayout`).
    func accumulateGrad(_ g: [Float], layout: TensorLayout) {
        guard requiresGrad else { return }
        precondition(g.count == count, "gradient has \(g.count) elements, tensor has \(count)")
        let g = inLayout(g, from: layout, to: gradientLayout)
        if gradStorage == nil { gradStorage = g; return }
        gradStorage!.withUnsafeMutableBufferPointer { dst in
            g.withUnsafeBufferPointer { src in
                for i in 0..<dst.count { dst[i] += src[i] }
            }
        }
    }

    /// Lets a kernel add straight into this tensor's row-major gradient buffer (zero-filled on
    /// first use).
    func withGradBuffer(_ body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        guard requiresGrad else { return }
        guard gradientLayout == .plain else {
            var plain = [Float](repeating: 0, count: count)
            plain.withUnsafeMutableBufferPointer { body($0) }
            return accumulateGrad(plain)
        }
        if gradStorage == nil { gradStorage = [Float](repeating: 0, count: count) }
        gradStorage!.withUnsafeMutableBufferPointer { body($0) }
    }
}
