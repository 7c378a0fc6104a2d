/// Allocator settings for training-sized tensors.
public enum MemoryTuning {
    /// Keeps large freed blocks in glibc's heap instead of returning them with munmap: every op
    /// allocates activation-sized arrays, and fresh mmaps page-fault their memory in on first use
    /// (measured here: a WRN-28-2 training step 10–25 % faster). Peak memory is unchanged.
    /// Two more leaks of that kind showed at FixMatch batch sizes (a 480-image WRN-28-2 step
    /// holds 2.5 GB): blocks above glibc's 32 MiB threshold cap were still mmapped afresh, and
    /// the trim threshold, an Int32 here, tops out at 2 GiB, so the heap went back to the kernel
    /// whenever a step ended with more than that free. Hence no mmap at all and a 2 GiB top pad
    /// (trimming keeps 2 GiB): 6.45 → 6.08 s per step, kernel time 11.5 → 5.1 s over 8 steps.
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
