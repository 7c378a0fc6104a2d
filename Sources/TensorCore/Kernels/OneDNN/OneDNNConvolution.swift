import CDNNL

/// One convolution shape on oneDNN: its forward, backward-data and backward-weights primitives
/// and the reorders between Magpie's plain arrays (NCHW activations, OIHW weights, fp32) and the
/// layouts and data types the primitives chose. Built once per shape and options (see
/// `OneDNNConvolutionCache`), so a steady-state training step creates no primitive.
///
/// Inputs arrive in any `TensorLayout` and are reordered only when the primitive wants another
/// layout or data type. Training convolutions return their output blocked when the primitive
/// writes it so (`blocked16`, or `blocked16BF16` under bf16 precision) and the input gradient in
/// the input's gradient layout, so the next op reads them as they are; inference returns plain
/// fp32 arrays. Gradients are always fp32.
final class OneDNNConvolution: @unchecked Sendable {
    struct Key: Hashable {
        let geometry: ConvGeometry
        let algorithm: ConvolutionOptions.Algorithm
        let precision: ConvolutionOptions.Precision
        let hasBias: Bool
        /// Training builds the backward primitives too.
        let training: Bool
        /// Inference with an eval-mode BatchNorm folded in: `activation(y·scale + shift)` as
        /// oneDNN post-ops, with this negative slope (0 ReLU, 1 none). nil: no epilogue.
        var epilogueSlope: Float? = nil
    }

    let geometry: ConvGeometry
    /// True when the forward primitive is Winograd.
    let isWinograd: Bool
    /// True when the forward primitive applies the key's epilogue itself (post-ops).
    let fusesEpilogue: Bool
    private let forwardPrimitive: OneDNNPrimitive
    private let backwardData: OneDNNPrimitive?
    private let backwardWeights: OneDNNPrimitive?

    private let sourceDims: [Int], destinationDims: [Int]
    private let userWeights: dnnl_memory_desc_t
    private let userBias: dnnl_memory_desc_t
    /// [1, K, 1, 1]: the per-channel scale and shift operands of the epilogue post-ops.
    private let perChannel: dnnl_memory_desc_t

    /// The layout `forward` writes: `blocked16` (or `blocked16BF16`) for a training convolution
    /// whose primitive writes nChw16c, else plain.
    private(set) var outputLayout = TensorLayout.plain
    /// The blocked layout the forward primitive reads its input in, when it is one (training).
    private(set) var inputLayout: TensorLayout?

    /// The implementations oneDNN picked (forward, backward data, backward weights).
    var implementations: [String] {
        [forwardPrimitive, backwardData, backwardWeights].compactMap { $0?.implementation }
    }

