import Hummingbird

/// Every route of the service and its methods: the table the 405 answers and `Allow` headers use.
enum ServiceRoutes {
    static let all: [(pattern: String, methods: [HTTPRequest.Method])] = [
        ("/v1/query", [.post]),
        ("/v1/query/batch", [.post]),
        ("/v1/gallery/items", [.post]),
        ("/v1/gallery/items/{id}", [.get, .delete]),
        ("/v1/gallery/stats", [.get]),
        ("/healthz", [.get]),
        ("/metrics", [.get]),
    ]

    /// The methods of the route `path` matches, or nil when no route has that path.
    static func methods(for path: String, in routes: [(pattern: String, methods: [HTTPRequest.Method])]) -> [HTTPRequest.Method]? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        for route in routes {
            let pattern = route.pattern.split(separator: "/", omittingEmptySubsequences: true)
            guard pattern.count == parts.count else { continue }
            if zip(pattern, parts).allSatisfy({ $0.hasPrefix("{") || $0 == $1 }) { return route.methods }
        }
        return nil
    }
}
