import CDNNL

/// oneDNN primitives for the inference graph's steps: convolution with post-ops, pooling,
/// elementwise and binary ops. Each takes the layouts of its operands as they are and returns
/// nil where oneDNN has no implementation, so the graph falls back to another form.
enum GraphPrimitives {
    /// One oneDNN elementwise function: `alg` with its alpha and beta.
    struct Eltwise: Equatable {
        let alg: dnnl_alg_kind_t
        let alpha, beta: Float
    }

    /// The elementwise functions an activation op amounts to (hard sigmoid is two), or nil.
    static func eltwise(_ op: TracedOp) -> [Eltwise]? {
        let big = Float.greatestFiniteMagnitude
        switch op {
        case .relu: return [Eltwise(alg: dnnl_eltwise_relu, alpha: 0, beta: 0)]
        case let .leakyRelu(slope): return [Eltwise(alg: dnnl_eltwise_relu, alpha: slope, beta: 0)]
        case .relu6: return [Eltwise(alg: dnnl_eltwise_clip, alpha: 0, beta: 6)]
        case let .clamp(low, high):
            return [Eltwise(alg: dnnl_eltwise_clip, alpha: low.isFinite ? low : -big, beta: high.isFinite ? high : big)]
        case .sigmoid: return [Eltwise(alg: dnnl_eltwise_logistic, alpha: 0, beta: 0)]
        case .tanh: return [Eltwise(alg: dnnl_eltwise_tanh, alpha: 0, beta: 0)]
        case .hardSwish: return [Eltwise(alg: dnnl_eltwise_hardswish, alpha: 0, beta: 0)]
        case let .hardSigmoid(slope, offset):
            return [Eltwise(alg: dnnl_eltwise_linear, alpha: slope, beta: offset), Eltwise(alg: dnnl_eltwise_clip, alpha: 0, beta: 1)]
        case let .mulScalar(s): return [Eltwise(alg: dnnl_eltwise_linear, alpha: s, beta: 0)]
        case let .addScalar(s): return [Eltwise(alg: dnnl_eltwise_linear, alpha: 1, beta: s)]
        default: return nil
        }
    }

    /// A convolution reading `source` and writing `destination` (either may be `format_tag_any`),
    /// with an optional sum into the destination's previous contents and elementwise post-ops.
    static func convolution(_ g: ConvGeometry, algorithm: dnnl_alg_kind_t, source: dnnl_memory_desc_t,
                            weightType: dnnl_data_type_t, hasBias: Bool, destination: dnnl_memory_desc_t,
                            sum: Bool, activations: [Eltwise]) -> OneDNNPrimitive? {
        let weightDims = OneDNNConvolution.weightDims(g)
        var (src, dst) = (source, destination)
        var wei = OneDNN.any(weightDims, weightType), bias = OneDNN.plain([g.k], dnnl_f32)
        var desc = dnnl_convolution_desc_t()
        let status = withUnsafeMutablePointer(to: &bias) { biasPointer in
            OneDNNConvolution.Shape(g).withArrays { strides, dilations, padLeft, padRight in
                dnnl_dilated_convolution_forward_desc_init(&desc, dnnl_forward_inference, algorithm, &src, &wei,
                                                           hasBias ? biasPointer : nil, &dst, strides, dilations, padLeft, padRight)
            }
        }
        guard status == dnnl_success else { return nil }
        return OneDNNPrimitive.make(&desc, attributes: postOps(sum: sum, activations))
    }

