/// Errors from layers, state dicts and optimizers, worded so the user can act on them.
public enum NNError: Error, CustomStringConvertible {
    case stateDictMismatch(LoadReport)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .stateDictMismatch(report):
            return "state dict does not fit the model: \(report) (load with strict: false to copy what fits)"
        case let .invalidArgument(message):
            return message
        }
    }
}
