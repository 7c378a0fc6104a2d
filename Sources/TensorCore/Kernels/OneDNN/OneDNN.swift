import CDNNL
#if canImport(Glibc)
import Glibc
#endif

/// The process-wide oneDNN CPU engine and the small helpers every oneDNN kernel shares.
///
/// oneDNN status codes other than success are programming errors here (shapes are validated
/// before a primitive is built), except where a caller asks whether something is supported.
enum OneDNN {
    /// The CPU engine; nil when oneDNN cannot create one (then the im2col kernels run).
    nonisolated(unsafe) static let engine: dnnl_engine_t? = {
        var e: dnnl_engine_t?
        return dnnl_engine_create(&e, dnnl_cpu, 0) == dnnl_success ? e : nil
    }()

    @inline(__always)
    static func check(_ status: dnnl_status_t, _ what: @autoclosure () -> String) {
        precondition(status == dnnl_success, "oneDNN \(what()) failed with status \(status.rawValue)")
    }

    /// A plain (row-major) memory descriptor: NCHW activations, OIHW or GOIHW weights, a vector.
    static func plain(_ dims: [Int], _ type: dnnl_data_type_t) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        let tags: [Int: dnnl_format_tag_t] = [1: dnnl_a, 2: dnnl_ab, 3: dnnl_abc, 4: dnnl_abcd, 5: dnnl_abcde]
        check(dnnl_memory_desc_init_by_tag(&md, Int32(dims.count), dims.map(Int64.init), type, tags[dims.count]!),
              "plain memory descriptor \(dims)")
        return md
    }

    /// `[N, C, H, W]` in nChw16c (`TensorLayout.blocked16`).
    static func blocked16(_ dims: [Int], _ type: dnnl_data_type_t) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        check(dnnl_memory_desc_init_by_tag(&md, 4, dims.map(Int64.init), type, dnnl_aBcd16b),
              "blocked memory descriptor \(dims)")
        return md
    }

    /// `dims` laid out as `layout`, in its data type.
    static func descriptor(_ dims: [Int], _ layout: TensorLayout) -> dnnl_memory_desc_t {
        switch layout {
        case .plain: plain(dims, dnnl_f32)
        case .blocked16: blocked16(dims, dnnl_f32)
        case .blocked16BF16: blocked16(dims, dnnl_bf16)
        }
    }

    /// A descriptor that lets the primitive choose its layout.
    static func any(_ dims: [Int], _ type: dnnl_data_type_t) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        check(dnnl_memory_desc_init_by_tag(&md, Int32(dims.count), dims.map(Int64.init), type, dnnl_format_tag_any),
              "memory descriptor \(dims)")
        return md
    }

    static func equal(_ a: dnnl_memory_desc_t, _ b: dnnl_memory_desc_t) -> Bool {
        var a = a, b = b
        return dnnl_memory_desc_equal(&a, &b) != 0
    }

    static func byteCount(_ md: dnnl_memory_desc_t) -> Int {
        var md = md
        return dnnl_memory_desc_get_size(&md)
    }

    /// Runs `body` with a fresh in-order stream (streams are cheap on the CPU and not shared
    /// between threads).
    static func withStream<R>(_ body: (dnnl_stream_t) -> R) -> R {
        // OpenMP's thread count is per calling thread: set it on each one that runs oneDNN.
        setOpenMPThreads?(Int32(Parallel.cores))
        var stream: dnnl_stream_t?
        check(dnnl_stream_create(&stream, engine, UInt32(dnnl_stream_default_flags.rawValue)), "stream creation")
        defer { dnnl_stream_destroy(stream) }
        return body(stream!)
    }

    /// A memory object of layout `md` over `pointer` (nil: no buffer yet); the caller destroys it.
    static func memory(_ md: dnnl_memory_desc_t, _ pointer: UnsafeRawPointer?) -> dnnl_memory_t {
        var md = md
        var memory: dnnl_memory_t?
        check(dnnl_memory_create(&memory, &md, engine, pointer.map(UnsafeMutableRawPointer.init(mutating:))), "memory creation")
        return memory!
    }

    /// Wraps `pointer` as a memory object of layout `md` for the duration of `body`.
    static func withMemory<R>(_ md: dnnl_memory_desc_t, _ pointer: UnsafeRawPointer,
                              _ body: (dnnl_memory_t) -> R) -> R {
        let memory = memory(md, pointer)
        defer { dnnl_memory_destroy(memory) }
        return body(memory)
    }

    /// Memory objects over several (argument id, layout, pointer) operands for `body`.
    static func withMemories<R>(_ operands: [(Int32, dnnl_memory_desc_t, UnsafePointer<Float>)],
                                _ body: ([(Int32, dnnl_memory_t)]) -> R) -> R {
        guard let (id, md, pointer) = operands.first else { return body([]) }
        return withMemory(md, pointer) { memory in
            withMemories(Array(operands.dropFirst())) { rest in body([(id, memory)] + rest) }
        }
    }

    /// oneDNN's version, e.g. "2.6.3".
    static var version: String {
        guard let v = dnnl_version()?.pointee else { return "unknown" }
        return "\(v.major).\(v.minor).\(v.patch)"
    }

    /// omp_set_num_threads, looked up at run time (libgomp comes in as oneDNN's own dependency).
    nonisolated(unsafe) private static let setOpenMPThreads: (@convention(c) (Int32) -> Void)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "omp_set_num_threads") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32) -> Void).self)
    }()
}

