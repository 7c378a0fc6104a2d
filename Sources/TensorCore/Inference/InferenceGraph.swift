import CDNNL
import Foundation

/// A model's eval-mode forward pass compiled, for one input shape, into a list of oneDNN
/// primitives whose activations stay in oneDNN's own layouts (and in bf16 under `--precision
/// bf16`) from the first convolution to the last.
///
/// The eager path reorders every convolution's input out of NCHW and its output back, and runs
/// batch norm, residual adds and activations as separate passes over NCHW arrays. The graph
/// instead folds each eval-mode BatchNorm into its convolution's weights and bias, runs the
/// residual add (`sum`) and the activation as post-ops of the convolution that produces the
/// later operand, and keeps pooling, elementwise and broadcasting ops (squeeze-excitation) on
/// oneDNN too. Ops it has no primitive for (the classifier head's matmul, L2 normalisation, …)
/// run through the eager functions on plain copies, so any model a trace describes compiles.
///
/// Buffers are planned once: a value's memory is reused as soon as its last reader has run, so
/// a run allocates nothing but its output. Weights are folded and reordered at compile time, so
/// a graph must be compiled again after they change. Runs are serialised by their workspace's
/// lock.
public final class InferenceGraph: @unchecked Sendable {
    /// The `[N, C, H, W]` input this graph was compiled for.
    public let inputShape: [Int]
    public let outputShape: [Int]
    /// oneDNN's implementation of each step that is not a reorder, e.g. "jit_wino_4x3:avx512_core".
    public let kernels: [String]
    /// Steps that run through the eager functions (op names), for reports.
    public let eagerOps: [String]
    /// Every step in order: "convolution", "pooling", "eltwise", "binary", "reorder" or
    /// "eager <op>".
    public let stepKinds: [String]

    private let steps: [Step]
    private let outputValue: Int
    private let valueShapes: [[Int]]
    /// Memory objects and the workspace buffer each points into (the last is the scratchpad).
    private let bindings: [(memory: dnnl_memory_t, buffer: Int)]
    private let bufferBytes: [Int]
    private let valueBuffers: [Int]
    private let workspace: InferenceWorkspace
    private let serial = InferenceWorkspace.nextSerial()
    /// Keeps the primitives and constants alive for as long as their handles are in `steps`.
    private let primitives: [OneDNNPrimitive]
    private let constants: [OneDNNBuffer]
    private let constantMemories: [dnnl_memory_t]

    /// A compiled step: a primitive with its bound arguments, or an eager op.
    private enum Step {
        case primitive(dnnl_primitive_t, [dnnl_exec_arg_t])
        case eager(([Tensor?]) -> Tensor, [Int?], [Tensor?], output: Int)
    }

    /// Traces `forward` on `input` (eval mode, no tape) and compiles it for `input`'s shape.
    /// Graphs compiled with one `workspace` share its buffers and weights (one model's graphs for
    /// several batch sizes). Throws `TensorCoreError.unsupported` when oneDNN is missing or the
    /// trace holds an op without a typed record; callers then run the model eagerly.
    public static func compile(input: Tensor, options: ConvolutionOptions = .current,
                               workspace: InferenceWorkspace = InferenceWorkspace(),
                               _ forward: (Tensor) -> Tensor) throws -> InferenceGraph {
        guard OneDNN.engine != nil else { throw TensorCoreError.unsupported("the inference graph needs oneDNN") }
        try options.validate()
        // The trace runs on the first image alone: it keeps every activation alive, so tracing
        // the whole batch would hold the batch's every activation at once.
        guard input.rank >= 1, input.shape[0] >= 1 else { throw TensorCoreError.shapeMismatch("an inference graph needs a batch of at least one image, got \(input.shape)") }
        let one = input.shape[0] == 1 ? input : input.slice(axis: 0, 0..<1)
        let (output, trace) = OneDNNWeightCache.$isEnabled.withValue(false) { withNoGrad { OpTrace.recording { forward(one) } } }
        var builder = InferenceGraphBuilder(trace: trace, input: one, batch: input.shape[0], options: options, workspace: workspace)
        let program = try builder.build(output: output)
        return InferenceGraph(program, inputShape: input.shape, workspace: workspace)
    }

