import TensorCore

/// Resizing under both vocabularies.
///
/// * PaddleClas `ResizeImage(resize_short:)` scales the short side to `resize_short` and
///   **rounds** both sides (`int(round(w * percent))`); `ResizeImage(size:)` gives an exact size,
///   an int `s` meaning s × s, a list meaning `[w, h]`.
/// * torchvision / paddle.vision `Resize(size)` with an int keeps the aspect ratio and
///   **truncates** the long side (`int(size * long / short)`); a list means `[h, w]`.
public struct Resize: ImageTransform {
    public enum Target: Sendable, Equatable {
        /// PaddleClas rounding.
        case shortSideRounded(Int)
        /// torchvision truncation.
        case shortSideTruncated(Int)
        case exact(width: Int, height: Int)
    }

    public let name: String
    public var target: Target
    public var filter: ResampleFilter

    public init(_ target: Target, filter: ResampleFilter = .bilinear, name: String = "Resize") {
        self.target = target
        self.filter = filter
        self.name = name
    }

    /// Output (width, height) for an input of the given size.
    public func outputSize(width w: Int, height h: Int) -> (Int, Int) {
        switch target {
        case let .exact(width, height):
            return (width, height)
        case let .shortSideRounded(s):
            let percent = Double(s) / Double(min(w, h))
            return (max(1, Int((Double(w) * percent).rounded(.toNearestOrEven))),
                    max(1, Int((Double(h) * percent).rounded(.toNearestOrEven))))
        case let .shortSideTruncated(s):
            if w <= h { return (s, max(1, Int(Double(s) * Double(h) / Double(w)))) }
            return (max(1, Int(Double(s) * Double(w) / Double(h))), s)
        }
    }

    public func apply(_ input: Payload, rng: inout RNG) throws -> Payload {
        let image = try requireImage(input)
        guard image.width > 0 && image.height > 0 else {
            throw DatasetsError.badTransform(name: name, reason: "cannot resize an empty image")
        }
        let (w, h) = outputSize(width: image.width, height: image.height)
        return .image(image.resized(width: w, height: h, filter: filter))
    }
}
