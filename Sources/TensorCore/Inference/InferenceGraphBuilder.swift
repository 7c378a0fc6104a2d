import CDNNL

/// Turns a trace of an eval-mode forward pass into the steps of an `InferenceGraph`: which
/// primitive computes each value, in which layout, and which traced ops it absorbs.
struct InferenceGraphBuilder {
    struct Value {
        let shape: [Int]
        let desc: dnnl_memory_desc_t
    }

    enum Operand {
        case value(Int)
        case constant(OneDNNBuffer)
    }

    enum Kind: String {
        case convolution, batchNorm, pooling, eltwise, binary, reorder
    }

    enum Step {
        /// A primitive with its arguments; `aliases`: the value whose buffer it writes in place.
        case primitive(OneDNNPrimitive, [(Int32, Operand)], reads: [Int], writes: Int, aliases: Int?, kind: Kind)
        /// An eager op (its name, the call) on plain fp32 values or constant tensors.
        case eager(String, ([Tensor?]) -> Tensor, [Int?], [Tensor?], output: Int)

        var reads: [Int] {
            switch self {
            case let .primitive(_, _, reads, _, _, _): return reads
            case let .eager(_, _, inputs, _, _): return inputs.compactMap { $0 }
            }
        }
        var writes: Int {
            switch self {
            case let .primitive(_, _, _, writes, _, _): return writes
            case let .eager(_, _, _, _, output): return output
            }
        }
        var aliases: Int? {
            if case let .primitive(_, _, _, _, aliases, _) = self { return aliases }
            return nil
        }
    }

    struct Program {
        let values: [Value]
        let steps: [Step]
        let output: Int
    }

    private let nodes: [OpTrace.Node]
    private let options: ConvolutionOptions
    /// Node indices reading each tensor, in order.
    private var readers: [ObjectIdentifier: [Int]] = [:]
    private var values: [Value] = []
    private var steps: [Step] = []
    private var valueOf: [ObjectIdentifier: Int] = [:]
    /// Values already converted to another layout: (value, layout) → converted value.
    private var conversions: [(from: Int, desc: dnnl_memory_desc_t, to: Int)] = []
    /// Nodes absorbed into an earlier step.
    private var absorbed = Set<Int>()
    private var outputTensor: Tensor?

    private let workspace: InferenceWorkspace

    /// The batch the graph is for; the trace ran on one image.
    private let batch: Int

    /// `trace` ran on `input`, one image; the graph is for `batch` images.
    init(trace: OpTrace, input: Tensor, batch: Int, options: ConvolutionOptions, workspace: InferenceWorkspace) {
        nodes = trace.nodes
        self.options = options
        self.workspace = workspace
        self.batch = batch
        for (i, node) in nodes.enumerated() {
            for t in Set(node.inputs.compactMap { $0.map(ObjectIdentifier.init) }) { readers[t, default: []].append(i) }
        }
        let shape = [batch] + input.shape.dropFirst()
        values.append(Value(shape: shape, desc: OneDNN.plain(shape, dnnl_f32)))
        valueOf[ObjectIdentifier(input)] = 0
    }

    private var activationType: dnnl_data_type_t { options.precision == .bf16 ? dnnl_bf16 : dnnl_f32 }

    mutating func build(output: Tensor) throws -> Program {
        outputTensor = output
        for i in nodes.indices where !absorbed.contains(i) {
            // Ops on parameters alone are constants: their traced outputs serve as they are.
            guard nodes[i].inputs.contains(where: { $0.map { valueOf[ObjectIdentifier($0)] != nil } ?? false }) else { continue }
            try emit(i)
        }
        guard let v = valueOf[ObjectIdentifier(output)] else {
            throw TensorCoreError.unsupported("inference graph: the model's output does not depend on its input")
        }
        let out = plain(v)  // before `values` is read: it may add the conversion
        return Program(values: values, steps: steps, output: out)
    }

    // MARK: - Ops

