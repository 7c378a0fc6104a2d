import TensorCore

/// Batch normalisation over the channel axis of [N, C, *] inputs, PyTorch semantics
/// (momentum 0.1 means running = 0.9·running + 0.1·batch; eps 1e-5 by default).
public class BatchNorm: Layer {
    public let weight: Tensor?
    public let bias: Tensor?
    public let runningMean: Tensor
    public let runningVar: Tensor
    /// Count of training batches seen (saved as PyTorch's int64 `num_batches_tracked`).
    public let numBatchesTracked: Tensor
    public var momentum: Float
    public var eps: Float

    public init(_ channels: Int, momentum: Float = 0.1, eps: Float = 1e-5, affine: Bool = true) {
        weight = affine ? Tensor.ones([channels], requiresGrad: true) : nil
        bias = affine ? Tensor.zeros([channels], requiresGrad: true) : nil
        runningMean = Tensor.zeros([channels])
        runningVar = Tensor.ones([channels])
        numBatchesTracked = Tensor.zeros([])
        self.momentum = momentum
        self.eps = eps
    }

    public var channels: Int { runningMean.count }

    override public var parameters: [(String, Tensor)] {
        (weight.map { [("weight", $0)] } ?? []) + (bias.map { [("bias", $0)] } ?? [])
    }

    override public var buffers: [(String, Tensor)] {
        [("running_mean", runningMean), ("running_var", runningVar), ("num_batches_tracked", numBatchesTracked)]
    }

    override public func forward(_ x: Tensor) -> Tensor { forward(x, activation: .identity) }

    /// `activation(self(x))`, the activation applied in the normalisation pass (one pass less
    /// forward and backward; the normalised map is not kept for backward).
    public func forward(_ x: Tensor, activation: FusedActivation) -> Tensor {
        if isTraining { numBatchesTracked.data[0] += 1 }
        return batchNorm(x, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                         training: isTraining, momentum: momentum, eps: eps, activation: activation)
    }

    /// `activation(self(conv(x)))`. In eval mode without the tape the normalisation is folded
    /// into the convolution (`conv2dBatchNorm`); otherwise it is `forward(conv(x), activation:)`.
    public func forward(_ x: Tensor, after conv: Conv2d, activation: FusedActivation = .identity) -> Tensor {
        if isTraining { return forward(conv(x), activation: activation) }
        return conv2dBatchNorm(x, conv.weight, bias: conv.bias, stride: conv.stride, padding: conv.padding,
                               dilation: conv.dilation, groups: conv.groups, bnWeight: weight, bnBias: bias,
                               runningMean: runningMean, runningVar: runningVar, eps: eps, activation: activation)
    }
}

extension Module {
    /// Sets the running-statistics momentum of every BatchNorm below this module (PyTorch's
    /// convention: the new batch's weight).
    public func setBatchNormMomentum(_ momentum: Float) {
        for case let (_, bn as BatchNorm) in namedModules() { bn.momentum = momentum }
    }
}

/// BatchNorm over NCHW feature maps.
public final class BatchNorm2d: BatchNorm {
    override public func forward(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4, "BatchNorm2d expects NCHW input, got \(x.shape)")
        return super.forward(x)
    }
}

/// BatchNorm over [N, C] or [N, C, L] inputs.
public final class BatchNorm1d: BatchNorm {
    override public func forward(_ x: Tensor) -> Tensor {
        precondition(x.rank == 2 || x.rank == 3, "BatchNorm1d expects [N, C] or [N, C, L] input, got \(x.shape)")
        return super.forward(x)
    }
}
