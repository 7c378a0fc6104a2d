import Foundation
import Models
import NN
import ONNXExport
import SwiftProtobuf
import TensorCore
import Testing

/// Structural checks of exported graphs (numerical agreement with onnxruntime is Scripts/check-onnx.py).
@Suite struct ONNXExporterTests {
    /// ResNet-18 layout at width 8: 1 stem conv + 8 blocks × 2 convs + 3 projection shortcuts.
    static func smallResNet(_ variant: ResNet.Variant = .vb, classNum: Int = 5) throws -> ResNet {
        try ResNet(ResNet.Config(depth: 18, variant: variant, options: ModelOptions(classNum: classNum), baseWidth: 8))
    }

    @Test func resNetGraphHasOpsetDynamicBatchAndOneNodePerOp() throws {
        let model = try Self.smallResNet()
        let proto = try ONNXExporter().export(model, inputShape: [3, 32, 32])

        #expect(proto.irVersion == 8)
        #expect(proto.opsetImport.map(\.domain) == [""] && proto.opsetImport.map(\.version) == [17])
        let graph = proto.graph
        #expect(graph.input.map(\.name) == ["input"] && graph.output.map(\.name) == ["output"])
        #expect(Self.dims(graph.input[0]) == ["N", "3", "32", "32"])
        #expect(Self.dims(graph.output[0]) == ["N", "5"])
        #expect(Self.opCounts(graph) == ["Conv": 20, "BatchNormalization": 20, "Relu": 17, "Add": 8, "MaxPool": 1,
                                         "GlobalAveragePool": 1, "Flatten": 1, "Gemm": 1])
        #expect(graph.node.last?.output == ["output"])
        Self.expectTopologicallyOrdered(graph)

        let stem = try #require(graph.node.first)
        #expect(stem.opType == "Conv" && stem.input == ["input", "conv1.weight"] && stem.name == "conv1")
        #expect(Self.ints(stem, "kernel_shape") == [7, 7] && Self.ints(stem, "strides") == [2, 2])
        #expect(Self.ints(stem, "pads") == [3, 3, 3, 3] && Self.ints(stem, "group") == [1])
        let pool = try #require(graph.node.first { $0.opType == "MaxPool" })
        #expect(Self.ints(pool, "kernel_shape") == [3, 3] && Self.ints(pool, "pads") == [1, 1, 1, 1]
                && Self.ints(pool, "ceil_mode") == [0])
        // Linear: matmul + bias fused into one Gemm on the [out, in] weight.
        let gemm = try #require(graph.node.first { $0.opType == "Gemm" })
        #expect(gemm.input.dropFirst() == ["fc.weight", "fc.bias"] && Self.ints(gemm, "transB") == [1])
        let bn = try #require(graph.node.first { $0.opType == "BatchNormalization" })
        #expect(bn.input.dropFirst() == ["bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var"])
        #expect(bn.attribute.first { $0.name == "epsilon" }?.f == 1e-5)
    }

    @Test func initializersAreTheCheckpointTensorsUnderTheirKeys() throws {
        let model = try Self.smallResNet()
        let proto = try ONNXExporter().export(model, inputShape: [3, 32, 32])
        let expected = Dictionary(uniqueKeysWithValues: model.stateDict().filter { !$0.0.hasSuffix("num_batches_tracked") })
        let initializers = Dictionary(uniqueKeysWithValues: proto.graph.initializer.map { ($0.name, $0) })
        #expect(Set(initializers.keys) == Set(expected.keys))
        for (key, tensor) in expected {
            let t = try #require(initializers[key])
            #expect(t.dims == tensor.shape.map(Int64.init), "\(key)")
            #expect(t.dataType == Int32(Onnx_TensorProto.DataType.float.rawValue))
            #expect(Self.floats(t) == tensor.data, "\(key)")
        }
    }

    @Test func serializedModelParsesBackIdentically() throws {
        let model = try Self.smallResNet(.vd)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("magpie-onnx-\(UUID().uuidString).onnx")
        defer { try? FileManager.default.removeItem(at: url) }
        let proto = try ONNXExporter().write(model, inputShape: [3, 32, 32], to: url)
        let parsed = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: url))
        #expect(parsed == proto)
        #expect(parsed.graph.node.count == proto.graph.node.count && parsed.graph.node.count > 0)
        // vd: projection shortcuts average-pool with ceil_mode and without padded cells in the count.
        let avg = try #require(parsed.graph.node.first { $0.opType == "AveragePool" })
        #expect(Self.ints(avg, "kernel_shape") == [2, 2] && Self.ints(avg, "strides") == [2, 2]
                && Self.ints(avg, "ceil_mode") == [1] && Self.ints(avg, "count_include_pad") == [0])
    }

    @Test func exportLeavesATrainingModelInTrainingMode() throws {
        let model = try Self.smallResNet()
        model.train()
        _ = try ONNXExporter().export(model, inputShape: [3, 32, 32])
        #expect(model.isTraining && model.namedModules().allSatisfy { $0.1.isTraining })
    }

    /// In the faithful WRN the first blocks of groups 2 and 3 compute bn1 but convolve the raw
    /// input, so their bn1 never reaches the output; the fixed form uses it.
    @Test(arguments: [true, false])
    func wideResNetKeepsOnlyTheBatchNormsThatReachTheOutput(faithful: Bool) throws {
        var options = ModelOptions(classNum: 10)
        options.faithfulWideResNet = faithful
        let model = try WideResNet(depth: 28, widen: 2, options: options)
        let graph = try ONNXExporter().export(model, inputShape: [3, 32, 32]).graph
        // 12 blocks × 2 BN + the final BN, less the two dead ones.
        #expect(Self.opCounts(graph)["BatchNormalization"] == (faithful ? 23 : 25))
        let names = Set(graph.initializer.map(\.name))
        for group in [2, 3] {
            #expect(names.contains("block\(group).layer.0.bn1.weight") == !faithful)
        }
        #expect(names.contains("block1.layer.0.bn1.weight"))
        let leaky = graph.node.filter { $0.opType == "LeakyRelu" }
        #expect(!leaky.isEmpty && leaky.allSatisfy { $0.attribute.first { $0.name == "alpha" }?.f == 0.1 })
    }

    @Test func ppLCNetUsesPyTorchHardSigmoidAndDownscalesDropout() throws {
        let model = try ModelRegistry.make("PPLCNet_x0_25", options: ModelOptions(classNum: 7))
        let graph = try ONNXExporter().export(model, inputShape: [3, 32, 32]).graph
        let gates = graph.node.filter { $0.opType == "HardSigmoid" }
        #expect(gates.count == 2)  // the two SE blocks of stage 6
        #expect(gates.allSatisfy { Self.float($0, "alpha") == 1 / 6 && Self.float($0, "beta") == 0.5 })
        #expect(graph.node.contains { $0.opType == "HardSwish" })
        // Depthwise convolutions: group = channels.
        let dw = try #require(graph.node.first { $0.name == "blocks2.0.dw_conv.conv" })
        #expect(Self.ints(dw, "group") == [8])
        // downscale_in_infer dropout (p = 0.2) is a Mul by the scalar 0.8 before the classifier.
        let constants = Dictionary(uniqueKeysWithValues: graph.initializer.map { ($0.name, $0) })
        let scaled = graph.node.filter { $0.opType == "Mul" && $0.input.contains { constants[$0]?.dims == [] } }
        #expect(scaled.count == 1)
        let factor = try #require(scaled.first.flatMap { $0.input.compactMap { constants[$0] }.first })
        #expect(Self.floats(factor) == [Float(1) - 0.2])
        #expect(Self.dims(graph.output[0]) == ["N", "7"])
    }

    @Test func mobileNetV3GatesWithPaddleHardSigmoid() throws {
        let model = try ModelRegistry.make("MobileNetV3_small_x0_35", options: ModelOptions(classNum: 3))
        let graph = try ONNXExporter().export(model, inputShape: [3, 32, 32]).graph
        let gates = graph.node.filter { $0.opType == "HardSigmoid" }
        #expect(gates.count == 9)  // SE in 9 of the 11 small blocks
        #expect(gates.allSatisfy { Self.float($0, "alpha") == 0.2 && Self.float($0, "beta") == 0.5 })
        // Residual adds where stride is 1 and the scaled channels stay: blocks 3, 5, 6, 7, 8, 10, 11
        // (block 7 goes 40 → 48 channels, but both round to 16 at ×0.35).
        #expect(Self.opCounts(graph)["Add"] == 7)
    }

    @Test func embeddingNeckBecomesGemmAndL2Normalisation() throws {
        let model = EmbeddingNet(embedding: 6)
        let graph = try ONNXExporter().export(model, inputShape: [3, 8, 8]).graph
        #expect(graph.node.map(\.opType) == ["Conv", "Relu", "GlobalAveragePool", "Flatten", "Gemm", "ReduceL2", "Max", "Div"])
        let reduce = graph.node[5], clamp = graph.node[6], div = graph.node[7]
        #expect(Self.ints(reduce, "axes") == [-1] && Self.ints(reduce, "keepdims") == [1])
        #expect(reduce.input == [graph.node[4].output[0]] && clamp.input[0] == reduce.output[0])
        #expect(div.input == [graph.node[4].output[0], clamp.output[0]] && div.output == ["output"])
        let eps = try #require(graph.initializer.first { $0.name == clamp.input[1] })
        #expect(Self.floats(eps) == [1e-12])
        #expect(Self.dims(graph.output[0]) == ["N", "6"])
    }

    @Test func unmappedOpFailsWithItsName() throws {
        let error = #expect(throws: ONNXExportError.self) {
            try ONNXExporter().export(Transposer(), inputShape: [3, 4, 4])
        }
        #expect(error?.description.contains("'permute'") == true)
        #expect(throws: ONNXExportError.self) { try ONNXExporter().export(Transposer(), inputShape: [3, 4]) }
    }

    @Test func dropoutThatEvalCannotReachIsRefusedNotBakedIn() throws {
        let error = #expect(throws: ONNXExportError.self) {
            try ONNXExporter().export(HiddenDropout(), inputShape: [3, 4, 4])
        }
        #expect(error?.description.contains("training mode") == true)
    }

    // MARK: - Helpers

    static func dims(_ info: Onnx_ValueInfoProto) -> [String] {
        info.type.tensorType.shape.dim.map { $0.dimParam.isEmpty ? "\($0.dimValue)" : $0.dimParam }
    }

    static func opCounts(_ graph: Onnx_GraphProto) -> [String: Int] {
        Dictionary(grouping: graph.node, by: \.opType).mapValues(\.count)
    }

    static func ints(_ node: Onnx_NodeProto, _ name: String) -> [Int64]? {
        guard let a = node.attribute.first(where: { $0.name == name }) else { return nil }
        return a.type == .ints ? a.ints : [a.i]
    }

    static func float(_ node: Onnx_NodeProto, _ name: String) -> Float? {
        node.attribute.first { $0.name == name }?.f
    }

    static func floats(_ t: Onnx_TensorProto) -> [Float] {
        t.rawData.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    /// Every node input is the graph input, an initializer or an earlier node's output; every
    /// value is defined once.
    static func expectTopologicallyOrdered(_ graph: Onnx_GraphProto) {
        var defined = Set(graph.input.map(\.name) + graph.initializer.map(\.name))
        #expect(defined.count == graph.input.count + graph.initializer.count)
        for node in graph.node {
            for input in node.input where !input.isEmpty { #expect(defined.contains(input), "\(node.name) reads undefined \(input)") }
            for output in node.output { #expect(defined.insert(output).inserted, "\(output) defined twice") }
        }
    }
}

/// Conv → ReLU → GAP → Linear neck → L2 normalisation: a retrieval embedding head in miniature.
private final class EmbeddingNet: Layer {
    let conv = Conv2d(3, 4, kernel: 3, padding: 1)
    let neck: Linear
    init(embedding: Int) { neck = Linear(4, embedding) }
    override var children: [(String, Module)] { [("conv", conv), ("neck", neck)] }
    override func forward(_ x: Tensor) -> Tensor {
        neck(globalAvgPool2d(conv(x).relu()).flattened()).l2Normalized()
    }
}

/// Uses an op the exporter does not map.
private final class Transposer: Layer {
    override func forward(_ x: Tensor) -> Tensor { x.permuted([0, 1, 3, 2]) }
}

/// A dropout layer missing from `children`, so eval() leaves it in training mode.
private final class HiddenDropout: Layer {
    let dropout = Dropout(p: 0.5)
    override func forward(_ x: Tensor) -> Tensor { dropout(x) }
}
