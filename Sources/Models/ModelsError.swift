/// Errors from model building and weight import.
public enum ModelsError: Error, CustomStringConvertible {
    case unknownModel(String, suggestion: String?)
    case unsupported(String)
    case badWeights(String)

    public var description: String {
        switch self {
        case let .unknownModel(name, suggestion):
            return "unknown model '\(name)'" + (suggestion.map { "; did you mean '\($0)'? (`magpie models` lists all)" }
                                                 ?? "; `magpie models` lists the available names")
        case let .unsupported(what): return "unsupported: \(what)"
        case let .badWeights(message): return message
        }
    }
}
