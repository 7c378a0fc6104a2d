import Hummingbird

/// `GET /healthz` (liveness with the gallery size) and `GET /metrics` (Prometheus text format).
struct OperationsRoutes<Context: RequestContext> {
    let service: RetrievalService

    func add(to router: Router<Context>) {
        router.get("/healthz") { _, _ in
            HealthResponse(status: "ok", galleryItems: service.gallery.loadedSnapshot.count, model: service.model.arch)
        }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: service.metrics.registry.render())))
        }
    }
}
