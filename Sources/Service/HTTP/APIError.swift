import Datasets
import Engine
import Hummingbird
import Retrieval

/// JSON error responses (`{"error": {"message": "..."}}`, Hummingbird's `HTTPError` format) and
/// the status each library error maps to. Bad input is always a 4xx, never a crash.
enum APIError {
    static func badRequest(_ message: String) -> HTTPError { HTTPError(.badRequest, message: message) }
    static func notFound(_ message: String) -> HTTPError { HTTPError(.notFound, message: message) }
    static func tooLarge(limit: Int) -> HTTPError {
        HTTPError(.contentTooLarge, message: "request body is larger than the limit of \(limit) bytes (serve --max-body-bytes)")
    }
    static func unsupported(_ message: String) -> HTTPError { HTTPError(.unsupportedMediaType, message: message) }
    static func overloaded(_ message: String) -> HTTPError {
        HTTPError(.serviceUnavailable, headers: [.retryAfter: "1"], message: message)
    }

    /// The HTTP error for a thrown error: library errors become 4xx/5xx with their one-line
    /// description; HTTP errors pass through.
    static func map(_ error: Error) -> Error {
        switch error {
        case is HTTPError: return error
        case let e as ServiceOverloaded: return overloaded(e.description)
        case is CancellationError: return HTTPError(.serviceUnavailable, message: "the service is shutting down; retry against a running instance")
        case let e as DatasetsError:
            if case .badImage = e { return HTTPError(.badRequest, message: e.description) }
            return HTTPError(.badRequest, message: e.description)
        case let e as RetrievalError:
            switch e {
            case .duplicateID: return HTTPError(.conflict, message: e.description)
            case .unknownID: return HTTPError(.notFound, message: e.description)
            case .invalidID, .invalidArgument, .nonFiniteVector, .dimensionMismatch: return HTTPError(.badRequest, message: e.description)
            case .idsExhausted: return HTTPError(.conflict, message: e.description)
            case .storageFull: return HTTPError(.init(code: 507, reasonPhrase: "Insufficient Storage"), message: e.description)
            default: return HTTPError(.internalServerError, message: e.description)
            }
        case let e as EngineError: return HTTPError(.badRequest, message: e.description)
        default: return HTTPError(.internalServerError, message: "\(error)")
        }
    }
}
