import Hummingbird

/// Gives errors without a message (an unknown route's 404) the same JSON body as every other
/// error, `{"error": {"message": "..."}}`, and answers a known path with the wrong method with
/// 405 and an `Allow` header instead of 404.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: [(pattern: String, methods: [HTTPRequest.Method])]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.body == nil {
            let what = "\(request.method.rawValue) \(request.uri.path)"
            if error.status == .notFound, let methods = ServiceRoutes.methods(for: request.uri.path, in: routes),
               !methods.contains(request.method) {
                let allowed = methods.map(\.rawValue).joined(separator: ", ")
                throw HTTPError(.methodNotAllowed, headers: [.allow: allowed],
                                message: "405 Method Not Allowed: \(what); this route takes \(allowed)")
            }
            throw HTTPError(error.status, headers: error.headers, message: "\(error.status.code) \(error.status.reasonPhrase): \(what)")
        }
    }
}
