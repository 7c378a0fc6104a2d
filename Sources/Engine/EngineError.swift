/// Errors from building, training and evaluating, phrased so the user knows what to change.
public enum EngineError: Error, CustomStringConvertible {
    case config(String)
    case checkpoint(String)
    case data(String)
    case interrupted

    public var description: String {
        switch self {
        case let .config(m): return m
        case let .checkpoint(m): return "checkpoint: \(m)"
        case let .data(m): return "data: \(m)"
        case .interrupted: return "interrupted"
        }
    }
}