    init?(_ key: Key) {
        let g = key.geometry
        geometry = g
        let srcDims = [g.n, g.c, g.h, g.w], dstDims = [g.n, g.k, g.oh, g.ow]
        let weightDims = Self.weightDims(g)
        (sourceDims, destinationDims) = (srcDims, dstDims)
        userWeights = OneDNN.plain(weightDims, dnnl_f32)
        userBias = OneDNN.plain([g.k], dnnl_f32)
        let perChannel = OneDNN.plain([1, g.k, 1, 1], dnnl_f32)
        self.perChannel = perChannel
        let shape = Shape(g)
        let (f32, any) = (dnnl_f32, OneDNN.any)

        for (alg, low, plainLayout) in Self.candidates(key) {
            // Forward: inputs and weights in `low`; the output fp32, or bf16 in bf16 training (the
            // next op reads it as it is, as autocast does).
            let act: ([Int], dnnl_data_type_t) -> dnnl_memory_desc_t = plainLayout ? OneDNN.plain : any
            let outputType = key.training && !plainLayout && low == dnnl_bf16 ? low : f32
            var src = act(srcDims, low), wei = any(weightDims, low), dst = act(dstDims, outputType), bias = userBias
            var desc = dnnl_convolution_desc_t()
            let status = withUnsafeMutablePointer(to: &bias) { biasPointer in
                shape.withArrays { s, d, l, r in
                    dnnl_dilated_convolution_forward_desc_init(
                        &desc, key.training ? dnnl_forward_training : dnnl_forward_inference, alg,
                        &src, &wei, key.hasBias ? biasPointer : nil, &dst, s, d, l, r)
                }
            }
            guard status == dnnl_success else { continue }
            // The epilogue as post-ops where this implementation takes them, else (nil) in Swift.
            // Not on the plain layout: oneDNN's GEMM convolution applies binary post-ops element
            // by element, many times slower than the Swift epilogue.
            let fused = plainLayout ? nil : key.epilogueSlope.flatMap { OneDNNPrimitive.make(&desc, attributes: Self.epilogueAttributes(perChannel, $0)) }
            guard let forward = fused ?? OneDNNPrimitive.make(&desc) else { continue }
            guard key.training else {
                (forwardPrimitive, backwardData, backwardWeights) = (forward, nil, nil)
                fusesEpilogue = fused != nil
                isWinograd = alg == dnnl_convolution_winograd
                return
            }
            // Backward: the output gradient in `low`, the gradients fp32.
            // (The descriptors are read, not written: `src` and `diffDst` serve both passes.)
            var diffSrc = act(srcDims, f32), diffDst = act(dstDims, low), diffWei = any(weightDims, f32)
            var dataDesc = dnnl_convolution_desc_t(), weightsDesc = dnnl_convolution_desc_t()
            let described = shape.withArrays { s, d, l, r in
                dnnl_dilated_convolution_backward_data_desc_init(&dataDesc, alg, &diffSrc, &wei, &diffDst, s, d, l, r)
                    == dnnl_success
                && dnnl_dilated_convolution_backward_weights_desc_init(&weightsDesc, alg, &src, &diffWei, nil,
                                                                       &diffDst, s, d, l, r) == dnnl_success
            }
            guard described, let bd = OneDNNPrimitive.make(&dataDesc, hint: forward),
                  let bw = OneDNNPrimitive.make(&weightsDesc, hint: forward) else { continue }
            (forwardPrimitive, backwardData, backwardWeights) = (forward, bd, bw)
            fusesEpilogue = fused != nil
            isWinograd = alg == dnnl_convolution_winograd
            outputLayout = Self.blockedLayout(of: forward.layout(dnnl_query_dst_md), dstDims) ?? .plain
            inputLayout = Self.blockedLayout(of: forward.layout(dnnl_query_src_md), srcDims)
            return
        }
        return nil
    }

    /// The (algorithm, product data type, plain layout) choices to try, best first.
    ///
    /// `auto` picks from measurements of this project's layer shapes (`magpie bench conv`, fp32
    /// Winograd against direct fp32 and direct bf16, forward and both backward passes):
    /// Winograd beat direct fp32 on every 3×3 stride-1 layer down to 512 channels at 7×7, batch
    /// 16. There is no bf16 Winograd in oneDNN. In bf16 inference fp32 Winograd still wins once a
    /// layer has about 4,096 output pixels per batch; bf16 training does not take it: its
    /// activations are bf16 (`TensorLayout.blocked16BF16`), which direct bf16 kernels read and
    /// write as they are, and whole WRN-28-2 steps ran 11 % faster without Winograd (ResNet-18
    /// and -50 level, with less memory).
    ///
    /// Pointwise convolutions (1×1, stride 1) in inference run on Magpie's own NCHW arrays: oneDNN
    /// then uses its GEMM kernel and the reorders in and out vanish (faster at batch 1, less
    /// memory). In training they take the blocked layout like every other convolution, since
    /// their neighbours' activations arrive in it.
    static func candidates(_ key: Key) -> [(dnnl_alg_kind_t, dnnl_data_type_t, Bool)] {
        let g = key.geometry
        let low = key.precision == .bf16 ? dnnl_bf16 : dnnl_f32
        if g.isPointwise {
            let blocked = [(dnnl_convolution_direct, low, false)], plain = [(dnnl_convolution_direct, low, true)]
            return key.training && g.c % 16 == 0 && g.k % 16 == 0 ? blocked + plain : plain + blocked
        }
        let direct = [(dnnl_convolution_direct, low, false)]
        guard winogradShape(g) else { return direct }
        let pixels = g.n * g.oh * g.ow
        switch key.algorithm {
        case .direct: return direct
        case .winograd: return [(dnnl_convolution_winograd, dnnl_f32, false)] + direct
        case .auto:
            let pays = key.precision == .bf16 ? !key.training && pixels >= 4096 : pixels >= 256
            return pays ? [(dnnl_convolution_winograd, dnnl_f32, false)] + direct : direct
        }
    }