    private mutating func emit(_ i: Int) throws {
        let node = nodes[i]
        // Every value computed from the input must keep the image index as its first dimension.
        guard node.output.shape.first == 1 else {
            throw TensorCoreError.unsupported("inference graph: op \(EagerOp.name(node.op)) gives \(node.output.shape) for one image, not [1, …]")
        }
        switch node.op {
        case .conv2d:
            if try convolution(i) { return }
        case let .maxPool2d(kernel, stride, padding, dilation, _):
            if pooling(i, dnnl_pooling_max, kernel, stride, padding, dilation) { return }
        case let .avgPool2d(kernel, stride, padding, _, countIncludePad):
            if pooling(i, countIncludePad ? dnnl_pooling_avg_include_padding : dnnl_pooling_avg_exclude_padding,
                       kernel, stride, padding, 1) { return }
        case let .adaptiveAvgPool2d(size), let .adaptiveMaxPool2d(size):
            guard let x = node.inputs[0], x.rank == 4, x.shape[2] % size.h == 0, x.shape[3] % size.w == 0 else { break }
            let isMax: Bool
            if case .adaptiveMaxPool2d = node.op { isMax = true } else { isMax = false }
            let k = Size2(x.shape[2] / size.h, x.shape[3] / size.w)
            if pooling(i, isMax ? dnnl_pooling_max : dnnl_pooling_avg_exclude_padding, k, k, 0, 1) { return }
        case .add, .sub, .mul, .div, .maximum, .minimum:
            if binary(i) { return }
        case let .batchNorm(eps, training):
            if !training, batchNorm(i, eps: eps) { return }
        default:
            if let functions = GraphPrimitives.eltwise(node.op), eltwise(i, functions) { return }
        }
        try eager(i)
    }

    /// A convolution with what follows it folded in: an eval-mode BatchNorm (into the weights
    /// and bias), then a residual add whose other operand already exists (as a `sum` post-op
    /// into that operand's buffer), then an activation (an eltwise post-op).
    private mutating func convolution(_ i: Int) throws -> Bool {
        let node = nodes[i]
        guard case let .conv2d(stride, padding, dilation, groups) = node.op,
              let x = node.inputs[0], let source = valueOf[ObjectIdentifier(x)], x.rank == 4,
              let weight = node.inputs[1], !isValue(weight), !(node.inputs[2].map(isValue) ?? false) else { return false }
        let g = ConvGeometry(input: batched(x.shape), outChannels: weight.shape[0], kernel: Size2(weight.shape[2], weight.shape[3]),
                             stride: stride, padding: padding, dilation: dilation, groups: groups)
        var tip = node.output
        var taken: [Int] = []

        // BatchNorm: folded into the weights and bias below.
        var folding: (eps: Float, gamma: Tensor?, beta: Tensor?, mean: Tensor, variance: Tensor)?
        if let j = soleReader(tip), case let .batchNorm(eps, training) = nodes[j].op, !training,
           nodes[j].inputs[0] === tip, let mean = nodes[j].inputs[3], let variance = nodes[j].inputs[4],
           !nodes[j].inputs.dropFirst().contains(where: { $0.map(isValue) ?? false }) {
            folding = (eps, nodes[j].inputs[1], nodes[j].inputs[2], mean, variance)
            taken.append(j)
            tip = nodes[j].output
        }

        // Residual add: the other operand must already be computed, with the same shape.
        var residual: (value: Int, inPlace: Bool)?
        if let j = soleReader(tip), case .add = nodes[j].op, let a = nodes[j].inputs[0], let b = nodes[j].inputs[1],
           a.shape == b.shape, !(a === b) {
            let other = a === tip ? b : a
            if let v = valueOf[ObjectIdentifier(other)] {
                // In place only when every other reader of the residual runs before this
                // convolution (which takes the add's place at node i, ahead of nodes up to j).
                let othersDone = readers[ObjectIdentifier(other)]?.allSatisfy { $0 < i || $0 == j } ?? false
                residual = (v, v != 0 && othersDone && !(other === outputTensor))
                taken.append(j)
                tip = nodes[j].output
            }
        }

        // Activation.
        var activations: [GraphPrimitives.Eltwise] = []
        if let (j, f) = followingActivation(tip) {
            activations = f
            taken.append(j)
            tip = nodes[j].output
        }

        let bias = node.inputs[2]
        guard let (primitive, destination) = makeConvolution(g, residual: residual?.value, hasBias: bias != nil || folding != nil,
                                                               activations: activations) else {
            return false
        }
        let input = converted(source, to: primitive.layout(dnnl_query_src_md))
        // Folded weights and bias (a per-channel scale and shift), made only when the workspace
        // does not hold them yet (another batch size's graph of the same model made them).
        let scaleShift = folding.map {
            ConvEpilogue.batchNorm(weight: $0.gamma, bias: $0.beta, runningMean: $0.mean, runningVar: $0.variance, eps: $0.eps)
        }
        let weightsDesc = primitive.layout(dnnl_query_weights_md), biasDesc = OneDNN.plain([g.k], dnnl_f32)
        let folded = folding.map { ObjectIdentifier($0.variance) }, foldedSources = folding.map { [$0.variance] } ?? []
        var arguments: [(Int32, Operand)] = [
            (DNNL_ARG_SRC, .value(input)),
            (DNNL_ARG_WEIGHTS, .constant(workspace.constant(.init(source: ObjectIdentifier(weight), folded: folded),
                                                             sources: [weight] + foldedSources, weightsDesc) {
                var w = weight.data
                if let (scale, _) = scaleShift {
                    let perFilter = w.count / g.k
                    for o in 0..<g.k { for j in 0..<perFilter { w[o * perFilter + j] *= scale[o] } }
                }
                return Self.staged(w, dims: OneDNNConvolution.weightDims(g), into: weightsDesc)
            })),
        ]
        if bias != nil || scaleShift != nil {
            // Keyed by the convolution's bias, else by its weight (a folded BatchNorm's shift alone).
            let source = bias ?? weight
            arguments.append((DNNL_ARG_BIAS, .constant(workspace.constant(.init(source: ObjectIdentifier(source), folded: folded),
                                                                          sources: [source] + foldedSources, biasDesc) {
                var b = bias?.data ?? [Float](repeating: 0, count: g.k)
                if let (scale, shift) = scaleShift { b = (0..<g.k).map { b[$0] * scale[$0] + shift[$0] } }
                return Self.staged(b, dims: [g.k], into: biasDesc)
            })))
        }
        var reads = [input]
        var aliased: Int?
        if let residual {
            // The sum post-op adds to what the destination holds: the residual, in its layout.
            // In place only where nothing reads the residual later and the convolution does not
            // read it now (`x + conv(x)`: a convolution cannot write over its own input).
            let r = residual.inPlace && residual.value != input && OneDNN.equal(values[residual.value].desc, destination)
                ? residual.value : copy(residual.value, to: destination)
            reads.append(r)
            aliased = r
        }
        let out = addValue(batched(tip.shape), destination)
        arguments.append((DNNL_ARG_DST, .value(out)))
        steps.append(.primitive(primitive, arguments, reads: reads, writes: out, aliases: aliased, kind: .convolution))
        KernelReport.record(primitive.implementation, g)
        absorbed.formUnion(taken)
        valueOf[ObjectIdentifier(tip)] = out
        return true
    }

