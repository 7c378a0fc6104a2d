import Hummingbird
import HummingbirdCore
import ServiceLifecycle

/// The router with every route and the request metrics.
public func buildRouter(service: RetrievalService) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: RequestMetricsMiddleware(metrics: service.metrics))
    router.add(middleware: JSONErrorMiddleware(routes: ServiceRoutes.all))
    QueryRoutes(service: service).add(to: router)
    GalleryRoutes(service: service).add(to: router)
    OperationsRoutes(service: service).add(to: router)
    return router
}

/// The HTTP application on `configuration.host:port`, with the connection limit and the
/// per-connection deadlines. `onServerRunning` gets the bound port (useful with port 0).
public func buildApplication(service: RetrievalService,
                             onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
    let settings = service.configuration
    var configuration = ApplicationConfiguration(address: .hostname(settings.host, port: settings.port), serverName: "magpie")
    configuration.availableConnectionsDelegate = MaximumAvailableConnections(settings.maxConnections)
    return Application(
        router: buildRouter(service: service),
        server: .http1(configuration: .init(additionalChannelHandlers: [
            ConnectionGuard(idle: settings.idleTimeout, header: settings.headerTimeout, body: settings.bodyTimeout),
        ])),
        configuration: configuration,
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) }
    )
}

/// Runs the server until SIGTERM or SIGINT, which stop new connections and give the requests in
/// flight `shutdownTimeout` seconds to finish before they are cancelled; then waits for model
/// runs and closes the gallery.
public func runServer(service: RetrievalService, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
    let app = buildApplication(service: service, onServerRunning: onServerRunning)
    var group = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [.sigterm, .sigint],
                                          logger: app.logger)
    group.maximumGracefulShutdownDuration = .milliseconds(Int64(service.configuration.shutdownTimeout * 1000))
    group.maximumCancellationDuration = .seconds(5)
    do {
        try await ServiceGroup(configuration: group).run()
    } catch {
        service.shutdown()
        throw error
    }
    service.shutdown()
}