    /// Post-ops for `activation(y·scale + shift)` with per-channel scale and shift operands.
    private static func epilogueAttributes(_ perChannel: dnnl_memory_desc_t, _ slope: Float) -> dnnl_primitive_attr_t {
        let attr = OneDNNPrimitive.makeAttributes()
        var ops: dnnl_post_ops_t?
        OneDNN.check(dnnl_post_ops_create(&ops), "post-ops creation")
        defer { dnnl_post_ops_destroy(ops) }
        var perChannel = perChannel
        OneDNN.check(dnnl_post_ops_append_binary(ops, dnnl_binary_mul, &perChannel), "scale post-op")
        OneDNN.check(dnnl_post_ops_append_binary(ops, dnnl_binary_add, &perChannel), "shift post-op")
        if slope != 1 { OneDNN.check(dnnl_post_ops_append_eltwise(ops, 1, dnnl_eltwise_relu, slope, 0), "activation post-op") }
        OneDNN.check(dnnl_primitive_attr_set_post_ops(attr, ops), "post-ops")
        return attr
    }

    /// oneDNN's weight dimensions: OIHW, or GOIHW for groups (the same memory as Magpie's
    /// `[K, C/groups, kh, kw]` array).
    static func weightDims(_ g: ConvGeometry) -> [Int] {
        g.groups == 1 ? [g.k, g.c, g.kernel.h, g.kernel.w] : [g.groups, g.kg, g.cg, g.kernel.h, g.kernel.w]
    }

    /// Strides, dilations (oneDNN counts the gaps: PyTorch's dilation − 1) and paddings.
    struct Shape {
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

    /// Whether oneDNN builds a bf16 convolution on this CPU (probed once on a tiny shape).
    static let supportsBF16: Bool = {
        guard OneDNN.engine != nil else { return false }
        let g = ConvGeometry(input: [1, 16, 8, 8], outChannels: 16, kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1)
        return OneDNNConvolution(Key(geometry: g, algorithm: .direct, precision: .bf16, hasBias: false, training: true)) != nil
    }()

    // MARK: - Execution

    /// y = conv(x, weight) + bias, then the epilogue when given: x laid out as `xLayout`, y as
    /// `outputLayout`, fp32; weight and bias plain. (Backward reorders the input again: keeping
    /// the reordered copy saved no measurable time and raised peak memory.)
    func forward(x: UnsafePointer<Float>, xLayout: TensorLayout = .plain, weight: [Float], bias: UnsafePointer<Float>?,
                 epilogue: (scale: UnsafePointer<Float>, shift: UnsafePointer<Float>)? = nil,
                 y: UnsafeMutablePointer<Float>) {
        let p = forwardPrimitive
        OneDNN.withStream { s in
            let src = stage(x, source(xLayout), p.layout(dnnl_query_src_md), s)
            let wei = weight.withUnsafeBufferPointer { w in
                let stageWeights = { self.stage(w.baseAddress!, self.userWeights, p.layout(dnnl_query_weights_md), s) }
                // Training reorders the weights every step (they change); inference keeps them.
                return backwardWeights == nil ? inferenceWeights.staged(weight, stageWeights) : stageWeights()
            }
            producing(y, destination(outputLayout), p.layout(dnnl_query_dst_md), s) { dst in
                src.withMemory { srcMemory in
                    wei.withMemory { weiMemory in
                        var args = [(DNNL_ARG_SRC, srcMemory), (DNNL_ARG_WEIGHTS, weiMemory), (DNNL_ARG_DST, dst)]
                        let operands = [bias.map { (DNNL_ARG_BIAS, userBias, $0) },
                                        epilogue.map { (Self.postOpOperand(0), perChannel, $0.scale) },
                                        epilogue.map { (Self.postOpOperand(1), perChannel, $0.shift) }].compactMap { $0 }
                        OneDNN.withMemories(operands) { memories in p.execute(s, args + memories) }
                    }
                }
            }
        }
    }

    /// The gradients of Σ y·gy: the input's into `gx` (laid out as `gxLayout`), the weight's
    /// into `gw` (each when given). x is laid out as `xLayout`, gy as `outputLayout.gradientLayout`.
    func backward(x: UnsafePointer<Float>, xLayout: TensorLayout = .plain, weight: UnsafePointer<Float>,
                  gy: UnsafePointer<Float>, gx: UnsafeMutablePointer<Float>?, gxLayout: TensorLayout = .plain,
                  gw: UnsafeMutablePointer<Float>?) {
        let bd = backwardData!, bw = backwardWeights!
        let userGy = destination(outputLayout.gradientLayout)
        OneDNN.withStream { s in
            // Both passes usually read the output gradient in the same layout: reorder it once.
            var dy = stage(gy, userGy, (gx != nil ? bd : bw).layout(dnnl_query_diff_dst_md), s)
            if let gx {
                let wei = stage(weight, userWeights, bd.layout(dnnl_query_weights_md), s)
                producing(gx, source(gxLayout), bd.layout(dnnl_query_diff_src_md), s) { dx in
                    dy.withMemory { dyMemory in
                        wei.withMemory { weiMemory in
                            bd.execute(s, [(DNNL_ARG_DIFF_DST, dyMemory), (DNNL_ARG_WEIGHTS, weiMemory), (DNNL_ARG_DIFF_SRC, dx)])
                        }
                    }
                }
            }
            guard let gw else { return }
            if !OneDNN.equal(dy.layout, bw.layout(dnnl_query_diff_dst_md)) {
                dy = stage(gy, userGy, bw.layout(dnnl_query_diff_dst_md), s)
            }
            let src = stage(x, source(xLayout), bw.layout(dnnl_query_src_md), s)
            producing(gw, userWeights, bw.layout(dnnl_query_diff_weights_md), s) { dw in
                src.withMemory { srcMemory in
                    dy.withMemory { dyMemory in
                        bw.execute(s, [(DNNL_ARG_SRC, srcMemory), (DNNL_ARG_DIFF_DST, dyMemory), (DNNL_ARG_DIFF_WEIGHTS, dw)])
                    }
                }
            }
        }
    }

