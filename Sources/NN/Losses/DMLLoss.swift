import TensorCore

/// PaddleClas's `DMLLoss` / `DistillationDMLLoss` with `act: softmax`, the SKL-UGI distillation
/// loss: the symmetric KL divergence between two softmax outputs,
///
///     kl(a, b)[c] = b_c · log((b_c + ε) / (a_c + ε)) · C
///     L = mean over batch and classes of (kl(p_s, p_t) + kl(p_t, p_s)) / 2
///       = (1/B) Σ_b ½ [KL(p_t‖p_s) + KL(p_s‖p_t)]
///
/// No temperature and no ground-truth term. Gradients flow to whichever input requires them
/// (the student; a frozen teacher's logits come in detached).
public struct DMLLoss: Sendable {
    public var eps: Float

    public init(eps: Float = 1e-12) { self.eps = eps }

    public func callAsFunction(_ student: Tensor, _ teacher: Tensor) -> Tensor {
        precondition(student.rank == 2 && student.shape == teacher.shape,
                     "DMLLoss expects two [N, C] logits of one shape, got \(student.shape) and \(teacher.shape)")
        let classes = Float(student.shape[1])
        let ps = student.softmax(), pt = teacher.softmax()
        let logS = (ps + eps).log(), logT = (pt + eps).log()
        let forward = pt * (logT - logS)     // kl(p_s, p_t): target p_t
        let backward = ps * (logS - logT)    // kl(p_t, p_s): target p_s
        return ((forward + backward) * (classes / 2)).mean()
    }
}
