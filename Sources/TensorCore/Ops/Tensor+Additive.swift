// a ± b with broadcasting, optionally followed by a fused activation (ResNet's residual
// `relu(out + shortcut)`). Backward hands the output gradient on without the elementwise
// multiply-by-one of the generic binary op: same-shape operands receive the gradient array itself.

/// `activation(a + b)` in one pass; under `OpTrace` (export) the unfused ops are recorded instead.
public func add(_ a: Tensor, _ b: Tensor, activation: FusedActivation) -> Tensor {
    if activation == .identity || OpTrace.current != nil { return activation.apply(to: a + b) }
    return Tensor.additive(a, b, negateB: false, activation: activation, op: "add_activation")
}

extension Tensor {
    static func additive(_ a: Tensor, _ b: Tensor, negateB: Bool, activation: FusedActivation,
                         op: StaticString) -> Tensor {
        guard let outShape = Shape.broadcast(a.shape, b.shape) else {
            preconditionFailure("\(op): shapes \(Shape.describe(a.shape)) and \(Shape.describe(b.shape)) do not broadcast")
        }
        let n = Shape.count(outShape)
        let active = activation != .identity, slope = activation.negativeSlope
        let sign: Float = negateB ? -1 : 1
        // Same-shape operands are added as stored when both are stored alike (a residual sum
        // between training convolutions, bf16 under bf16 precision), else blocked16 when either
        // is blocked, the other converted.
        let layout: TensorLayout = a.shape != b.shape ? .plain
            : a.storageLayout == b.storageLayout ? a.storageLayout
            : a.storageLayout.isBlocked || b.storageLayout.isBlocked ? .blocked16 : .plain
        let out = [Float].overwritten(count: layout.storageCount(n)) { o in
            a.values(in: layout).withUnsafeBufferPointer { x in
                b.values(in: layout).withUnsafeBufferPointer { y in
                    if layout == .blocked16BF16 {
                        // n is a multiple of 16 here: whole vectors only.
                        let sv = SIMD8<Float>(repeating: sign)
                        Parallel.chunks(n / 8, costPerItem: 16) { r in
                            for v in r {
                                let z = BF16Lanes.load8(x.baseAddress!, v * 8) + sv * BF16Lanes.load8(y.baseAddress!, v * 8)
                                BF16Lanes.store8(active ? FusedActivation.forward(z, slope: slope) : z, o.baseAddress!, v * 8)
                            }
                        }
                    } else if a.shape == b.shape {
                        Parallel.chunks(n, costPerItem: 2) { r in
                            let (ox, xx, yy) = (o.baseAddress!, x.baseAddress!, y.baseAddress!)
                            let sv = SIMD8<Float>(repeating: sign)
                            var i = r.lowerBound
                            while i + 8 <= r.upperBound {
                                let z = Vectorized.load8(xx + i) + sv * Vectorized.load8(yy + i)
                                Vectorized.store8(active ? FusedActivation.forward(z, slope: slope) : z, ox + i)
                                i += 8
                            }
                            while i < r.upperBound {
                                let z = xx[i] + sign * yy[i]
                                ox[i] = active ? FusedActivation.forward(z, slope: slope) : z
                                i += 1
                            }
                        }
                    } else {
                        let sa = Shape.broadcastStrides(a.shape, to: outShape)
                        let sb = Shape.broadcastStrides(b.shape, to: outShape)
                        Broadcast.forEachRun(shape: outShape, stridesA: sa, stridesB: sb) { oo, ao, bo, len, ast, bst in
                            for i in 0..<len {
                                let z = x[ao + i * ast] + sign * y[bo + i * bst]
                                o[oo + i] = active ? FusedActivation.forward(z, slope: slope) : z
                            }
                        }
                    }
                }
            }
        }
        let y = active ? out : []
        return Tensor(shape: outShape, data: out, layout: layout, op: op, inputs: [a, b]) { g in
            var gz = g
            if active {
                gz = [Float].overwritten(count: n) { o in
                    g.withUnsafeBufferPointer { gs in
                        y.withUnsafeBufferPointer { ys in
                            if layout == .blocked16BF16 {
                                Parallel.chunks(n / 8, costPerItem: 16) { r in
                                    for v in r {
                                        let i = v * 8
                                        Vectorized.store8(FusedActivation.backward(Vectorized.load8(gs.baseAddress! + i),
                                                                                   BF16Lanes.load8(ys.baseAddress!, i), slope: slope),
                                                          o.baseAddress! + i)
                                    }
                                }
                                return
                            }
                            Parallel.chunks(n, costPerItem: 2) { r in
                                for i in r { o[i] = FusedActivation.backward(gs[i], ys[i], slope: slope) }
                            }
                        }
                    }
                }
            }
            if a.requiresGrad { a.accumulateGrad(Broadcast.reduce(gz, from: outShape, to: a.shape), layout: layout.gradientLayout) }
            if b.requiresGrad {
                var gb = Broadcast.reduce(gz, from: outShape, to: b.shape)
                if negateB {
                    gb.withUnsafeMutableBufferPointer { p in
                        Parallel.chunks(p.count, costPerItem: 1) { r in for i in r { p[i] = -p[i] } }
                    }
                }
                b.accumulateGrad(gb, layout: layout.gradientLayout)
            }
        }
    }
}
