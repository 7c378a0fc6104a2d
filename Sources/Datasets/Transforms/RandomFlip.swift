import TensorCore

/// PaddleClas `RandFlipImage(flip_code)` and torchvision `RandomHorizontalFlip(prob)`:
/// flips with probability `probability` (code 1 horizontal, 0 vertical, -1 both).
public struct RandomFlip: ImageTransform {
    public enum Direction: Sendable { case horizontal, vertical, both }
    public let name: String
    public var direction: Direction
    public var probability: Double

    public init(direction: Direction = .horizontal, probability: Double = 0.5, name: String = "RandomHorizontalFlip") {
        self.direction = direction; self.probability = probability; self.name = name
    }

    public func apply(_ input: Payload, rng: inout RNG) throws -> Payload {
        let image = try requireImage(input)
        guard Double(rng.uniform()) < probability else { return .image(image) }
        switch direction {
        case .horizontal: return .image(image.flippedHorizontally())
        case .vertical: return .image(image.flippedVertically())
        case .both: return .image(image.flippedHorizontally().flippedVertically())
        }
    }
}
