/// Why a model could not be written as ONNX.
public enum ONNXExportError: Error, CustomStringConvertible {
    /// The forward pass used an op with no ONNX mapping.
    case unsupportedOp(String, detail: String)
    /// The model's input shape is not [C, H, W] with positive sizes.
    case badInputShape([Int])
    /// The file could not be written.
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unsupportedOp(op, detail):
            return "cannot export op '\(op)' to ONNX: \(detail)"
        case let .badInputShape(shape):
            return "ONNX export needs an input shape [C, H, W] with positive sizes, got \(shape); pass e.g. --size 224"
        case let .writeFailed(path, reason):
            return "cannot write \(path): \(reason)"
        }
    }
}
