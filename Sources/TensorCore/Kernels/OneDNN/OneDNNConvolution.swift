import CDNNL

/// One convolution shape on oneDNN: its forward, backward-data and backward-weights primitives
/// and the reorders between Magpie's plain arrays (NCHW activations, OIHW weights, fp32) and the
/// layouts and data types the primitives chose. Built once per shape and options (see
/// `OneDNNConvolutionCache`), so a steady-state training step creates no primitive.
///
/// Activations stay NCHW between ops: each call reorders its inputs into the primitive's blocked
/// layout and its output back. bf16 is the same reorder with a data-type change; outputs and
/// gradients are always fp32.
final class OneDNNConvolution: @unchecked Sendable {
    struct Key: Hashable {
        let geometry: ConvGeometry
        let algorithm: ConvolutionOptions.Algorithm
        let precision: ConvolutionOptions.Precision
        let hasBias: Bool
        /// Training builds the backward primitives too.
        let training: Bool
    }

    let geometry: ConvGeometry
    /// True when the forward primitive is Winograd.
    let isWinograd: Bool
    private let forwardPrimitive: OneDNNPrimitive
    private let backwardData: OneDNNPrimitive?
    private let backwardWeights: OneDNNPrimitive?

    private let userSource: dnnl_memory_desc_t
    private let userWeights: dnnl_memory_desc_t
    private let userDestination: dnnl_memory_desc_t
    private let userBias: dnnl_memory_desc_t

    /// The implementations oneDNN picked (forward, backward data, backward weights).
    var implementations: [String] {
        [forwardPrimitive, backwardData, backwardWeights].compactMap { $0?.implementation }
    }

    init?(_ key: Key) {
        let g = key.geometry
        geometry = g
        let low: dnnl_data_type_t = key.precision == .bf16 ? dnnl_bf16 : dnnl_f32
        let srcDims = [g.n, g.c, g.h, g.w], dstDims = [g.n, g.k, g.oh, g.ow]
        let weightDims = g.groups == 1 ? [g.k, g.c, g.kernel.h, g.kernel.w]
                                       : [g.groups, g.kg, g.cg, g.kernel.h, g.kernel.w]
        userSource = OneDNN.plain(srcDims, dnnl_f32)
        userWeights = OneDNN.plain(weightDims, dnnl_f32)
        userDestination = OneDNN.plain(dstDims, dnnl_f32)
        userBias = OneDNN.plain([g.k], dnnl_f32)

        let wantsWinograd = key.algorithm != .direct && key.precision == .fp32 && Self.winogradShape(g)
            && (key.algorithm == .winograd || Self.winogradPays(g))
        let shape = Shape(g)
        var forward: OneDNNPrimitive?
        var winograd = false
        for alg in wantsWinograd ? [dnnl_convolution_winograd, dnnl_convolution_direct] : [dnnl_convolution_direct] {
            var src = OneDNN.any(srcDims, low), wei = OneDNN.any(weightDims, low), dst = OneDNN.any(dstDims, dnnl_f32)
            var bias = userBias
            var desc = dnnl_convolution_desc_t()
            let status = withUnsafeMutablePointer(to: &bias) { biasPointer in
                shape.withArrays { s, d, l, r in
                    dnnl_dilated_convolution_forward_desc_init(
                        &desc, key.training ? dnnl_forward_training : dnnl_forward_inference, alg,
                        &src, &wei, key.hasBias ? biasPointer : nil, &dst, s, d, l, r)
                }
            }
            guard status == dnnl_success else { continue }
            if let p = OneDNNPrimitive.make(&desc) { forward = p; winograd = alg == dnnl_convolution_winograd; break }
        }
        guard let forward else { return nil }
        forwardPrimitive = forward
        isWinograd = winograd
        guard key.training else { backwardData = nil; backwardWeights = nil; return }

        let alg = winograd ? dnnl_convolution_winograd : dnnl_convolution_direct
        var diffSrc = OneDNN.any(srcDims, dnnl_f32), wei = OneDNN.any(weightDims, low), diffDst = OneDNN.any(dstDims, low)
        var dataDesc = dnnl_convolution_desc_t()
        _ = shape.withArrays { s, d, l, r in
            dnnl_dilated_convolution_backward_data_desc_init(&dataDesc, alg, &diffSrc, &wei, &diffDst, s, d, l, r)
        }
        var src = OneDNN.any(srcDims, low), diffWei = OneDNN.any(weightDims, dnnl_f32), diffDst2 = OneDNN.any(dstDims, low)
        var weightsDesc = dnnl_convolution_desc_t()
        _ = shape.withArrays { s, d, l, r in
            dnnl_dilated_convolution_backward_weights_desc_init(&weightsDesc, alg, &src, &diffWei, nil, &diffDst2, s, d, l, r)
        }
        guard let bd = OneDNNPrimitive.make(&dataDesc, hint: forward),
              let bw = OneDNNPrimitive.make(&weightsDesc, hint: forward) else { return nil }
        backwardData = bd
        backwardWeights = bw
    }

    /// Strides, dilations (oneDNN counts the gaps: PyTorch's dilation − 1) and paddings.
    private struct Shape {
        let strides, dilations, padLeft, padRight: [Int64]
        init(_ g: ConvGeometry) {
            strides = [Int64(g.stride.h), Int64(g.stride.w)]
            dilations = [Int64(g.dilation.h - 1), Int64(g.dilation.w - 1)]
            padLeft = [Int64(g.padding.h), Int64(g.padding.w)]
            // The right padding that makes oneDNN's output size PyTorch's (floor division).
            padRight = [Int64((g.oh - 1) * g.stride.h + (g.kernel.h - 1) * g.dilation.h + 1 - g.h - g.padding.h),
                        Int64((g.ow - 1) * g.stride.w + (g.kernel.w - 1) * g.dilation.w + 1 - g.w - g.padding.w)]
        }
        func withArrays<R>(_ body: (UnsafePointer<Int64>, UnsafePointer<Int64>, UnsafePointer<Int64>, UnsafePointer<Int64>) -> R) -> R {
            body(strides, dilations, padLeft, padRight)
        }
    }

