/// Errors raised by TensorCore with messages a user can act on.
public enum TensorCoreError: Error, CustomStringConvertible, Equatable {
    case invalidFile(path: String, reason: String)
    case unsupportedDType(String, path: String)
    case shapeMismatch(String)
    case missingTensor(String, path: String)
    /// This machine cannot run what was asked (a kernel library or instruction set is missing).
    case unsupported(String)

    public var description: String {
        switch self {
        case let .invalidFile(path, reason):
            return "\(path): \(reason)"
        case let .unsupportedDType(dtype, path):
            return "\(path): dtype \(dtype) is not supported (supported: F32, F64, F16, BF16, I64, I32, U8, BOOL)"
        case let .shapeMismatch(message):
            return "shape mismatch: \(message)"
        case let .missingTensor(name, path):
            return "\(path): no tensor named '\(name)'"
        case let .unsupported(message):
            return message
        }
    }
}
