import Foundation
import Hummingbird
import HummingbirdTesting
import Retrieval
import Testing
@testable import Service

@Suite struct ServiceRoutesTests {
    @Test func queryFindsTheSameImageFirst() async throws {
        let f = try ServiceFixture()
        defer { f.cleanup() }
        try await f.application.test(.router) { client in
            for i in [0, 5, 11] {
                try await client.execute(uri: "/v1/query?k=3", method: .post, body: ByteBuffer(bytes: f.images[i])) { response in
                    #expect(response.status == .ok)
                    let object = try ServiceFixture.json(response.body)
                    let neighbours = object["neighbours"] as! [[String: Any]]
                    #expect(neighbours.count == 3)
                    #expect(ServiceFixture.neighbourIDs(object).first == Int64(i))
                    #expect(abs((neighbours[0]["score"] as! NSNumber).doubleValue - 1) < 1e-4)
                    #expect((neighbours[0]["label"] as! NSNumber).int64Value == Int64(i / 2))
                    #expect(neighbours[0]["path"] as? String == "item\(i).jpg")
                    #expect((object["gallery_items"] as! NSNumber).intValue == 12)
                }
            }
            // The same through a multipart upload, and with re-ranking.
            let form = ServiceFixture.multipart(files: [("image", "q.jpg", f.images[7])])
            try await client.execute(uri: "/v1/query?k=4&rerank=true", method: .post,
                                     headers: [.contentType: "multipart/form-data; boundary=magpie-test-boundary"], body: form) { response in
                #expect(response.status == .ok)
                let object = try ServiceFixture.json(response.body)
                #expect(ServiceFixture.neighbourIDs(object).first == 7)
                #expect(object["rerank"] as? Bool == true)
            }
        }
    }

    @Test func batchQueryAnswersEachImage() async throws {
        let f = try ServiceFixture()
        defer { f.cleanup() }
        try await f.application.test(.router) { client in
            let form = ServiceFixture.multipart(files: [("image", "a.jpg", f.images[2]), ("image", "b.jpg", f.images[9])])
            try await client.execute(uri: "/v1/query/batch?k=2", method: .post,
                                     headers: [.contentType: "multipart/form-data; boundary=magpie-test-boundary"], body: form) { response in
                #expect(response.status == .ok)
                let results = try ServiceFixture.json(response.body)["results"] as! [[String: Any]]
                #expect(results.count == 2)
                #expect(results.map { $0["source"] as? String } == ["a.jpg", "b.jpg"])
                #expect(results.map { ServiceFixture.neighbourIDs($0).first } == [2, 9])
            }
        }
    }