    /// The convolution primitive and its destination layout: Winograd first where it applies
    /// (fp32), then direct. With a residual, the destination takes the residual's layout if the
    /// primitive accepts it.
    private func makeConvolution(_ g: ConvGeometry, residual: Int?, hasBias: Bool,
                                 activations: [GraphPrimitives.Eltwise]) -> (OneDNNPrimitive, dnnl_memory_desc_t)? {
        let low = activationType
        var algorithms = [(dnnl_convolution_direct, low)]
        if options.precision == .fp32, options.algorithm != .direct, OneDNNConvolution.winogradShape(g) {
            algorithms.insert((dnnl_convolution_winograd, dnnl_f32), at: 0)
        }
        let outDims = [g.n, g.k, g.oh, g.ow]
        for (alg, type) in algorithms {
            let source = OneDNN.any([g.n, g.c, g.h, g.w], type)
            var destinations = [OneDNN.any(outDims, type)]
            if let residual { destinations.insert(values[residual].desc, at: 0) }
            for destination in destinations {
                if let p = GraphPrimitives.convolution(g, algorithm: alg, source: source, weightType: type, hasBias: hasBias,
                                                       destination: destination, sum: residual != nil, activations: activations) {
                    return (p, p.layout(dnnl_query_dst_md))
                }
            }
        }
        return nil
    }

    private mutating func pooling(_ i: Int, _ alg: dnnl_alg_kind_t, _ kernel: Size2, _ stride: Size2, _ padding: Size2,
                                  _ dilation: Size2) -> Bool {
        let node = nodes[i]
        guard let x = node.inputs[0], let v = valueOf[ObjectIdentifier(x)], x.rank == 4 else { return false }
        let out = batched(node.output.shape)
        if alg == dnnl_pooling_avg_include_padding {
            // oneDNN would count a ceil-mode window's overhang past the padding; PyTorch does not.
            let right = Size2((out[2] - 1) * stride.h + kernel.h - x.shape[2] - padding.h,
                              (out[3] - 1) * stride.w + kernel.w - x.shape[3] - padding.w)
            guard right == padding else { return false }
        }
        guard let p = GraphPrimitives.pooling(alg, source: values[v].desc, output: out, kernel: kernel, stride: stride,
                                              padding: padding, dilation: dilation) else { return false }
        let y = addValue(out, p.layout(dnnl_query_dst_md))
        steps.append(.primitive(p, [(DNNL_ARG_SRC, .value(v)), (DNNL_ARG_DST, .value(y))], reads: [v], writes: y,
                                aliases: nil, kind: .pooling))
        valueOf[ObjectIdentifier(node.output)] = y
        return true
    }