    /// The `TensorLayout` that `md` (for `dims`) is, when it is a blocked one.
    private static func blockedLayout(of md: dnnl_memory_desc_t, _ dims: [Int]) -> TensorLayout? {
        guard TensorLayout.canBlock(dims) else { return nil }
        return [TensorLayout.blocked16, .blocked16BF16].first { OneDNN.equal(md, OneDNN.descriptor(dims, $0)) }
    }

    /// Input and output arrays laid out as `layout`.
    private func source(_ layout: TensorLayout) -> dnnl_memory_desc_t { OneDNN.descriptor(sourceDims, layout) }
    private func destination(_ layout: TensorLayout) -> dnnl_memory_desc_t { OneDNN.descriptor(destinationDims, layout) }

    /// The argument id of post-op `index`'s second operand (DNNL_ARG_ATTR_MULTIPLE_POST_OP(index) | DNNL_ARG_SRC_1).
    private static func postOpOperand(_ index: Int32) -> Int32 {
        DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE * (index + 1) | DNNL_ARG_SRC_1
    }

    /// `pointer` (laid out as `user`) in the layout `wanted`: the array itself when the layouts
    /// agree, else a reordered copy.
    private func stage<T>(_ pointer: UnsafePointer<T>, _ user: dnnl_memory_desc_t, _ wanted: dnnl_memory_desc_t,
                          _ stream: dnnl_stream_t) -> OneDNNBuffer {
        guard let reorder = reorders.reorder(from: user, to: wanted) else {
            return OneDNNBuffer(borrowing: UnsafeRawPointer(pointer), layout: user)
        }
        let copy = OneDNNBuffer(layout: wanted)
        reorder.reorder(stream, pointer, user, into: copy.pointer, wanted)
        return copy
    }

    /// `body` gets a memory object in the primitive's layout `produced`; its contents end up in
    /// `pointer` in the plain layout `user` (written directly when the layouts agree).
    private func producing<T>(_ pointer: UnsafeMutablePointer<T>, _ user: dnnl_memory_desc_t, _ produced: dnnl_memory_desc_t,
                              _ stream: dnnl_stream_t, _ body: (dnnl_memory_t) -> Void) {
        guard let reorder = reorders.reorder(from: produced, to: user) else {
            return OneDNN.withMemory(user, pointer, body)
        }
        let buffer = OneDNNBuffer(layout: produced)
        buffer.withMemory(body)
        reorder.reorder(stream, buffer.pointer, produced, into: pointer, user)
    }

    private let reorders = OneDNNReorderCache()
    private let inferenceWeights = OneDNNWeightCache()
}

/// Memory in one oneDNN layout: a 64-byte-aligned copy this object owns, or a borrowed array.
final class OneDNNBuffer: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    let layout: dnnl_memory_desc_t
    /// True when this object allocated the memory (a reordered copy).
    let isCopy: Bool

    init(layout: dnnl_memory_desc_t) {
        self.layout = layout
        pointer = .allocate(byteCount: Swift.max(OneDNN.byteCount(layout), 64), alignment: 64)
        isCopy = true
    }

    init(borrowing pointer: UnsafeRawPointer, layout: dnnl_memory_desc_t) {
        self.pointer = UnsafeMutableRawPointer(mutating: pointer)
        self.layout = layout
        isCopy = false
    }

    deinit { if isCopy { pointer.deallocate() } }

    func withMemory<R>(_ body: (dnnl_memory_t) -> R) -> R { OneDNN.withMemory(layout, pointer, body) }
}
