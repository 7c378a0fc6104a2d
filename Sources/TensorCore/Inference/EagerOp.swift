/// A traced op redone by its eager function: how the inference graph runs ops it has no
/// oneDNN primitive for. Inputs are positional as traced (nil for an absent optional operand);
/// the trace ran on one image, the call gets the whole batch.
enum EagerOp {
    /// The call, or nil for an op without a typed record (`.other`).
    static func function(_ op: TracedOp) -> (([Tensor?]) -> Tensor)? {
        switch op {
        case let .conv2d(stride, padding, dilation, groups):
            return { conv2d($0[0]!, $0[1]!, bias: $0[2], stride: stride, padding: padding, dilation: dilation, groups: groups) }
        case let .batchNorm(eps, training):
            return { batchNorm($0[0]!, weight: $0[1], bias: $0[2], runningMean: $0[3], runningVar: $0[4], training: training, eps: eps) }
        case let .matmul(transposeA, transposeB):
            return { matmul($0[0]!, $0[1]!, transposeA: transposeA, transposeB: transposeB) }
        case .add: return { $0[0]! + $0[1]! }
        case .sub: return { $0[0]! - $0[1]! }
        case .mul: return { $0[0]! * $0[1]! }
        case .div: return { $0[0]! / $0[1]! }
        case .maximum: return { maximum($0[0]!, $0[1]!) }
        case .minimum: return { minimum($0[0]!, $0[1]!) }
        case let .addScalar(s): return { $0[0]! + s }
        case let .mulScalar(s): return { $0[0]! * s }
        case let .rsubScalar(s): return { s - $0[0]! }
        case let .rdivScalar(s): return { s / $0[0]! }
        case let .pow(p): return { $0[0]!.pow(p) }
        case let .clamp(low, high): return { $0[0]!.clamp(min: low, max: high) }
        case .neg: return { -$0[0]! }
        case .exp: return { $0[0]!.exp() }
        case .log: return { $0[0]!.log() }
        case .sqrt: return { $0[0]!.sqrt() }
        case .abs: return { $0[0]!.abs() }
        case .square: return { $0[0]!.square() }
        case .relu: return { $0[0]!.relu() }
        case .relu6: return { $0[0]!.relu6() }
        case .sigmoid: return { $0[0]!.sigmoid() }
        case .tanh: return { $0[0]!.tanh() }
        case .hardSwish: return { $0[0]!.hardSwish() }
        case let .leakyRelu(slope): return { $0[0]!.leakyRelu(slope) }
        case let .hardSigmoid(slope, offset): return { $0[0]!.hardSigmoid(slope: slope, offset: offset) }
        case let .maxPool2d(kernel, stride, padding, dilation, ceilMode):
            return { maxPool2d($0[0]!, kernel: kernel, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode) }
        case let .avgPool2d(kernel, stride, padding, ceilMode, countIncludePad):
            return { avgPool2d($0[0]!, kernel: kernel, stride: stride, padding: padding, ceilMode: ceilMode,
                               countIncludePad: countIncludePad) }
        case let .adaptiveAvgPool2d(size): return { adaptiveAvgPool2d($0[0]!, outputSize: size) }
        case let .adaptiveMaxPool2d(size): return { adaptiveMaxPool2d($0[0]!, outputSize: size) }
        // Traced on one image: the first dimension is the batch.
        case let .reshape(shape): return { $0[0]!.reshaped([$0[0]!.shape[0]] + shape.dropFirst()) }
        case let .pad(p): return { $0[0]!.zeroPadded(p) }
        case let .flatten(startAxis): return { $0[0]!.flattened(startAxis: startAxis) }
        case .softmax: return { $0[0]!.softmax() }
        case .logSoftmax: return { $0[0]!.logSoftmax() }
        case let .l2Normalize(eps): return { $0[0]!.l2Normalized(eps: eps) }
        case .other: return nil
        }
    }

    /// A short name for reports ("matmul", "l2Normalize").
    static func name(_ op: TracedOp) -> String {
        if case let .other(name) = op { return name }
        let text = "\(op)"
        return String(text.prefix { $0 != "(" })
    }
}