    private init(_ program: InferenceGraphBuilder.Program, inputShape: [Int], workspace: InferenceWorkspace) {
        self.inputShape = inputShape
        self.workspace = workspace
        let values = program.values
        outputShape = values[program.output].shape
        outputValue = program.output
        valueShapes = values.map(\.shape)
        kernels = program.steps.compactMap { step in
            if case let .primitive(p, _, _, _, _, kind) = step, kind != .reorder { return p.implementation }
            return nil
        }
        eagerOps = program.steps.compactMap { step in
            if case let .eager(name, _, _, _, _) = step { return name }
            return nil
        }
        stepKinds = program.steps.map { step in
            switch step {
            case let .primitive(_, _, _, _, _, kind): return kind.rawValue
            case let .eager(name, _, _, _, _): return "eager " + name
            }
        }

        // Each value gets a buffer, reused once every reader of the value has run; one more
        // buffer is the scratchpad, as large as any primitive asks (steps run one at a time).
        let plan = BufferPlan(program)
        let scratchBuffer = plan.bytes.count
        let scratchBytes = program.steps.map { step -> Int in
            if case let .primitive(p, _, _, _, _, _) = step { return p.scratchpadBytes }
            return 0
        }.max() ?? 0
        bufferBytes = plan.bytes + [scratchBytes]
        valueBuffers = plan.bufferOf

        // Memory objects over the values' workspace buffers (pointed at them before each run
        // that needs it) and over the constants.
        let valueMemories = values.map { OneDNN.memory($0.desc, nil) }
        var bindings = values.indices.map { (valueMemories[$0], plan.bufferOf[$0]) }
        var constants: [OneDNNBuffer] = [], constantMemories: [dnnl_memory_t] = []
        steps = program.steps.map { step in
            switch step {
            case let .primitive(p, arguments, _, _, _, _):
                var args = arguments.map { (id, operand) -> dnnl_exec_arg_t in
                    switch operand {
                    case let .value(v): return dnnl_exec_arg_t(arg: id, memory: valueMemories[v])
                    case let .constant(buffer):
                        let m = OneDNN.memory(buffer.layout, buffer.pointer)
                        constants.append(buffer)
                        constantMemories.append(m)
                        return dnnl_exec_arg_t(arg: id, memory: m)
                    }
                }
                if p.scratchpadBytes > 0 {
                    let m = OneDNN.memory(p.layout(dnnl_query_scratchpad_md), nil)
                    bindings.append((m, scratchBuffer))
                    args.append(dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: m))
                }
                return .primitive(p.primitive, args)
            case let .eager(_, run, inputs, fixed, output):
                return .eager(run, inputs, fixed, output: output)
            }
        }
        self.bindings = bindings
        self.constants = constants
        self.constantMemories = constantMemories
        primitives = program.steps.compactMap { step in
            if case let .primitive(p, _, _, _, _, _) = step { return p }
            return nil
        }
    }

    deinit {
        for m in bindings.map(\.memory) + constantMemories { dnnl_memory_destroy(m) }
    }

    /// Runs the compiled forward pass on `x`, whose shape must be `inputShape`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.shape == inputShape, "the inference graph was compiled for \(inputShape), got \(x.shape)")
        workspace.lock.lock()
        defer { workspace.lock.unlock() }
        // Point the memory objects at the workspace's buffers when another graph (or a smaller
        // buffer) was there last.
        if workspace.reserve(bufferBytes) || workspace.boundGraph != serial {
            for (memory, buffer) in bindings {
                OneDNN.check(dnnl_memory_set_data_handle(memory, workspace.buffers[buffer].pointer), "memory binding")
            }
            workspace.boundGraph = serial
        }
        let pointer = { (v: Int) in self.workspace.buffers[self.valueBuffers[v]].pointer }
        x.data.withUnsafeBytes { pointer(0).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        OneDNN.withStream { stream in
            for step in steps {
                switch step {
                case let .primitive(primitive, args):
                    OneDNN.check(dnnl_primitive_execute(primitive, stream, Int32(args.count), args), "graph step")
                case let .eager(run, inputs, fixed, output):
                    OneDNN.check(dnnl_stream_wait(stream), "stream wait")
                    let operands = zip(inputs, fixed).map { value, constant in value.map { tensor($0, pointer($0)) } ?? constant }
                    let y = withNoGrad { run(operands) }
                    precondition(y.shape == valueShapes[output], "inference graph: an eager op gave \(y.shape), the plan has \(valueShapes[output])")
                    y.data.withUnsafeBytes { pointer(output).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                }
            }
            OneDNN.check(dnnl_stream_wait(stream), "stream wait")
        }
        return tensor(outputValue, pointer(outputValue))
    }

    /// A plain fp32 value as a tensor (a copy).
    private func tensor(_ v: Int, _ pointer: UnsafeMutableRawPointer) -> Tensor {
        let shape = valueShapes[v]
        let floats = pointer.assumingMemoryBound(to: Float.self)
        return Tensor(shape: shape, data: Array(UnsafeBufferPointer(start: floats, count: Shape.count(shape))))
    }

    /// One line naming the kernels: "brgconv_1x1:avx512_core ×36, …, eager: matmul ×1".
    public var summary: String {
        func counted(_ names: [String]) -> [String] {
            var counts: [String: Int] = [:]
            for n in names { counts[n, default: 0] += 1 }
            return counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key) ×\($0.value)" }
        }
        let eager = eagerOps.isEmpty ? [] : ["eager: " + counted(eagerOps).joined(separator: ", ")]
        return (counted(kernels) + eager).joined(separator: ", ")
    }
}

