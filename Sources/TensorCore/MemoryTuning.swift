/// Allocator settings for training-sized tensors.
public enum MemoryTuning {
    /// Keeps large freed blocks in glibc's heap instead of returning them with munmap: every op
    /// allocates activation-sized arrays, and fresh mmaps page-fault their memory in on first use.
    /// No mmap at all (blocks above glibc's 32 MiB threshold cap would still be mmapped afresh)
    /// and a 2 GiB top pad and trim threshold (an Int32 here tops out at 2 GiB), so a training
    /// step's arrays are reused from the heap step after step. Peak memory is unchanged.
    public static func apply() {
        #if os(Linux)
        // <malloc.h> parameters (not exported by the Glibc module): M_TRIM_THRESHOLD -1,
        // M_TOP_PAD -2, M_MMAP_MAX -4. With no mmap the mmap threshold no longer matters, and
        // setting either of the others also stops glibc from adjusting the thresholds itself.
        _ = glibcMallopt(-4, 0)
        _ = glibcMallopt(-1, Int32.max)
        _ = glibcMallopt(-2, Int32.max)
        #endif
    }
}

#if os(Linux)
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
