/// What flows through a transform chain: encoded bytes before `DecodeImage`, an 8-bit image for
/// the geometric and colour ops, floats after `NormalizeImage` / `ToTensor`.
public enum Payload: Sendable {
    case encoded([UInt8], source: String)
    case image(Image)
    case floats(FloatImage)

    /// A short name of the case, for error messages.
    public var kind: String {
        switch self {
        case .encoded: return "encoded bytes"
        case .image: return "an 8-bit image"
        case .floats: return "a float image"
        }
    }
}
