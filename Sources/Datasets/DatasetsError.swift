/// Errors raised by Datasets, each a one-line message that names the file (and line) at fault.
public enum DatasetsError: Error, CustomStringConvertible, Equatable {
    /// An image file that could not be read or decoded.
    case badImage(path: String, reason: String)
    /// A malformed line in a list file; `line` counts from 1.
    case badLine(path: String, line: Int, reason: String)
    /// A data file (CIFAR batch, folder) that is missing or malformed.
    case badData(path: String, reason: String)
    /// A transform that cannot be built from its parameters or applied to its input.
    case badTransform(name: String, reason: String)
    /// A sampler or loader asked for something it cannot do.
    case badSampling(String)

    public var description: String {
        switch self {
        case let .badImage(path, reason): return "\(path): cannot decode image: \(reason)"
        case let .badLine(path, line, reason): return "\(path):\(line): \(reason)"
        case let .badData(path, reason): return "\(path): \(reason)"
        case let .badTransform(name, reason): return "transform \(name): \(reason)"
        case let .badSampling(message): return "sampler: \(message)"
        }
    }
}