/// A primitive descriptor and its primitive, built once per shape and kept for the process.
final class OneDNNPrimitive: @unchecked Sendable {
    let descriptor: dnnl_primitive_desc_t
    let primitive: dnnl_primitive_t
    /// Bytes of scratch memory one execution needs (user-managed, so executions can overlap).
    let scratchpadBytes: Int

    /// Takes ownership of `descriptor`.
    init(_ descriptor: dnnl_primitive_desc_t) {
        self.descriptor = descriptor
        var p: dnnl_primitive_t?
        OneDNN.check(dnnl_primitive_create(&p, descriptor), "primitive creation")
        primitive = p!
        scratchpadBytes = OneDNN.byteCount(dnnl_primitive_desc_query_md(descriptor, dnnl_query_scratchpad_md, 0)!.pointee)
    }

    deinit {
        dnnl_primitive_destroy(primitive)
        dnnl_primitive_desc_destroy(descriptor)
    }

    /// The layout the primitive wants for one of its arguments (dnnl_query_src_md, …).
    func layout(_ query: dnnl_query_t) -> dnnl_memory_desc_t {
        dnnl_primitive_desc_query_md(descriptor, query, 0)!.pointee
    }

    /// The implementation oneDNN picked, e.g. "jit_wino_4x3:avx512_core".
    var implementation: String {
        var name: UnsafePointer<CChar>?
        guard dnnl_primitive_desc_query(descriptor, dnnl_query_impl_info_str, 0, &name) == dnnl_success,
              let name else { return "unknown" }
        return String(cString: name)
    }

    /// Executes with `arguments` (argument id, memory) and a scratchpad of its own.
    func execute(_ stream: dnnl_stream_t, _ arguments: [(Int32, dnnl_memory_t)]) {
        var args = arguments.map { dnnl_exec_arg_t(arg: $0.0, memory: $0.1) }
        let run = { (args: [dnnl_exec_arg_t]) in
            OneDNN.check(dnnl_primitive_execute(self.primitive, stream, Int32(args.count), args), "execution of \(self.implementation)")
            OneDNN.check(dnnl_stream_wait(stream), "stream wait")
        }
        if scratchpadBytes == 0 { return run(args) }
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchpadBytes, alignment: 64)
        defer { scratch.deallocate() }
        OneDNN.withMemory(layout(dnnl_query_scratchpad_md), scratch) { pad in
            args.append(dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: pad))
            run(args)
        }
    }

    /// Executes this reorder from `source` (laid out as `from`) into `destination` (as `to`).
    func reorder(_ stream: dnnl_stream_t, _ source: UnsafeRawPointer, _ from: dnnl_memory_desc_t,
                 into destination: UnsafeMutableRawPointer, _ to: dnnl_memory_desc_t) {
        OneDNN.withMemory(from, source) { src in
            OneDNN.withMemory(to, destination) { dst in
                execute(stream, [(DNNL_ARG_FROM, src), (DNNL_ARG_TO, dst)])
            }
        }
    }

    /// Attributes every Magpie primitive uses: a user-managed scratchpad.
    static func makeAttributes() -> dnnl_primitive_attr_t {
        var attr: dnnl_primitive_attr_t?
        OneDNN.check(dnnl_primitive_attr_create(&attr), "attribute creation")
        OneDNN.check(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "scratchpad mode")
        return attr!
    }

    /// A primitive for the operation descriptor `desc`, or nil when oneDNN has no
    /// implementation for it on this CPU.
    static func make(_ desc: UnsafeRawPointer, hint: OneDNNPrimitive? = nil,
                     attributes: dnnl_primitive_attr_t? = nil) -> OneDNNPrimitive? {
        let attr = attributes ?? makeAttributes()
        defer { dnnl_primitive_attr_destroy(attr) }
        var pd: dnnl_primitive_desc_t?
        guard dnnl_primitive_desc_create(&pd, desc, attr, OneDNN.engine, hint?.descriptor) == dnnl_success, let pd else {
            return nil
        }
        return OneDNNPrimitive(pd)
    }

    /// A reorder between two layouts (and data types), or nil when they are the same.
    static func reorder(from: dnnl_memory_desc_t, to: dnnl_memory_desc_t) -> OneDNNPrimitive? {
        OneDNN.equal(from, to) ? nil : copying(from: from, to: to)
    }

    /// A reorder from `from` to `to`, a plain copy when they are the same layout.
    static func copying(from: dnnl_memory_desc_t, to: dnnl_memory_desc_t) -> OneDNNPrimitive {
        var (src, dst) = (from, to)
        let attr = makeAttributes()
        defer { dnnl_primitive_attr_destroy(attr) }
        var pd: dnnl_primitive_desc_t?
        OneDNN.check(dnnl_reorder_primitive_desc_create(&pd, &src, OneDNN.engine, &dst, OneDNN.engine, attr), "reorder")
        return OneDNNPrimitive(pd!)
    }
}