/// Which buffer each value of a program lives in: values whose lifetimes do not overlap share
/// one, and a step that sums into an operand (a fused residual add) writes that operand's buffer.
private struct BufferPlan {
    var bytes: [Int] = []
    var bufferOf: [Int]

    init(_ program: InferenceGraphBuilder.Program) {
        let values = program.values
        var lastRead = [Int](repeating: -1, count: values.count)
        for (i, step) in program.steps.enumerated() { for v in step.reads { lastRead[v] = i } }
        lastRead[program.output] = Int.max
        bufferOf = [Int](repeating: -1, count: values.count)
        var free: [Int] = []
        func place(_ v: Int) {
            let need = OneDNN.byteCount(values[v].desc)
            // The smallest free buffer that fits, else the largest free one grown, else a new one.
            let fits = free.filter { bytes[$0] >= need }.min { bytes[$0] < bytes[$1] }
            if let b = fits ?? free.max(by: { bytes[$0] < bytes[$1] }) {
                free.removeAll { $0 == b }
                bytes[b] = Swift.max(bytes[b], need)
                bufferOf[v] = b
            } else {
                bytes.append(need)
                bufferOf[v] = bytes.count - 1
            }
        }
        place(0)
        for (i, step) in program.steps.enumerated() {
            let out = step.writes
            if let a = step.aliases {
                precondition(lastRead[a] == i, "inference graph: a value written in place is read later")
                bufferOf[out] = bufferOf[a]
                bytes[bufferOf[a]] = Swift.max(bytes[bufferOf[a]], OneDNN.byteCount(values[out].desc))
            } else {
                place(out)
            }
            for v in Set(step.reads) where lastRead[v] == i && v != step.aliases { free.append(bufferOf[v]) }
            if lastRead[out] < 0 { free.append(bufferOf[out]) }  // written, never read
        }
    }
}
