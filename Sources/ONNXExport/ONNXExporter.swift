import Foundation
import NN
import SwiftProtobuf
import TensorCore

/// Writes a model's eval-mode forward pass as an ONNX graph (opset 17) with a dynamic batch.
///
/// The graph comes from tracing, not from a per-architecture description: the model runs once in
/// eval mode on an `[2, C, H, W]` input under `OpTrace`, and the recorded ops that reach the output
/// are mapped one to one onto ONNX nodes. Any model built from traced TensorCore ops exports without
/// exporter changes, and the graph is exactly what `forward` computes, including quirks such as the
/// faithful WideResNet's dead BN (pruned: it never reaches the output) and Paddle's
/// `downscale_in_infer` dropout (a `Mul` by 1 − p). Ops with no mapping fail with their name.
///
/// BatchNorm is kept as `BatchNormalization` with the checkpoint's tensors (initializer names are
/// the state-dict keys); onnxruntime folds it into the preceding Conv when it loads the graph.
/// A Linear layer becomes `Gemm` with `transB = 1` (its weight stays [out, in]).
public struct ONNXExporter {
    /// The ONNX operator set the graph imports.
    public static let opsetVersion: Int64 = 17
    /// The IR version that introduced opset 17 (onnx 1.12); onnxruntime reads it.
    public static let irVersion: Int64 = 8

    public var inputName = "input"
    public var outputName = "output"
    /// Symbolic name of the batch dimension of the input and output.
    public var batchDimension = "N"
    public var graphName = "magpie"
    public var docString = ""

    public init() {}

    /// The ONNX model of `model` for inputs of shape [N, C, H, W] with `inputShape` = [C, H, W].
    /// The model is traced in eval mode and returned to its previous mode afterwards.
    public func export(_ model: Layer, inputShape: [Int]) throws -> Onnx_ModelProto {
        guard inputShape.count == 3, inputShape.allSatisfy({ $0 > 0 }) else {
            throw ONNXExportError.badInputShape(inputShape)
        }
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }

        // Batch 2, not 1: a size-1 batch would hide ops that mix samples.
        let traceBatch = 2
        var rng = RNG(seed: 1)
        let input = Tensor.uniform([traceBatch] + inputShape, low: -1, high: 1, rng: &rng)
        let (output, trace) = withNoGrad { OpTrace.recording { model(input) } }

        var keys: [ObjectIdentifier: String] = [:]
        for (key, tensor) in model.stateDict() where keys[ObjectIdentifier(tensor)] == nil {
            keys[ObjectIdentifier(tensor)] = key
        }
        let builder = GraphBuilder(parameterKeys: keys)
        builder.bind(input, to: builder.unique(inputName))
        _ = builder.unique(outputName)
        try convert(trace: trace, input: input, output: output, into: builder)

        var graph = Onnx_GraphProto()
        graph.name = graphName
        graph.node = builder.nodes
        graph.initializer = builder.initializers
        graph.input = [valueInfo(inputName, shape: [traceBatch] + inputShape, traceBatch: traceBatch)]
        graph.output = [valueInfo(outputName, shape: output.shape, traceBatch: traceBatch)]

        var proto = Onnx_ModelProto()
        proto.irVersion = Self.irVersion
        proto.producerName = "magpie"
        proto.docString = docString
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = Self.opsetVersion
        proto.opsetImport = [opset]
        proto.graph = graph
        return proto
    }

    /// Exports and writes the serialized model atomically (temp file + rename); returns the model proto.
    @discardableResult
    public func write(_ model: Layer, inputShape: [Int], to url: URL) throws -> Onnx_ModelProto {
        let proto = try export(model, inputShape: inputShape)
        do {
            let bytes: Data = try proto.serializedBytes()
            try bytes.write(to: url, options: .atomic)
        } catch {
            throw ONNXExportError.writeFailed(path: url.path, reason: error.localizedDescription)
        }
        return proto
    }

    /// Emits the live part of the trace (ops whose results reach `output`) in execution order.
    private func convert(trace: OpTrace, input: Tensor, output: Tensor, into builder: GraphBuilder) throws {
        let live = Self.liveNodes(trace, output: output)
        var consumers: [ObjectIdentifier: Int] = [:]
        for node in live {
            for case let t? in node.inputs {
                consumers[ObjectIdentifier(t), default: 0] += 1
                // A constant shaped like a batch of activations was drawn during the trace (a dropout
                // mask of a layer that eval() did not reach); baked in, it would pin the batch size.
                if t !== input, trace.producer(of: t) == nil, builder.parameterKey(t) == nil,
                   t.rank >= 2, t.shape[0] == input.shape[0] {
                    throw ONNXExportError.unsupportedOp("\(node.op)", detail: "it reads a batch-shaped constant \(t.shape); "
                        + "is a layer still in training mode (not listed in its parent's children)?")
                }
            }
        }

        // Linear = matmul + bias add: fuse into one Gemm when the product feeds only that add.
        var fusedAdd: [ObjectIdentifier: OpTrace.Node] = [:]
        var skipped: Set<ObjectIdentifier> = []
        for node in live {
            guard node.op == .add, let a = node.inputs[0], let bias = node.inputs[1],
                  let producer = trace.producer(of: a), case .matmul = producer.op,
                  a.rank == 2, consumers[ObjectIdentifier(a)] == 1,
                  trace.producer(of: bias) == nil, bias.shape == [a.shape[1]] else { continue }
            fusedAdd[ObjectIdentifier(a)] = node
            skipped.insert(ObjectIdentifier(node.output))
        }

        let outputID = ObjectIdentifier(output)
        for node in live where !skipped.contains(ObjectIdentifier(node.output)) {
            let add = fusedAdd[ObjectIdentifier(node.output)]
            let result = add?.output ?? node.output
            let name = try builder.emit(node, output: ObjectIdentifier(result) == outputID ? outputName : nil,
                                        gemmBias: add?.inputs[1])
            builder.bind(result, to: name)
        }
        // A model that returns its input or a constant still needs a node producing the output.
        if trace.producer(of: output) == nil {
            builder.node("Identity", [builder.name(of: output)], name: builder.uniqueNodeName("Identity"), output: outputName)
        }
    }

    /// Recorded ops whose results reach `output`, in execution order (dead branches dropped).
    static func liveNodes(_ trace: OpTrace, output: Tensor) -> [OpTrace.Node] {
        var live: Set<ObjectIdentifier> = []
        var stack = [output]
        while let t = stack.popLast() {
            guard let node = trace.producer(of: t), live.insert(ObjectIdentifier(t)).inserted else { continue }
            stack.append(contentsOf: node.inputs.compactMap { $0 })
        }
        return trace.nodes.filter { live.contains(ObjectIdentifier($0.output)) }
    }

    private func valueInfo(_ name: String, shape: [Int], traceBatch: Int) -> Onnx_ValueInfoProto {
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        tensorType.shape.dim = shape.enumerated().map { axis, size in
            var d = Onnx_TensorShapeProto.Dimension()
            if axis == 0 && size == traceBatch { d.dimParam = batchDimension } else { d.dimValue = Int64(size) }
            return d
        }
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type.tensorType = tensorType
        return info
    }
}
