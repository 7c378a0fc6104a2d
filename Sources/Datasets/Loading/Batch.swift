import TensorCore

/// One loaded batch: each view's images as an NCHW Float32 tensor, with labels and source indices.
public struct Batch: @unchecked Sendable {
    /// The first view (the only one for a single transform chain).
    public var images: Tensor { views[0] }
    /// One `[N, C, H, W]` tensor per transform chain (FixMatch: weak, strong).
    public var views: [Tensor]
    public var labels: [Int]
    /// Item indices in the source, aligned with `labels`.
    public var indices: [Int]
    /// Items left out under `BadImagePolicy.skip`, with the reason.
    public var skipped: [(index: Int, error: String)]
    /// Position of this batch in its epoch.
    public var position: Int
}

/// What the loader does with an image that cannot be read, decoded or transformed.
public enum BadImagePolicy: String, Sendable {
    /// Stop: the iterator throws the error (naming the file).
    case fail
    /// Leave it out of its batch and record it in `Batch.skipped`.
    case skip
}