    /// A BatchNorm that no convolution absorbed (pre-activation blocks: BN → ReLU → conv), with a
    /// following activation fused where oneDNN takes it.
    private mutating func batchNorm(_ i: Int, eps: Float) -> Bool {
        let node = nodes[i]
        guard let x = node.inputs[0], let v = valueOf[ObjectIdentifier(x)], x.rank == 4,
              let mean = node.inputs[3], let variance = node.inputs[4],
              !node.inputs.dropFirst().contains(where: { $0.map(isValue) ?? false }) else { return false }
        var tip = node.output
        var taken: [Int] = []
        var p: OneDNNPrimitive?
        if let (j, f) = followingActivation(tip), let fused = GraphPrimitives.batchNorm(data: values[v].desc, eps: eps, activations: f) {
            p = fused
            taken.append(j)
            tip = nodes[j].output
        }
        guard let p = p ?? GraphPrimitives.batchNorm(data: values[v].desc, eps: eps, activations: []) else { return false }
        let c = x.shape[1]
        let perChannel = OneDNN.plain([c], dnnl_f32)
        func operand(_ data: [Float]) -> Operand { .constant(Self.staged(data, dims: [c], into: perChannel)) }
        let y = addValue(batched(tip.shape), values[v].desc)
        steps.append(.primitive(p, [(DNNL_ARG_SRC, .value(v)), (DNNL_ARG_MEAN, operand(mean.data)),
                                    (DNNL_ARG_VARIANCE, operand(variance.data)),
                                    (DNNL_ARG_SCALE, operand(node.inputs[1]?.data ?? [Float](repeating: 1, count: c))),
                                    (DNNL_ARG_SHIFT, operand(node.inputs[2]?.data ?? [Float](repeating: 0, count: c))),
                                    (DNNL_ARG_DST, .value(y))],
                                reads: [v], writes: y, aliases: nil, kind: .batchNorm))
        absorbed.formUnion(taken)
        valueOf[ObjectIdentifier(tip)] = y
        return true
    }

    private mutating func eltwise(_ i: Int, _ functions: [GraphPrimitives.Eltwise]) -> Bool {
        let node = nodes[i]
        guard let x = node.inputs[0], let v = valueOf[ObjectIdentifier(x)],
              let p = GraphPrimitives.eltwise(functions, data: values[v].desc) else { return false }
        let y = addValue(batched(node.output.shape), values[v].desc)
        steps.append(.primitive(p, [(DNNL_ARG_SRC, .value(v)), (DNNL_ARG_DST, .value(y))], reads: [v], writes: y,
                                aliases: nil, kind: .eltwise))
        valueOf[ObjectIdentifier(node.output)] = y
        return true
    }

    /// `a op b` on two computed values of one rank, `b` broadcast over `a` (a squeeze-excitation
    /// gate), with a following activation as a post-op.
    private mutating func binary(_ i: Int) -> Bool {
        let node = nodes[i]
        let alg: dnnl_alg_kind_t
        switch node.op {
        case .add: alg = dnnl_binary_add
        case .sub: alg = dnnl_binary_sub
        case .mul: alg = dnnl_binary_mul
        case .div: alg = dnnl_binary_div
        case .maximum: alg = dnnl_binary_max
        case .minimum: alg = dnnl_binary_min
        default: return false
        }
        guard let a = node.inputs[0], let b = node.inputs[1],
              let va = valueOf[ObjectIdentifier(a)], let vb = valueOf[ObjectIdentifier(b)],
              a.shape == node.output.shape, a.rank == b.rank, a.rank >= 2 else { return false }
        var tip = node.output
        var activations: [GraphPrimitives.Eltwise] = []
        var taken: [Int] = []
        if let (j, f) = followingActivation(tip) {
            activations = f
            taken.append(j)
            tip = nodes[j].output
        }
        guard let p = GraphPrimitives.binary(alg, values[va].desc, values[vb].desc, activations: activations) else { return false }
        let y = addValue(batched(tip.shape), p.layout(dnnl_query_dst_md))
        steps.append(.primitive(p, [(DNNL_ARG_SRC_0, .value(va)), (DNNL_ARG_SRC_1, .value(vb)), (DNNL_ARG_DST, .value(y))],
                                reads: [va, vb], writes: y, aliases: nil, kind: .binary))
        absorbed.formUnion(taken)
        valueOf[ObjectIdentifier(tip)] = y
        return true
    }