    @Test func addedItemIsFoundAndDeletedItemIsGone() async throws {
        let f = try ServiceFixture()
        defer { try? FileManager.default.removeItem(at: f.root) }
        let newcomer = f.extra[0]
        try await f.application.test(.router) { client in
            let newID: Int64 = try await client.execute(uri: "/v1/gallery/items?label=77&metadata=%7B%22sku%22%3A%22A-1%22%7D",
                                                        method: .post, body: ByteBuffer(bytes: newcomer)) { response in
                #expect(response.status == .created)
                let items = try ServiceFixture.json(response.body)["items"] as! [[String: Any]]
                return (items[0]["id"] as! NSNumber).int64Value
            }
            #expect(newID == 12)  // after the largest id
            try await client.execute(uri: "/v1/query?k=1", method: .post, body: ByteBuffer(bytes: newcomer)) { response in
                let object = try ServiceFixture.json(response.body)
                let first = (object["neighbours"] as! [[String: Any]])[0]
                #expect((first["id"] as! NSNumber).int64Value == newID)
                #expect((first["label"] as! NSNumber).int64Value == 77)
                #expect((first["metadata"] as? [String: Any])?["sku"] as? String == "A-1")
                #expect((object["gallery_items"] as! NSNumber).intValue == 13)
            }
            try await client.execute(uri: "/v1/gallery/items/\(newID)?vector=true", method: .get) { response in
                #expect(response.status == .ok)
                let object = try ServiceFixture.json(response.body)
                #expect((object["vector"] as! [Any]).count == f.model.embeddingSize)
            }
            // Explicit ids: a new one is taken, an existing one is refused with 409.
            try await client.execute(uri: "/v1/gallery/items?id=500", method: .post, body: ByteBuffer(bytes: f.extra[1])) { response in
                #expect(response.status == .created)
            }
            try await client.execute(uri: "/v1/gallery/items?id=3", method: .post, body: ByteBuffer(bytes: f.extra[2])) { response in
                #expect(response.status == .conflict)
            }
            try await client.execute(uri: "/v1/gallery/items/\(newID)", method: .delete) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/query?k=3", method: .post, body: ByteBuffer(bytes: newcomer)) { response in
                let ids = ServiceFixture.neighbourIDs(try ServiceFixture.json(response.body))
                #expect(!ids.contains(newID))
            }
            try await client.execute(uri: "/v1/gallery/items/\(newID)", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/v1/gallery/items/\(newID)", method: .delete) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/v1/gallery/stats", method: .get) { response in
                let object = try ServiceFixture.json(response.body)
                #expect((object["items"] as! NSNumber).intValue == 13)
                #expect(object["fingerprint"] as? String == f.model.fingerprint)
            }
        }
        // The writes were committed to LMDB: a fresh open sees exactly them.
        f.service.shutdown()
        let ids = try Gallery.open(at: f.galleryPath, readOnly: true).snapshot().ids
        #expect(ids == (0..<12).map(Int64.init) + [500])
    }

    /// A gallery searching an HNSW graph serves writes the same way: an added image is found,
    /// a deleted one never again; stats name the index and the writes pending beside it.
    @Test func hnswGalleryServesWritesAndDeletes() async throws {
        let f = try ServiceFixture(items: 40, index: .hnsw(.init(m: 8, efConstruction: 40, efSearch: 32)))
        defer { f.cleanup() }
        let newcomer = f.extra[0]
        try await f.application.test(.router) { client in
            let newID: Int64 = try await client.execute(uri: "/v1/gallery/items?label=9", method: .post, body: ByteBuffer(bytes: newcomer)) { response in
                #expect(response.status == .created)
                return ((try ServiceFixture.json(response.body)["items"] as! [[String: Any]])[0]["id"] as! NSNumber).int64Value
            }
            try await client.execute(uri: "/v1/query?k=1", method: .post, body: ByteBuffer(bytes: newcomer)) { response in
                let ids = ServiceFixture.neighbourIDs(try ServiceFixture.json(response.body))
                #expect(ids == [newID])
            }
            try await client.execute(uri: "/v1/query?k=1", method: .post, body: ByteBuffer(bytes: f.images[5])) { response in
                let ids = ServiceFixture.neighbourIDs(try ServiceFixture.json(response.body))
                #expect(ids == [5])
            }
            try await client.execute(uri: "/v1/gallery/items/5", method: .delete) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/query?k=40", method: .post, body: ByteBuffer(bytes: f.images[5])) { response in
                let ids = ServiceFixture.neighbourIDs(try ServiceFixture.json(response.body))
                #expect(!ids.contains(5) && ids.count == 40)
            }
            try await client.execute(uri: "/v1/gallery/stats", method: .get) { response in
                let object = try ServiceFixture.json(response.body)
                #expect((object["index"] as? String)?.hasPrefix("HNSW8") == true)
                #expect((object["pending_adds"] as! NSNumber).intValue == 1 && (object["pending_removals"] as! NSNumber).intValue == 1)
            }
        }
    }

    @Test func badRequestsGetJSONErrors() async throws {
        let f = try ServiceFixture(items: 4) { $0.maxBodyBytes = 4096 }
        defer { f.cleanup() }
        try await f.application.test(.router) { client in
            func expectError(_ uri: String, _ method: HTTPRequest.Method = .post, body: [UInt8]?, _ status: HTTPResponse.Status,
                             _ fragment: String) async throws {
                try await client.execute(uri: uri, method: method, body: body.map { ByteBuffer(bytes: $0) }) { response in
                    #expect(response.status == status, "\(uri)")
                    let error = try ServiceFixture.json(response.body)["error"] as? [String: Any]
                    let message = error?["message"] as? String ?? ""
                    #expect(message.contains(fragment), "\(uri): \(message)")
                }
            }
            try await expectError("/v1/query", body: [UInt8](repeating: 0xFF, count: 5000), .contentTooLarge, "limit of 4096 bytes")
            try await expectError("/v1/query", body: Array("hello, not an image".utf8), .unsupportedMediaType, "not a JPEG or PNG")
            try await expectError("/v1/query", body: [0xFF, 0xD8, 0xFF, 0xE0] + [UInt8](repeating: 7, count: 200), .badRequest, "cannot decode image")
            try await expectError("/v1/query", body: nil, .badRequest, "no image in the request")
            try await expectError("/v1/query?k=0", body: f.images[0], .badRequest, "k must be an integer")
            try await expectError("/v1/query?rerank=maybe", body: f.images[0], .badRequest, "rerank must be true or false")
            try await expectError("/v1/gallery/items?label=x", body: f.images[0], .badRequest, "label must be an integer")
            try await expectError("/v1/gallery/items?metadata=%5B1%5D", body: f.images[0], .badRequest, "metadata must be a JSON object")
            try await expectError("/v1/gallery/items/abc", .get, body: nil, .badRequest, "non-negative integer")
            try await expectError("/v1/gallery/items/99", .get, body: nil, .notFound, "not in the gallery")
            try await expectError("/v2/nothing", .get, body: nil, .notFound, "GET /v2/nothing")
            // A bad upload wrote nothing.
            #expect(f.service.gallery.snapshot.count == 4)
        }
    }

    @Test func healthAndMetrics() async throws {
        let f = try ServiceFixture(items: 4)
        defer { f.cleanup() }
        try await f.application.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                let object = try ServiceFixture.json(response.body)
                #expect(object["status"] as? String == "ok")
            }
            try await client.execute(uri: "/v1/query", method: .post, body: ByteBuffer(bytes: f.images[1])) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/query", method: .post, body: ByteBuffer(bytes: f.images[2])) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/query", method: .post, body: ByteBuffer(bytes: Array("text".utf8))) { _ in }
            try await client.execute(uri: "/v1/gallery/items/3", method: .delete) { #expect($0.status == .ok) }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                let text = String(buffer: response.body)
                for line in [
                    "# TYPE magpie_http_requests_total counter",
                    "magpie_http_requests_total{method=\"POST\",route=\"/v1/query\",status=\"200\"} 2",
                    "magpie_http_requests_total{method=\"POST\",route=\"/v1/query\",status=\"415\"} 1",
                    "magpie_http_requests_total{method=\"DELETE\",route=\"/v1/gallery/items/{id}\",status=\"200\"} 1",
                    "magpie_http_request_duration_seconds_count{route=\"/v1/query\"} 3",
                    "magpie_queries_total{rerank=\"false\"} 2",
                    "magpie_embed_duration_seconds_count 2",
                    "magpie_embed_batch_images_sum 2",
                    "magpie_gallery_items 3",
                    "magpie_gallery_writes_total{op=\"remove\"} 1",
                ] {
                    #expect(text.contains(line + "\n"), "missing: \(line)")
                }
                #expect(text.contains("magpie_model_info{arch=\"RecModel\",fingerprint=\"\(f.model.fingerprint)\"} 1"))
            }
        }
    }
}
