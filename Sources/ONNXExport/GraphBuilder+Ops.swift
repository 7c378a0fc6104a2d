import TensorCore

/// One traced op → ONNX nodes (opset 17).
extension GraphBuilder {
    /// Emits the nodes computing `node`, naming the final value `output` (a fresh name when nil),
    /// and returns that value's name. `gemmBias` is a Linear bias fused into the Gemm of a matmul.
    func emit(_ node: OpTrace.Node, output: String?, gemmBias: Tensor? = nil) throws -> String {
        let x = { (i: Int) -> String in node.inputs[i].map { self.name(of: $0) } ?? "" }
        let base = { (opType: String) -> String in self.uniqueNodeName(self.nodeName(node, opType)) }
        func simple(_ opType: String, _ inputs: [String], _ attributes: [Onnx_AttributeProto] = []) -> String {
            let name = base(opType)
            return self.node(opType, inputs, name: name, output: output ?? unique(name), attributes: attributes)
        }
        func scalar(_ value: Float) -> String { constant([value], shape: [], hint: "const") }

        switch node.op {
        case let .conv2d(stride, padding, dilation, groups):
            let w = node.inputs[1]!
            return simple("Conv", [x(0), x(1)] + (node.inputs[2] == nil ? [] : [x(2)]), [
                .ints("kernel_shape", [w.shape[2], w.shape[3]]), .ints("strides", [stride.h, stride.w]),
                .ints("pads", [padding.h, padding.w, padding.h, padding.w]),
                .ints("dilations", [dilation.h, dilation.w]), .int("group", groups),
            ])

        case let .batchNorm(eps, training):
            guard !training else {
                throw ONNXExportError.unsupportedOp("batch_norm", detail: "traced in training mode; export runs the model in eval mode")
            }
            guard node.inputs[3] != nil, node.inputs[4] != nil else {
                throw ONNXExportError.unsupportedOp("batch_norm", detail: "BN without running statistics has no inference form")
            }
            let c = node.output.shape[1]
            let scale = node.inputs[1] == nil ? constant(.init(repeating: 1, count: c), shape: [c], hint: "const") : x(1)
            let shift = node.inputs[2] == nil ? constant(.init(repeating: 0, count: c), shape: [c], hint: "const") : x(2)
            return simple("BatchNormalization", [x(0), scale, shift, x(3), x(4)], [.float("epsilon", eps)])

        case let .matmul(transposeA, transposeB):
            let (a, b) = (node.inputs[0]!, node.inputs[1]!)
            guard a.rank == 2, b.rank == 2 else {
                throw ONNXExportError.unsupportedOp("matmul", detail: "only 2-D operands are mapped (got \(a.shape) and \(b.shape))")
            }
            var inputs = [x(0), x(1)]
            if let gemmBias { inputs.append(name(of: gemmBias)) }
            return simple("Gemm", inputs, [.int("transA", transposeA ? 1 : 0), .int("transB", transposeB ? 1 : 0)])

        case .add: return simple("Add", [x(0), x(1)])
        case .sub: return simple("Sub", [x(0), x(1)])
        case .mul: return simple("Mul", [x(0), x(1)])
        case .div: return simple("Div", [x(0), x(1)])
        case .maximum: return simple("Max", [x(0), x(1)])
        case .minimum: return simple("Min", [x(0), x(1)])
        case let .addScalar(s): return simple("Add", [x(0), scalar(s)])
        // Paddle's downscale_in_infer dropout arrives here as x·(1−p).
        case let .mulScalar(s): return simple("Mul", [x(0), scalar(s)])
        case let .rsubScalar(s): return simple("Sub", [scalar(s), x(0)])
        case let .rdivScalar(s): return simple("Div", [scalar(s), x(0)])
        case let .pow(p): return simple("Pow", [x(0), scalar(p)])
        case .square: return simple("Mul", [x(0), x(0)])
        case let .clamp(low, high):
            // An omitted optional input ("") means no bound.
            let lo = low.isFinite ? scalar(low) : "", hi = high.isFinite ? scalar(high) : ""
            return simple("Clip", hi.isEmpty ? [x(0), lo] : [x(0), lo, hi])
        case .relu6: return simple("Clip", [x(0), scalar(0), scalar(6)])

        case .neg: return simple("Neg", [x(0)])
        case .exp: return simple("Exp", [x(0)])
        case .log: return simple("Log", [x(0)])
        case .sqrt: return simple("Sqrt", [x(0)])
        case .abs: return simple("Abs", [x(0)])
        case .relu: return simple("Relu", [x(0)])
        case .sigmoid: return simple("Sigmoid", [x(0)])
        case .tanh: return simple("Tanh", [x(0)])
        case .hardSwish: return simple("HardSwish", [x(0)])
        case let .leakyRelu(slope): return simple("LeakyRelu", [x(0)], [.float("alpha", slope)])
        // ONNX: max(0, min(1, alpha·x + beta)); PyTorch's slope is 1/6, Paddle's 0.2.
        case let .hardSigmoid(slope, offset):
            return simple("HardSigmoid", [x(0)], [.float("alpha", slope), .float("beta", offset)])

        case let .maxPool2d(kernel, stride, padding, dilation, ceilMode):
            return simple("MaxPool", [x(0)], [
                .ints("kernel_shape", [kernel.h, kernel.w]), .ints("strides", [stride.h, stride.w]),
                .ints("pads", [padding.h, padding.w, padding.h, padding.w]),
                .ints("dilations", [dilation.h, dilation.w]), .int("ceil_mode", ceilMode ? 1 : 0),
            ])
        case let .avgPool2d(kernel, stride, padding, ceilMode, countIncludePad):
            return simple("AveragePool", [x(0)], [
                .ints("kernel_shape", [kernel.h, kernel.w]), .ints("strides", [stride.h, stride.w]),
                .ints("pads", [padding.h, padding.w, padding.h, padding.w]),
                .int("ceil_mode", ceilMode ? 1 : 0), .int("count_include_pad", countIncludePad ? 1 : 0),
            ])
        case let .adaptiveAvgPool2d(size), let .adaptiveMaxPool2d(size):
            let isMax: Bool
            if case .adaptiveMaxPool2d = node.op { isMax = true } else { isMax = false }
            if size == Size2(1) { return simple(isMax ? "GlobalMaxPool" : "GlobalAveragePool", [x(0)]) }
            // Exactly divisible sizes are plain pooling with kernel = stride = input / output.
            let (h, w) = (node.inputs[0]!.shape[2], node.inputs[0]!.shape[3])
            guard h % size.h == 0, w % size.w == 0 else {
                throw ONNXExportError.unsupportedOp(isMax ? "adaptive_max_pool2d" : "adaptive_avg_pool2d",
                                                    detail: "output \(size) does not divide the input \(h)×\(w)")
            }
            let k = [h / size.h, w / size.w]
            return simple(isMax ? "MaxPool" : "AveragePool", [x(0)], [.ints("kernel_shape", k), .ints("strides", k)])

        case .flatten(startAxis: 1):
            return simple("Flatten", [x(0)], [.int("axis", 1)])
        case .flatten, .reshape:
            // Batch-dependent sizes live in the leading dimension of every reshape the zoo performs.
            let target = [Int64(-1)] + node.output.shape.dropFirst().map(Int64.init)
            return simple("Reshape", [x(0), int64Constant(target, hint: "shape")])

        case let .pad(p):
            // ONNX pads: all starts (N, C, H, W), then all ends.
            let pads = [0, 0, p.top, p.left, 0, 0, p.bottom, p.right].map(Int64.init)
            return simple("Pad", [x(0), int64Constant(pads, hint: "pads")])

        case .softmax: return simple("Softmax", [x(0)], [.int("axis", -1)])
        case .logSoftmax: return simple("LogSoftmax", [x(0)], [.int("axis", -1)])
        case let .l2Normalize(eps):
            // x / max(‖x‖₂, eps) over the last axis, as F.normalize (LpNormalization has no eps).
            let norm = self.node("ReduceL2", [x(0)], name: uniqueNodeName("ReduceL2"),
                                 attributes: [.ints("axes", [-1]), .int("keepdims", 1)])
            let clamped = self.node("Max", [norm, scalar(eps)], name: uniqueNodeName("Max"))
            return simple("Div", [x(0), clamped])

        case let .other(name):
            throw ONNXExportError.unsupportedOp(name, detail: "no ONNX mapping; add a typed TracedOp case and its emitter")
        }
    }

    /// The module path of the op's first parameter ("layer1.0.conv1" for its weight), else the op type.
    private func nodeName(_ node: OpTrace.Node, _ opType: String) -> String {
        for case let t? in node.inputs.dropFirst() {
            if let key = parameterKey(t), let dot = key.lastIndex(of: ".") { return String(key[..<dot]) }
        }
        return opType
    }
}
