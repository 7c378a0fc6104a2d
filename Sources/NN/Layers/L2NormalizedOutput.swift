import TensorCore

/// A model whose output rows are L2-normalised: a retrieval model's embedding with
/// `Global.feature_normalize` (PaddleClas normalises features before search; cosine similarity is
/// then an inner product). Training, evaluation, inference and export all run this one layer, so
/// no caller decides again whether to normalise.
///
/// The wrapped model is an unnamed child: state-dict keys, checkpoints and ONNX initializer names
/// are the inner model's, and train/eval mode reaches it.
public final class L2NormalizedOutput: Layer {
    public let inner: Layer

    public init(_ inner: Layer) {
        self.inner = inner
        super.init()
        train(inner.isTraining)
    }

    override public var children: [(String, Module)] { [("", inner)] }

    override public func forward(_ x: Tensor) -> Tensor { inner(x).l2Normalized() }
}
