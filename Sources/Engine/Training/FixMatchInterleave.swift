import TensorCore

/// kekmodel's / the official code's `interleave` and `de_interleave` over the batch axis.
///
/// The batch [x_l (B) | u_weak (μB) | u_strong (μB)] is viewed as [B, s] rows (s = 2μ+1) and
/// transposed, so any contiguous shard holds a mix of all three parts; the model's output is
/// transposed back. On one device BN sees the whole batch either way, so the pair is a
/// permutation and its inverse: the result equals running the model on the plain batch.
public enum FixMatchInterleave {
    /// `reshape [-1, s, …] → transpose(0, 1) → reshape [-1, …]`.
    public static func interleave(_ x: Tensor, groups s: Int) -> Tensor {
        permute(x, rows: x.shape[0] / s, columns: s)
    }

    /// `reshape [s, -1, …] → transpose(0, 1) → reshape [-1, …]`; undoes `interleave`.
    public static func deInterleave(_ x: Tensor, groups s: Int) -> Tensor {
        permute(x, rows: s, columns: x.shape[0] / s)
    }

    private static func permute(_ x: Tensor, rows: Int, columns: Int) -> Tensor {
        precondition(x.rank >= 1 && rows * columns == x.shape[0], "interleave: batch \(x.shape.first ?? 0) is not a multiple of the group count")
        let rest = Array(x.shape.dropFirst())
        let inner = rest.reduce(1, *)
        return x.reshaped([rows, columns, inner]).permuted([1, 0, 2]).reshaped([x.shape[0]] + rest)
    }
}
