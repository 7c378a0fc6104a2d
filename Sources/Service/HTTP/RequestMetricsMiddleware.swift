import Dispatch
import Hummingbird

/// Counts every request by route pattern (e.g. `/v1/gallery/items/{id}`, never the raw path),
/// method and status, and records its latency. Errors are counted with the status they become.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServiceMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        func record(_ status: Int) {
            let route = context.endpointPath ?? "unmatched"
            metrics.request(route: route, method: request.method.rawValue, status: status,
                            seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        do {
            let response = try await next(request, context)
            record(response.status.code)
            return response
        } catch {
            record((error as? HTTPResponseError)?.status.code ?? 500)
            throw error
        }
    }
}