    /// Shapes oneDNN's Winograd F(4×4, 3×3) kernel takes.
    static func winogradShape(_ g: ConvGeometry) -> Bool {
        g.kernel == Size2(3) && g.stride == Size2(1) && g.dilation == Size2(1) && g.groups == 1
            && g.c % 16 == 0 && g.k % 16 == 0
    }

    /// Whether Winograd beats direct for `auto` (measured on this project's layer shapes with
    /// `magpie bench conv`): it needs enough 4×4 output tiles to amortise its transforms.
    static func winogradPays(_ g: ConvGeometry) -> Bool {
        g.n * g.oh * g.ow >= 4096
    }

    /// Whether oneDNN builds a bf16 convolution on this CPU (probed once on a tiny shape).
    static let supportsBF16: Bool = {
        guard OneDNN.engine != nil else { return false }
        let g = ConvGeometry(input: [1, 16, 8, 8], outChannels: 16, kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1)
        return OneDNNConvolution(Key(geometry: g, algorithm: .direct, precision: .bf16, hasBias: false, training: true)) != nil
    }()

    // MARK: - Execution

    /// y = conv(x, weight) + bias, all plain fp32 arrays.
    func forward(x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                 y: UnsafeMutablePointer<Float>) {
        let p = forwardPrimitive
        OneDNN.withStream { s in
            converted(x, userSource, p.layout(dnnl_query_src_md), s) { src in
                converted(weight, userWeights, p.layout(dnnl_query_weights_md), s) { wei in
                    producing(y, userDestination, p.layout(dnnl_query_dst_md), s) { dst in
                        var args = [(DNNL_ARG_SRC, src), (DNNL_ARG_WEIGHTS, wei), (DNNL_ARG_DST, dst)]
                        if let bias {
                            OneDNN.withMemory(userBias, bias) { b in
                                args.append((DNNL_ARG_BIAS, b))
                                p.execute(s, args)
                            }
                        } else {
                            p.execute(s, args)
                        }
                    }
                }
            }
        }
    }

    /// The input gradient of Σ y·gy.
    func backwardData(gy: UnsafePointer<Float>, weight: UnsafePointer<Float>, gx: UnsafeMutablePointer<Float>) {
        let p = backwardData!
        OneDNN.withStream { s in
            converted(gy, userDestination, p.layout(dnnl_query_diff_dst_md), s) { dy in
                converted(weight, userWeights, p.layout(dnnl_query_weights_md), s) { wei in
                    producing(gx, userSource, p.layout(dnnl_query_diff_src_md), s) { dx in
                        p.execute(s, [(DNNL_ARG_DIFF_DST, dy), (DNNL_ARG_WEIGHTS, wei), (DNNL_ARG_DIFF_SRC, dx)])
                    }
                }
            }
        }
    }

    /// The weight gradient of Σ y·gy.
    func backwardWeights(x: UnsafePointer<Float>, gy: UnsafePointer<Float>, gw: UnsafeMutablePointer<Float>) {
        let p = backwardWeights!
        OneDNN.withStream { s in
            converted(x, userSource, p.layout(dnnl_query_src_md), s) { src in
                converted(gy, userDestination, p.layout(dnnl_query_diff_dst_md), s) { dy in
                    producing(gw, userWeights, p.layout(dnnl_query_diff_weights_md), s) { dw in
                        p.execute(s, [(DNNL_ARG_SRC, src), (DNNL_ARG_DIFF_DST, dy), (DNNL_ARG_DIFF_WEIGHTS, dw)])
                    }
                }
            }
        }
    }

    /// `body` gets a memory object over `pointer` in the primitive's layout `wanted`: the
    /// array itself when the layouts agree, else a reordered copy that lives for the call.
    private func converted<T>(_ pointer: UnsafePointer<T>, _ user: dnnl_memory_desc_t, _ wanted: dnnl_memory_desc_t,
                              _ stream: dnnl_stream_t, _ body: (dnnl_memory_t) -> Void) {
        guard let reorder = reorders.reorder(from: user, to: wanted) else {
            return OneDNN.withMemory(user, pointer, body)
        }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(OneDNN.byteCount(wanted), 64), alignment: 64)
        defer { buffer.deallocate() }
        reorder.reorder(stream, pointer, user, into: buffer, wanted)
        OneDNN.withMemory(wanted, buffer, body)
    }

    /// `body` gets a memory object in the primitive's layout `produced`; its contents end up in
    /// `pointer` in the plain layout `user` (written directly when the layouts agree).
    private func producing<T>(_ pointer: UnsafeMutablePointer<T>, _ user: dnnl_memory_desc_t, _ produced: dnnl_memory_desc_t,
                              _ stream: dnnl_stream_t, _ body: (dnnl_memory_t) -> Void) {
        guard let reorder = reorders.reorder(from: produced, to: user) else {
            return OneDNN.withMemory(user, pointer, body)
        }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(OneDNN.byteCount(produced), 64), alignment: 64)
        defer { buffer.deallocate() }
        OneDNN.withMemory(produced, buffer, body)
        reorder.reorder(stream, buffer, produced, into: pointer, user)
    }

    private let reorders = OneDNNReorderCache()
}