    /// Pooling from `source` into a destination of the same layout family and type.
    static func pooling(_ alg: dnnl_alg_kind_t, source: dnnl_memory_desc_t, output: [Int], kernel: Size2, stride: Size2,
                        padding: Size2, dilation: Size2) -> OneDNNPrimitive? {
        var src = source
        var dst = OneDNN.any(output, source.data_type)
        let (h, w) = (Int(source.dims.2), Int(source.dims.3))
        let padRight = [Int64((output[2] - 1) * stride.h + (kernel.h - 1) * dilation.h + 1 - h - padding.h),
                        Int64((output[3] - 1) * stride.w + (kernel.w - 1) * dilation.w + 1 - w - padding.w)]
        var desc = dnnl_pooling_v2_desc_t()
        guard dnnl_pooling_v2_forward_desc_init(
            &desc, dnnl_forward_inference, alg, &src, &dst, [Int64(stride.h), Int64(stride.w)],
            [Int64(kernel.h), Int64(kernel.w)], [Int64(dilation.h - 1), Int64(dilation.w - 1)],
            [Int64(padding.h), Int64(padding.w)], padRight) == dnnl_success else { return nil }
        return OneDNNPrimitive.make(&desc)
    }

    /// Eval-mode batch normalisation over `data` with the running statistics and per-channel
    /// scale and shift as operands, and `activations` after it (ReLU fused by a flag, others as
    /// post-ops).
    static func batchNorm(data: dnnl_memory_desc_t, eps: Float, activations: [Eltwise]) -> OneDNNPrimitive? {
        var md = data
        var desc = dnnl_batch_normalization_desc_t()
        let relu = activations == [Eltwise(alg: dnnl_eltwise_relu, alpha: 0, beta: 0)]
        let flags = dnnl_use_global_stats.rawValue | dnnl_use_scale.rawValue | dnnl_use_shift.rawValue
            | (relu ? dnnl_fuse_norm_relu.rawValue : 0)
        guard dnnl_batch_normalization_forward_desc_init(&desc, dnnl_forward_inference, &md, eps, UInt32(flags))
                == dnnl_success else { return nil }
        return OneDNNPrimitive.make(&desc, attributes: postOps(sum: false, relu ? [] : activations))
    }

    /// An elementwise function over `data` (output in the same layout), with the rest as post-ops.
    static func eltwise(_ functions: [Eltwise], data: dnnl_memory_desc_t) -> OneDNNPrimitive? {
        guard let first = functions.first else { return nil }
        var md = data
        var desc = dnnl_eltwise_desc_t()
        guard dnnl_eltwise_forward_desc_init(&desc, dnnl_forward_inference, first.alg, &md, first.alpha, first.beta)
                == dnnl_success else { return nil }
        return OneDNNPrimitive.make(&desc, attributes: postOps(sum: false, Array(functions.dropFirst())))
    }

    /// `a op b` with `b` broadcast over `a`'s shape; the output takes `a`'s layout.
    static func binary(_ alg: dnnl_alg_kind_t, _ a: dnnl_memory_desc_t, _ b: dnnl_memory_desc_t,
                       activations: [Eltwise]) -> OneDNNPrimitive? {
        var (src0, src1, dst) = (a, b, a)
        var desc = dnnl_binary_desc_t()
        guard dnnl_binary_desc_init(&desc, alg, &src0, &src1, &dst) == dnnl_success else { return nil }
        return OneDNNPrimitive.make(&desc, attributes: postOps(sum: false, activations))
    }

    /// A reorder between layouts (and types).
    static func reorder(from: dnnl_memory_desc_t, to: dnnl_memory_desc_t) -> OneDNNPrimitive {
        OneDNNPrimitive.copying(from: from, to: to)
    }

    private static func postOps(sum: Bool, _ activations: [Eltwise]) -> dnnl_primitive_attr_t {
        let attr = OneDNNPrimitive.makeAttributes()
        guard sum || !activations.isEmpty else { return attr }
        var ops: dnnl_post_ops_t?
        OneDNN.check(dnnl_post_ops_create(&ops), "post-ops creation")
        defer { dnnl_post_ops_destroy(ops) }
        if sum { OneDNN.check(dnnl_post_ops_append_sum(ops, 1), "sum post-op") }
        for f in activations {
            OneDNN.check(dnnl_post_ops_append_eltwise(ops, 1, f.alg, f.alpha, f.beta), "eltwise post-op")
        }
        OneDNN.check(dnnl_primitive_attr_set_post_ops(attr, ops), "post-ops")
        return attr
    }
}
