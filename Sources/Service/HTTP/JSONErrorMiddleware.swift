import Hummingbird

/// Gives errors without a message (an unknown route's 404, a wrong method's 405) the same JSON
/// body as every other error: `{"error": {"message": "..."}}`.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.body == nil {
            throw HTTPError(error.status, headers: error.headers,
                            message: "\(error.status.code) \(error.status.reasonPhrase): \(request.method.rawValue) \(request.uri.path)")
        }
    }
}
