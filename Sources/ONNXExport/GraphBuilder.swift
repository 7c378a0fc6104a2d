import Foundation
import TensorCore

/// Accumulates an ONNX graph: unique value names, initializers (one per tensor object, named by
/// its checkpoint key when it is a parameter or buffer) and nodes in topological order.
final class GraphBuilder {
    private(set) var nodes: [Onnx_NodeProto] = []
    private(set) var initializers: [Onnx_TensorProto] = []
    private var usedNames: Set<String> = []
    private var usedNodeNames: Set<String> = []
    /// Names of tensors already in the graph: the input, node outputs and initializers.
    private var names: [ObjectIdentifier: String] = [:]
    private let parameterKeys: [ObjectIdentifier: String]

    /// `parameterKeys` maps parameter and buffer objects to their state-dict keys.
    init(parameterKeys: [ObjectIdentifier: String]) {
        self.parameterKeys = parameterKeys
    }

    /// `base`, or `base_2`, `base_3`, … if taken.
    func unique(_ base: String) -> String {
        var candidate = base, k = 1
        while usedNames.contains(candidate) { k += 1; candidate = "\(base)_\(k)" }
        usedNames.insert(candidate)
        return candidate
    }

    /// A node name not used before (node names are a separate namespace from values).
    func uniqueNodeName(_ base: String) -> String {
        var candidate = base, k = 1
        while usedNodeNames.contains(candidate) { k += 1; candidate = "\(base)_\(k)" }
        usedNodeNames.insert(candidate)
        return candidate
    }

    /// Declares that `tensor` is the graph value `name` (the graph input, or a node output).
    func bind(_ tensor: Tensor, to name: String) {
        names[ObjectIdentifier(tensor)] = name
    }

    /// The state-dict key of a parameter or buffer, nil for other tensors.
    func parameterKey(_ tensor: Tensor) -> String? { parameterKeys[ObjectIdentifier(tensor)] }

    /// The value name of `tensor`; a tensor not produced in the graph becomes an initializer
    /// (under its checkpoint key, or as a numbered constant).
    func name(of tensor: Tensor) -> String {
        let id = ObjectIdentifier(tensor)
        if let existing = names[id] { return existing }
        let name = unique(parameterKeys[id] ?? "const")
        initializers.append(Self.floatTensor(name: name, shape: tensor.shape, values: tensor.data))
        names[id] = name
        return name
    }

    /// A new float initializer holding `values`.
    func constant(_ values: [Float], shape: [Int], hint: String) -> String {
        let name = unique(hint)
        initializers.append(Self.floatTensor(name: name, shape: shape, values: values))
        return name
    }

    /// A new int64 initializer (shapes for Reshape).
    func int64Constant(_ values: [Int64], hint: String) -> String {
        let name = unique(hint)
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = [Int64(values.count)]
        t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        t.int64Data = values
        initializers.append(t)
        return name
    }

    /// Appends a node named `name` with one output (named `output`, or the node's name).
    @discardableResult
    func node(_ opType: String, _ inputs: [String], name: String, output: String? = nil,
              attributes: [Onnx_AttributeProto] = []) -> String {
        let outputName = output ?? unique(name)
        var n = Onnx_NodeProto()
        n.opType = opType
        n.name = name
        n.input = inputs
        n.output = [outputName]
        n.attribute = attributes
        nodes.append(n)
        return outputName
    }

    static func floatTensor(name: String, shape: [Int], values: [Float]) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = shape.map(Int64.init)
        t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        // raw_data is little-endian IEEE 754, as Float is in memory on every platform Swift targets here.
        t.rawData = values.withUnsafeBufferPointer { Data(buffer: $0) }
        return t
    }
}

extension Onnx_AttributeProto {
    static func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = values.map(Int64.init)
        return a
    }

    static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = Int64(value)
        return a
    }

    static func float(_ name: String, _ value: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .float
        a.f = value
        return a
    }
}
