// Elementwise binary arithmetic with NumPy broadcasting, and scalar variants.

extension Tensor {
    /// Applies `f` elementwise over the broadcast of `a` and `b`; `da`/`db` give the partial
    /// derivatives of f at (a, b), used in backward (then summed back to each operand's shape).
    @inline(__always)
    static func binary(_ a: Tensor, _ b: Tensor, op: StaticString,
                       _ f: @escaping (Float, Float) -> Float,
                       da: @escaping (Float, Float) -> Float,
                       db: @escaping (Float, Float) -> Float) -> Tensor {
        guard let outShape = Shape.broadcast(a.shape, b.shape) else {
            preconditionFailure("\(op): shapes \(Shape.describe(a.shape)) and \(Shape.describe(b.shape)) do not broadcast")
        }
        let sa = Shape.broadcastStrides(a.shape, to: outShape)
        let sb = Shape.broadcastStrides(b.shape, to: outShape)
        let n = Shape.count(outShape)
        let same = a.shape == b.shape
        let out = [Float].overwritten(count: n) { o in
            a.data.withUnsafeBufferPointer { x in
                b.data.withUnsafeBufferPointer { y in
                    if same {
                        Parallel.chunks(n, costPerItem: 2) { r in for i in r { o[i] = f(x[i], y[i]) } }
                    } else {
                        Broadcast.forEachRun(shape: outShape, stridesA: sa, stridesB: sb) { oo, ao, bo, len, ast, bst in
                            for i in 0..<len { o[oo + i] = f(x[ao + i * ast], y[bo + i * bst]) }
                        }
                    }
                }
            }
        }
        let aData = a.data, bData = b.data
        return Tensor(shape: outShape, data: out, op: op, inputs: [a, b]) { g in
            func partial(_ d: @escaping (Float, Float) -> Float) -> [Float] {
                [Float].overwritten(count: n) { o in
                    aData.withUnsafeBufferPointer { x in
                        bData.withUnsafeBufferPointer { y in
                            if same {
                                g.withUnsafeBufferPointer { gs in
                                    Parallel.chunks(n, costPerItem: 2) { r in for i in r { o[i] = gs[i] * d(x[i], y[i]) } }
                                }
                            } else {
                                Broadcast.forEachRun(shape: outShape, stridesA: sa, stridesB: sb) { oo, ao, bo, len, ast, bst in
                                    for i in 0..<len { o[oo + i] = g[oo + i] * d(x[ao + i * ast], y[bo + i * bst]) }
                                }
                            }
                        }
                    }
                }
            }
            if a.requiresGrad { a.accumulateGrad(Broadcast.reduce(partial(da), from: outShape, to: a.shape)) }
            if b.requiresGrad { b.accumulateGrad(Broadcast.reduce(partial(db), from: outShape, to: b.shape)) }
        }
    }

    /// Elementwise `f(x)` with derivative `df(x, y)` given input x and output y.
    @inline(__always)
    func unary(op: StaticString, _ f: (Float) -> Float, derivative df: @escaping (Float, Float) -> Float) -> Tensor {
        let n = count
        // Elementwise, so any fp32 layout works: the output keeps the input's (bf16 is widened).
        let layout = storageLayout.gradientLayout, x = values(in: layout)
        let out = [Float].overwritten(count: n) { o in
            x.withUnsafeBufferPointer { x in
                Parallel.chunks(n, costPerItem: 2) { r in for i in r { o[i] = f(x[i]) } }
            }
        }
        let y = out
        return Tensor(shape: shape, data: out, layout: layout, op: op, inputs: [self]) { [self] g in
            let gx = [Float].overwritten(count: n) { o in
                x.withUnsafeBufferPointer { xs in
                    y.withUnsafeBufferPointer { ys in
                        g.withUnsafeBufferPointer { gs in
                            Parallel.chunks(n, costPerItem: 2) { r in for i in r { o[i] = gs[i] * df(xs[i], ys[i]) } }
                        }
                    }
                }
            }
            self.accumulateGrad(gx, layout: layout)
        }
    }
}

public func + (a: Tensor, b: Tensor) -> Tensor {
    Tensor.additive(a, b, negateB: false, activation: .identity, op: "add").traced(.add, [a, b])
}
public func - (a: Tensor, b: Tensor) -> Tensor {
    Tensor.additive(a, b, negateB: true, activation: .identity, op: "sub").traced(.sub, [a, b])
}
public func * (a: Tensor, b: Tensor) -> Tensor {
    Tensor.binary(a, b, op: "mul", *, da: { _, y in y }, db: { x, _ in x }).traced(.mul, [a, b])
}
public func / (a: Tensor, b: Tensor) -> Tensor {
    Tensor.binary(a, b, op: "div", /, da: { _, y in 1 / y }, db: { x, y in -x / (y * y) }).traced(.div, [a, b])
}
/// Elementwise maximum; where a == b the gradient goes to `a`.
public func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
    Tensor.binary(a, b, op: "maximum", { max($0, $1) }, da: { x, y in x >= y ? 1 : 0 }, db: { x, y in x >= y ? 0 : 1 })
        .traced(.maximum, [a, b])
}
/// Elementwise minimum; where a == b the gradient goes to `a`.
public func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
    Tensor.binary(a, b, op: "minimum", { min($0, $1) }, da: { x, y in x <= y ? 1 : 0 }, db: { x, y in x <= y ? 0 : 1 })
        .traced(.minimum, [a, b])
}

public func + (a: Tensor, s: Float) -> Tensor {
    a.unary(op: "add_scalar", { $0 + s }, derivative: { _, _ in 1 }).traced(.addScalar(s), [a])
}
public func + (s: Float, a: Tensor) -> Tensor { a + s }
public func - (a: Tensor, s: Float) -> Tensor { a + (-s) }
public func - (s: Float, a: Tensor) -> Tensor {
    a.unary(op: "rsub_scalar", { s - $0 }, derivative: { _, _ in -1 }).traced(.rsubScalar(s), [a])
}
public func * (a: Tensor, s: Float) -> Tensor {
    a.unary(op: "mul_scalar", { $0 * s }, derivative: { _, _ in s }).traced(.mulScalar(s), [a])
}
public func * (s: Float, a: Tensor) -> Tensor { a * s }
public func / (a: Tensor, s: Float) -> Tensor { a * (1 / s) }
public func / (s: Float, a: Tensor) -> Tensor {
    a.unary(op: "rdiv_scalar", { s / $0 }, derivative: { x, _ in -s / (x * x) }).traced(.rdivScalar(s), [a])
}
public prefix func - (a: Tensor) -> Tensor { a.unary(op: "neg", { -$0 }, derivative: { _, _ in -1 }).traced(.neg, [a]) }

extension Tensor {
    /// `x ** p` for a constant exponent.
    public func pow(_ p: Float) -> Tensor {
        unary(op: "pow", { LibM.pow($0, p) }, derivative: { x, _ in p * LibM.pow(x, p - 1) }).traced(.pow(p), [self])
    }
    public func square() -> Tensor {
        unary(op: "square", { $0 * $0 }, derivative: { x, _ in 2 * x }).traced(.square, [self])
    }
    /// Clamps into [low, high]; gradient 1 strictly inside, 0 outside (PyTorch's convention at the bounds: 1).
    public func clamp(min low: Float = -.infinity, max high: Float = .infinity) -> Tensor {
        unary(op: "clamp", { Swift.min(Swift.max($0, low), high) },
              derivative: { x, _ in x >= low && x <= high ? 1 : 0 })
            .traced(.clamp(min: low, max: high), [self])
    }
}
