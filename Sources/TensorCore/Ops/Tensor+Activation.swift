// Unary math and activations. Each derivative is written from the input x or the output y,
// whichever is cheaper.

extension Tensor {
    public func exp() -> Tensor { unary(op: "exp", LibM.exp, derivative: { _, y in y }).traced(.exp, [self]) }
    public func log() -> Tensor { unary(op: "log", LibM.log, derivative: { x, _ in 1 / x }).traced(.log, [self]) }
    public func sqrt() -> Tensor { unary(op: "sqrt", LibM.sqrt, derivative: { _, y in 0.5 / y }).traced(.sqrt, [self]) }
    public func abs() -> Tensor { unary(op: "abs", Swift.abs, derivative: { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) })
        .traced(.abs, [self]) }
    public func relu() -> Tensor {
        unary(op: "relu", { Swift.max($0, 0) }, derivative: { x, _ in x > 0 ? 1 : 0 }).traced(.relu, [self])
    }
    /// `max(x, 0) + slope * min(x, 0)` (WideResNet uses slope 0.1).
    public func leakyRelu(_ slope: Float = 0.01) -> Tensor {
        unary(op: "leaky_relu", { $0 > 0 ? $0 : slope * $0 }, derivative: { x, _ in x > 0 ? 1 : slope })
            .traced(.leakyRelu(slope: slope), [self])
    }
    /// min(max(x, 0), 6) (MobileNet).
    public func relu6() -> Tensor {
        unary(op: "relu6", { Swift.min(Swift.max($0, 0), 6) }, derivative: { x, _ in x > 0 && x < 6 ? 1 : 0 })
            .traced(.relu6, [self])
    }
    public func sigmoid() -> Tensor {
        unary(op: "sigmoid", { 1 / (1 + LibM.exp(-$0)) }, derivative: { _, y in y * (1 - y) }).traced(.sigmoid, [self])
    }
    public func tanh() -> Tensor { unary(op: "tanh", LibM.tanh, derivative: { _, y in 1 - y * y }).traced(.tanh, [self]) }
    /// clamp(slope·x + offset, 0, 1). PyTorch's hardsigmoid is slope 1/6; Paddle's default is 0.2.
    public func hardSigmoid(slope: Float = 1.0 / 6.0, offset: Float = 0.5) -> Tensor {
        unary(op: "hard_sigmoid", { Swift.min(Swift.max(slope * $0 + offset, 0), 1) },
              derivative: { x, _ in
                  let t = slope * x + offset
                  return t > 0 && t < 1 ? slope : 0
              })
            .traced(.hardSigmoid(slope: slope, offset: offset), [self])
    }
    /// x · relu6(x + 3) / 6.
    public func hardSwish() -> Tensor {
        unary(op: "hard_swish", { x in x * Swift.min(Swift.max(x + 3, 0), 6) / 6 },
              derivative: { x, _ in x < -3 ? 0 : (x > 3 ? 1 : (2 * x + 3) / 6) })
            .traced(.hardSwish, [self])
    }
}
