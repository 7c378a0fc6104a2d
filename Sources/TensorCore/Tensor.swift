/// A dense Float32 tensor with contiguous row-major (NCHW for images) values and an optional
/// reverse-mode autograd node.
///
/// Tensors are reference types: the autograd tape links outputs to the tensors they were computed
/// from. Storage is a `[Float]`, so reshapes share memory copy-on-write. Every op returns a new
/// tensor; only optimizers and batch-norm running statistics write into `data` in place.
///
/// Inside a training step, activations between oneDNN convolutions may be stored in a blocked
/// layout (`TensorLayout`); `data` always reads and writes the row-major values.
public final class Tensor: @unchecked Sendable {
    /// Dimensions, outermost first (`[N, C, H, W]` for image batches).
    public let shape: [Int]
    /// Element type of `data`.
    public let dtype: DType = .float32
    /// The values in `storageLayout`.
    @usableFromInline var storage: [Float]

    /// Contiguous row-major elements.
    public var data: [Float] {
        @inlinable _read {
            if storageLayout != .plain { makePlain() }
            yield storage
        }
        @inlinable _modify {
            if storageLayout != .plain { makePlain() }
            yield &storage
        }
    }
    /// Whether gradients flow to this tensor. Set on leaves (parameters); derived for op outputs.
    public var requiresGrad: Bool
    /// The accumulated gradient in `gradientLayout`.
    var gradStorage: [Float]?
    /// Accumulated gradient, same count as `data`, row-major; nil until a backward pass reaches
    /// this tensor.
    public var grad: [Float]? {
        _read {
            if gradientLayout == .plain { yield gradStorage } else { yield gradStorage.map { inLayout($0, from: gradientLayout, to: .plain) } }
        }
        _modify {
            if gradientLayout == .plain {
                yield &gradStorage
            } else {
                var plain = gradStorage.map { inLayout($0, from: gradientLayout, to: .plain) }
                yield &plain
                gradStorage = plain.map { inLayout($0, from: .plain, to: gradientLayout) }
            }
        }
    }
    /// Keep the gradient of a non-leaf tensor after `backward()` (PyTorch's `retain_grad`).
    public var retainsGrad = false
    /// The op that produced this tensor, when it was recorded on the tape.
    var node: GradNode?
    /// The order of `storage` now; reading `data` makes it plain.
    @usableFromInline var storageLayout: TensorLayout
    /// The layout of the gradients that flow through this tensor on the tape (its layout when
    /// made): an op's backward closure receives its output gradient in it, and inputs' gradients
    /// are handed on in theirs.
    let gradientLayout: TensorLayout

    /// A leaf tensor.
    public init(shape: [Int], data: [Float], requiresGrad: Bool = false) {
        precondition(data.count == Shape.count(shape),
                     "data has \(data.count) elements, shape \(Shape.describe(shape)) needs \(Shape.count(shape))")
        self.shape = shape
        storage = data
        storageLayout = .plain
        gradientLayout = .plain
        self.requiresGrad = requiresGrad
    }

    /// An op output (`data` laid out as `layout`); recorded on the tape when grad mode is on and
    /// an input requires grad. `backward` receives the output gradient in `layout.gradientLayout`.
    init(shape: [Int], data: [Float], layout: TensorLayout = .plain, op: StaticString, inputs: [Tensor],
         backward: @escaping (_ gradOutput: [Float]) -> Void) {
        precondition(data.count == layout.storageCount(Shape.count(shape)))
        precondition(layout == .plain || TensorLayout.canBlock(shape))
        self.shape = shape
        storage = data
        storageLayout = layout
        gradientLayout = layout.gradientLayout
        let tracked = GradMode.isEnabled && inputs.contains { $0.requiresGrad }
        self.requiresGrad = tracked
        if tracked { node = GradNode(op: op, inputs: inputs, backward: backward) }
        OpTrace.recordUntyped(op, inputs: inputs, output: self)
    }

    /// Converts the storage to row-major.
    @usableFromInline func makePlain() {
        storage = TensorLayout.convert(storage, shape: shape, from: storageLayout, to: .plain)
        storageLayout = .plain
    }

    /// The values laid out as `layout` (`storage` itself when it already is; else converted, and
    /// kept so when `layout` is blocked, for the next blocked reader).
    func values(in layout: TensorLayout) -> [Float] {
        if storageLayout == layout { return storage }
        if layout == .plain { return data }
        storage = TensorLayout.convert(storage, shape: shape, from: storageLayout, to: layout)
        storageLayout = layout
        return storage
    }

    /// `values` of this tensor's shape converted between layouts.
    func inLayout(_ values: [Float], from: TensorLayout, to: TensorLayout) -> [Float] {
        TensorLayout.convert(values, shape: shape, from: from, to: to)
    }

    /// Number of elements.
    public var count: Int { Shape.count(shape) }
    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// Row-major strides of `data` in elements.
    public var strides: [Int] { Shape.strides(shape) }
    /// The single value of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item needs a one-element tensor, shape is \(Shape.describe(shape))")
        return data[0]
    }
    /// Name of the op that produced this tensor ("leaf" for leaves and detached tensors).
    public var opName: String { node.map { "\($0.op)" } ?? "leaf" }
    /// A gradient-free copy sharing storage (copy-on-write).
    public func detached() -> Tensor { Tensor(shape: shape, data: data) }
    /// The gradient as a tensor of the same shape.
    public var gradTensor: Tensor? { grad.map { Tensor(shape: shape, data: $0) } }
    /// Forget the accumulated gradient.
    public func zeroGrad() { gradStorage = nil }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = data.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(\(Shape.describe(shape)), [\(head)\(count > 8 ? ", …" : "")])"
    }
}

// MARK: - Factories

extension Tensor {
    public convenience init(_ values: [Float], shape: [Int]? = nil, requiresGrad: Bool = false) {
        self.init(shape: shape ?? [values.count], data: values, requiresGrad: requiresGrad)
    }

    public convenience init(scalar: Float, requiresGrad: Bool = false) {
        self.init(shape: [], data: [scalar], requiresGrad: requiresGrad)
    }

    public static func zeros(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        full(shape, 0, requiresGrad: requiresGrad)
    }

    public static func ones(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        full(shape, 1, requiresGrad: requiresGrad)
    }

    public static func full(_ shape: [Int], _ value: Float, requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: shape, data: [Float](repeating: value, count: Shape.count(shape)), requiresGrad: requiresGrad)
    }

    /// Standard-normal samples scaled by `std` and shifted by `mean`.
    public static func randn(_ shape: [Int], mean: Float = 0, std: Float = 1, rng: inout RNG,
                             requiresGrad: Bool = false) -> Tensor {
        let n = Shape.count(shape)
        var values = [Float](repeating: 0, count: n)
        for i in 0..<n { values[i] = mean + std * rng.normal() }
        return Tensor(shape: shape, data: values, requiresGrad: requiresGrad)
    }

    /// Uniform samples in [low, high).
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1, rng: inout RNG,
                               requiresGrad: Bool = false) -> Tensor {
        let n = Shape.count(shape)
        var values = [Float](repeating: 0, count: n)
        for i in 0..<n { values[i] = rng.uniform(low, high) }
        return Tensor(shape: shape, data: values, requiresGrad: requiresGrad)
    }

    /// 0, 1, …, n-1 as Float.
    public static func arange(_ n: Int) -> Tensor {
        Tensor(shape: [n], data: (0..<n).map { Float($0) })
    }
}
