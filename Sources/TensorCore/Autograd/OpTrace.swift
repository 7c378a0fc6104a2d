/// What an op did, with the attributes another runtime needs to redo it (ONNX export).
/// Ops without a typed case are recorded as `.other(name)` so an exporter can refuse them by name
/// instead of silently baking their output in as a constant.
public enum TracedOp: Equatable, Sendable {
    /// Inputs: x, weight, bias?.
    case conv2d(stride: Size2, padding: Size2, dilation: Size2, groups: Int)
    /// Inputs: x, weight?, bias?, runningMean?, runningVar?.
    case batchNorm(eps: Float, training: Bool)
    /// Inputs: a, b.
    case matmul(transposeA: Bool, transposeB: Bool)
    /// Broadcasting binary ops; inputs: a, b.
    case add, sub, mul, div, maximum, minimum
    /// Ops with a scalar constant; input: x (`rsubScalar` is s − x, `rdivScalar` s / x).
    case addScalar(Float), mulScalar(Float), rsubScalar(Float), rdivScalar(Float), pow(Float)
    case clamp(min: Float, max: Float)
    /// Pointwise ops; input: x.
    case neg, exp, log, sqrt, abs, square, relu, relu6, sigmoid, tanh, hardSwish
    case leakyRelu(slope: Float)
    case hardSigmoid(slope: Float, offset: Float)
    /// Pooling over NCHW; input: x.
    case maxPool2d(kernel: Size2, stride: Size2, padding: Size2, dilation: Size2, ceilMode: Bool)
    case avgPool2d(kernel: Size2, stride: Size2, padding: Size2, ceilMode: Bool, countIncludePad: Bool)
    case adaptiveAvgPool2d(outputSize: Size2), adaptiveMaxPool2d(outputSize: Size2)
    /// Layout; input: x. `shape` is the resolved output shape of the traced run.
    case reshape(shape: [Int])
    /// Zeros around each NCHW image; input: x.
    case pad(Padding2D)
    case flatten(startAxis: Int)
    /// Over the last axis; input: x.
    case softmax, logSoftmax
    case l2Normalize(eps: Float)
    /// An op with no typed record (its tape name).
    case other(String)
}

/// Records every op a closure performs, in execution order (for exporting a forward pass as a graph).
///
/// Each op output is recorded once with its tape name and inputs (`.other`); ops that matter to an
/// exporter then annotate their output with a typed `TracedOp` and their full positional inputs
/// (including tensors the tape does not need, such as BN running statistics). The trace keeps
/// every tensor it saw alive, so object identities stay unique while it exists.
public final class OpTrace: @unchecked Sendable {
    @TaskLocal static var current: OpTrace?

    public struct Node {
        public var op: TracedOp
        /// Positional inputs; nil where an optional operand was absent (a conv without bias).
        public var inputs: [Tensor?]
        public let output: Tensor
    }

    /// Recorded ops in execution order.
    public private(set) var nodes: [Node] = []
    private var indexByOutput: [ObjectIdentifier: Int] = [:]

    /// Runs `body` and returns its result with the trace of every op it performed.
    public static func recording<T>(_ body: () throws -> T) rethrows -> (T, OpTrace) {
        let trace = OpTrace()
        let result = try $current.withValue(trace) { try body() }
        return (result, trace)
    }

    /// The recorded op that produced `tensor`, if any (nil for leaves: inputs, parameters, constants).
    public func producer(of tensor: Tensor) -> Node? {
        indexByOutput[ObjectIdentifier(tensor)].map { nodes[$0] }
    }

    /// Called for every op output the tape constructs.
    static func recordUntyped(_ op: StaticString, inputs: [Tensor], output: Tensor) {
        guard let trace = current else { return }
        trace.set(Node(op: .other("\(op)"), inputs: inputs, output: output))
    }

    private func set(_ node: Node) {
        let id = ObjectIdentifier(node.output)
        if let i = indexByOutput[id] {
            nodes[i] = node
        } else {
            indexByOutput[id] = nodes.count
            nodes.append(node)
        }
    }

    /// Replaces the record of `output` (or adds one) with the typed op and its positional inputs.
    @inline(__always)
    static func annotate(_ output: Tensor, _ op: TracedOp, _ inputs: [Tensor?]) -> Tensor {
        if let trace = current { trace.set(Node(op: op, inputs: inputs, output: output)) }
        return output
    }
}

extension Tensor {
    /// Marks this op output with its typed record when a trace is running; returns self.
    @inline(__always)
    func traced(_ op: TracedOp, _ inputs: [Tensor?]) -> Tensor { OpTrace.annotate(self, op, inputs) }
}
