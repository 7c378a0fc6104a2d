import Hummingbird

/// The router with every route and the request metrics.
public func buildRouter(service: RetrievalService) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: RequestMetricsMiddleware(metrics: service.metrics))
    router.add(middleware: JSONErrorMiddleware())
    QueryRoutes(service: service).add(to: router)
    GalleryRoutes(service: service).add(to: router)
    OperationsRoutes(service: service).add(to: router)
    return router
}

/// The HTTP application on `configuration.host:port`. `onServerRunning` gets the bound port
/// (useful with port 0).
public func buildApplication(service: RetrievalService,
                             onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
    Application(
        router: buildRouter(service: service),
        configuration: .init(address: .hostname(service.configuration.host, port: service.configuration.port), serverName: "magpie"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) }
    )
}

/// Runs the server until SIGTERM or SIGINT, which stop new connections and let the requests in
/// flight finish; then waits for model runs and closes the gallery.
public func runServer(service: RetrievalService, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
    let app = buildApplication(service: service, onServerRunning: onServerRunning)
    do {
        try await app.runService()
    } catch {
        service.shutdown()
        throw error
    }
    service.shutdown()
}