    /// Any other op, through its eager function on plain fp32 copies.
    private mutating func eager(_ i: Int) throws {
        let node = nodes[i]
        guard let run = EagerOp.function(node.op) else {
            throw TensorCoreError.unsupported("inference graph: no way to run op \(node.op)")
        }
        // A matmul keeps the image index first only with the batch as its left operand's rows.
        if case let .matmul(transposeA, _) = node.op,
           transposeA || (node.inputs[1].map(isValue) ?? false) || !(node.inputs[0].map(isValue) ?? false) {
            throw TensorCoreError.unsupported("inference graph: a matmul whose rows are not the batch's images")
        }
        guard node.output.rank <= 5 else {
            throw TensorCoreError.unsupported("inference graph: op \(node.op) has a rank-\(node.output.rank) output")
        }
        let inputs = node.inputs.map { t in t.flatMap { valueOf[ObjectIdentifier($0)] }.map { plain($0) } }
        let fixed = node.inputs.map { t in t.flatMap { valueOf[ObjectIdentifier($0)] == nil ? $0 : nil } }
        let shape = batched(node.output.shape)
        let y = addValue(shape, OneDNN.plain(shape, dnnl_f32))
        steps.append(.eager(EagerOp.name(node.op), run, inputs, fixed, output: y))
        valueOf[ObjectIdentifier(node.output)] = y
    }

    // MARK: - Values and layouts

    /// A traced one-image shape for the whole batch.
    private func batched(_ shape: [Int]) -> [Int] { [batch] + shape.dropFirst() }

    private func isValue(_ t: Tensor) -> Bool { valueOf[ObjectIdentifier(t)] != nil }

    /// The activation that alone reads `t` (its node and oneDNN functions), to fuse as a post-op.
    private func followingActivation(_ t: Tensor) -> (node: Int, functions: [GraphPrimitives.Eltwise])? {
        guard let j = soleReader(t), nodes[j].inputs[0] === t, let f = GraphPrimitives.eltwise(nodes[j].op) else { return nil }
        return (j, f)
    }

    /// The only node reading `t`, unless `t` is the model's output.
    private func soleReader(_ t: Tensor) -> Int? {
        guard !(t === outputTensor), let r = readers[ObjectIdentifier(t)], r.count == 1, !absorbed.contains(r[0]) else { return nil }
        return r[0]
    }

    private mutating func addValue(_ shape: [Int], _ desc: dnnl_memory_desc_t) -> Int {
        values.append(Value(shape: shape, desc: desc))
        return values.count - 1
    }

    /// `v` in layout `desc`: itself, or a reordered copy made once and shared by later readers.
    private mutating func converted(_ v: Int, to desc: dnnl_memory_desc_t) -> Int {
        if OneDNN.equal(values[v].desc, desc) { return v }
        if let hit = conversions.first(where: { $0.from == v && OneDNN.equal($0.desc, desc) }) { return hit.to }
        let to = copy(v, to: desc)
        conversions.append((v, desc, to))
        return to
    }

    /// A new value holding `v` in layout `desc`.
    private mutating func copy(_ v: Int, to desc: dnnl_memory_desc_t) -> Int {
        let to = addValue(values[v].shape, desc)
        let p = GraphPrimitives.reorder(from: values[v].desc, to: desc)
        steps.append(.primitive(p, [(DNNL_ARG_FROM, .value(v)), (DNNL_ARG_TO, .value(to))], reads: [v], writes: to,
                                aliases: nil, kind: .reorder))
        return to
    }

    /// `v` as a plain fp32 array in its own shape (every value has the batch as its first
    /// dimension, so none is rank 0).
    private mutating func plain(_ v: Int) -> Int {
        converted(v, to: OneDNN.plain(values[v].shape, dnnl_f32))
    }

    /// A constant array in layout `desc` (reordered from plain fp32 with dimensions `dims`).
    private static func staged(_ data: [Float], dims: [Int], into desc: dnnl_memory_desc_t) -> OneDNNBuffer {
        let user = OneDNN.plain(dims, dnnl_f32)
        let buffer = OneDNNBuffer(layout: desc)
        OneDNN.withStream { stream in
            data.withUnsafeBytes { source in
                OneDNNPrimitive.copying(from: user, to: desc).reorder(stream, source.baseAddress!, user, into: buffer.pointer, desc)
            }
        }
        return buffer
    }
}
