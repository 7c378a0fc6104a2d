import Datasets
import Engine
import Foundation
import Hummingbird
import Retrieval
import Service
import TestSupport

/// A real gallery in a temp folder: generated JPEGs embedded by a small random-weight model
/// (PP-LCNet x0.25 at 32 px; weights from the fixed-seed initialiser), in LMDB.
final class ServiceFixture {
    let root: URL
    let galleryPath: String
    let model: InferenceModel
    let service: RetrievalService
    /// Encoded images: `images[i]` is gallery item i; `extra` are not in the gallery.
    let images: [[UInt8]]
    let extra: [[UInt8]]

    static func pattern(_ n: Int, side: Int = 32) throws -> [UInt8] {
        var pixels = [UInt8](repeating: 255, count: side * side * 3)
        for y in 0..<side {
            for x in 0..<side where (x / (2 + n % 4) + y / (2 + (n / 4) % 4)) % 2 == 0 {
                pixels[(y * side + x) * 3 + n % 3] = UInt8(30 * (n % 7))
                pixels[(y * side + x) * 3 + (n + 1) % 3] = UInt8(255 - 20 * (n % 11))
            }
        }
        return try JPEGEncoder.encode(Image(width: side, height: side, channels: 3, pixels: pixels), quality: 95)
    }

    static let config = TinyRetrieval.inferenceConfig(dimension: 16, gallerySplit: true)

    /// `index`: the gallery searches with it (default exact).
    init(items: Int = 12, index: IndexSpec = .flat, configure: (inout ServiceConfiguration) -> Void = { _ in }) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("magpie-service-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        galleryPath = root.appendingPathComponent("gallery").path
        model = try InferenceModel(config: Config(yaml: Self.config))
        images = try (0..<items).map { try Self.pattern($0) }
        extra = try (items..<(items + 3)).map { try Self.pattern($0) }
        let store = try Gallery.create(at: galleryPath, manifest: GalleryManifest(
            dimension: model.embeddingSize, model: model.arch, fingerprint: model.fingerprint))
        let vectors = try model.embed(encoded: images.enumerated().map { (bytes: $0.element, source: "item\($0.offset)") })
        try store.add(ids: (0..<items).map(Int64.init), vectors: vectors.data,
                      records: (0..<items).map { GalleryRecord(label: Int64($0 / 2), path: "item\($0).jpg") })
        try store.setIndex(index)
        store.close()
        var settings = ServiceConfiguration()
        configure(&settings)
        service = try RetrievalService(model: model, gallery: SearchableGallery(path: galleryPath), configuration: settings)
    }

    var application: some ApplicationProtocol { Application(router: buildRouter(service: service)) }

    func cleanup() {
        service.shutdown()
        try? FileManager.default.removeItem(at: root)
    }

    static func json(_ body: ByteBuffer) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(body.readableBytesView))
        guard let dict = object as? [String: Any] else { throw CocoaError(.coderReadCorrupt) }
        return dict
    }

    static func neighbourIDs(_ object: [String: Any]) -> [Int64] {
        ((object["neighbours"] as? [[String: Any]]) ?? []).compactMap { ($0["id"] as? NSNumber)?.int64Value }
    }

    /// A multipart/form-data body with file parts and text fields.
    static func multipart(files: [(name: String, filename: String, bytes: [UInt8])], fields: [(String, String)] = [],
                          boundary: String = "magpie-test-boundary") -> ByteBuffer {
        var body: [UInt8] = []
        for (name, value) in fields {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        for file in files {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.name)\"; filename=\"\(file.filename)\"\r\nContent-Type: image/jpeg\r\n\r\n".utf8)
            body += file.bytes + Array("\r\n".utf8)
        }
        body += Array("--\(boundary)--\r\n".utf8)
        return ByteBuffer(bytes: body)
    }
}
