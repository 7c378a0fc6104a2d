// Softmax family along the last axis, fused cross-entropy, and L2 normalisation.
// Rows: R = count / C, each a contiguous run of C values.

extension Tensor {
    /// Softmax over the last axis.
    public func softmax() -> Tensor {
        let c = shape.last ?? 1, rows = count / Swift.max(c, 1)
        let y = Softmax.rows(data, rows: rows, cols: c, log: false)
        return Tensor(shape: shape, data: y, op: "softmax", inputs: [self]) { [self] g in
            // dx = y ⊙ (g − Σ g·y)
            var gx = [Float](repeating: 0, count: rows * c)
            for r in 0..<rows {
                var dot: Float = 0
                for j in 0..<c { dot += g[r * c + j] * y[r * c + j] }
                for j in 0..<c { gx[r * c + j] = y[r * c + j] * (g[r * c + j] - dot) }
            }
            self.accumulateGrad(gx)
        }.traced(.softmax, [self])
    }

    /// Log-softmax over the last axis (stable: shifts by the row max).
    public func logSoftmax() -> Tensor {
        let c = shape.last ?? 1, rows = count / Swift.max(c, 1)
        let y = Softmax.rows(data, rows: rows, cols: c, log: true)
        return Tensor(shape: shape, data: y, op: "log_softmax", inputs: [self]) { [self] g in
            // dx = g − softmax · Σ g
            var gx = [Float](repeating: 0, count: rows * c)
            for r in 0..<rows {
                var total: Float = 0
                for j in 0..<c { total += g[r * c + j] }
                for j in 0..<c { gx[r * c + j] = g[r * c + j] - LibM.exp(y[r * c + j]) * total }
            }
            self.accumulateGrad(gx)
        }.traced(.logSoftmax, [self])
    }

    /// x / max(‖x‖₂, eps) over the last axis (PyTorch's F.normalize).
    public func l2Normalized(eps: Float = 1e-12) -> Tensor {
        let c = shape.last ?? 1, rows = count / Swift.max(c, 1)
        var y = [Float](repeating: 0, count: count)
        var norms = [Float](repeating: 0, count: rows)
        data.withUnsafeBufferPointer { x in
            for r in 0..<rows {
                var s: Float = 0
                for j in 0..<c { s += x[r * c + j] * x[r * c + j] }
                let norm = Swift.max(LibM.sqrt(s), eps)
                norms[r] = norm
                for j in 0..<c { y[r * c + j] = x[r * c + j] / norm }
            }
        }
        return Tensor(shape: shape, data: y, op: "l2_normalize", inputs: [self]) { [self] g in
            var gx = [Float](repeating: 0, count: rows * c)
            for r in 0..<rows {
                let norm = norms[r]
                if norm > eps {
                    // dx = (g − y·(g·y)) / ‖x‖
                    var dot: Float = 0
                    for j in 0..<c { dot += g[r * c + j] * y[r * c + j] }
                    for j in 0..<c { gx[r * c + j] = (g[r * c + j] - y[r * c + j] * dot) / norm }
                } else {
                    // Below eps the denominator is the constant eps.
                    for j in 0..<c { gx[r * c + j] = g[r * c + j] / eps }
                }
            }
            self.accumulateGrad(gx)
        }.traced(.l2Normalize(eps: eps), [self])
    }
}

/// Mean cross-entropy of `logits` [N, C] against class indices, with optional label smoothing
/// ε: the target is (1−ε)·onehot + ε/C, as PyTorch's `label_smoothing`.
public func crossEntropy(_ logits: Tensor, labels: [Int], labelSmoothing: Float = 0) -> Tensor {
    precondition(logits.rank == 2, "crossEntropy expects logits [N, C], got \(logits.shape)")
    let n = logits.shape[0], c = logits.shape[1]
    precondition(labels.count == n, "crossEntropy: \(labels.count) labels for \(n) rows")
    for l in labels { precondition(l >= 0 && l < c, "crossEntropy: label \(l) outside 0..<\(c)") }
    let logp = Softmax.rows(logits.data, rows: n, cols: c, log: true)
    let off = labelSmoothing / Float(c), on = 1 - labelSmoothing + off
    var loss: Float = 0
    for r in 0..<n {
        var rowLoss: Float = 0
        if labelSmoothing > 0 { for j in 0..<c { rowLoss -= off * logp[r * c + j] } }
        rowLoss -= (on - (labelSmoothing > 0 ? off : 0)) * logp[r * c + labels[r]]
        loss += rowLoss
    }
    return Tensor(shape: [], data: [loss / Float(n)], op: "cross_entropy", inputs: [logits]) { g in
        // d/dlogits = (softmax − target) / N
        let scale = g[0] / Float(n)
        var gx = [Float](repeating: 0, count: n * c)
        for r in 0..<n {
            for j in 0..<c {
                let target = j == labels[r] ? on : (labelSmoothing > 0 ? off : 0)
                gx[r * c + j] = (LibM.exp(logp[r * c + j]) - target) * scale
            }
        }
        logits.accumulateGrad(gx)
    }
}

/// Mean cross-entropy of `logits` [N, C] against soft `targets` [N, C]:
/// −Σ targets·log_softmax(logits) / N. Gradients flow to both when they require it.
public func crossEntropy(_ logits: Tensor, targets: Tensor) -> Tensor {
    precondition(logits.rank == 2 && logits.shape == targets.shape,
                 "crossEntropy expects logits and targets of one shape [N, C], got \(logits.shape) and \(targets.shape)")
    let n = logits.shape[0], c = logits.shape[1]
    let logp = Softmax.rows(logits.data, rows: n, cols: c, log: true)
    let t = targets.data
    var loss: Float = 0
    for i in 0..<(n * c) { loss -= t[i] * logp[i] }
    return Tensor(shape: [], data: [loss / Float(n)], op: "soft_cross_entropy", inputs: [logits, targets]) { g in
        let scale = g[0] / Float(n)
        if logits.requiresGrad {
            var gx = [Float](repeating: 0, count: n * c)
            for r in 0..<n {
                var mass: Float = 0
                for j in 0..<c { mass += t[r * c + j] }
                for j in 0..<c { gx[r * c + j] = (LibM.exp(logp[r * c + j]) * mass - t[r * c + j]) * scale }
            }
            logits.accumulateGrad(gx)
        }
        if targets.requiresGrad { targets.accumulateGrad(logp.map { -$0 * scale }) }
    }
}

/// Row-wise softmax kernels shared by the ops above.
enum Softmax {
    static func rows(_ x: [Float], rows: Int, cols c: Int, log: Bool) -> [Float] {
        var y = [Float](repeating: 0, count: rows * c)
        x.withUnsafeBufferPointer { xs in
            y.withUnsafeMutableBufferPointer { ys in
                Parallel.chunks(rows, costPerItem: c * 8) { range in
                    for r in range {
                        let base = r * c
                        var m = -Float.infinity
                        for j in 0..<c { m = Swift.max(m, xs[base + j]) }
                        var s: Float = 0
                        for j in 0..<c {
                            let e = LibM.exp(xs[base + j] - m)
                            ys[base + j] = e
                            s += e
                        }
                        if log {
                            let ls = LibM.log(s) + m
                            for j in 0..<c { ys[base + j] = xs[base + j] - ls }
                        } else {
                            let inv = 1 / s
                            for j in 0..<c { ys[base + j] *= inv }
                        }
                    }
                }
            }
        }
        return y
    }
}
