import Datasets
import Foundation
import Hummingbird
import HummingbirdTesting
import Retrieval
import Testing
@testable import Service

/// Requests an attacker or an unlucky client sends: each gets a JSON 4xx/5xx and the service goes on.
@Suite struct ServiceHardeningTests {
    static let jpeg: [(String, String)] = [("Content-Type", "image/jpeg")]

    @Test func wrongMethodIs405WithAllow() async throws {
        let f = try ServiceFixture()
        defer { f.cleanup() }
        try await f.application.test(.router) { client in
            try await client.execute(uri: "/v1/query", method: .get) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "POST")
                let error = try ServiceFixture.json(response.body)["error"] as? [String: Any]
                #expect(error?["message"] != nil)
            }
            try await client.execute(uri: "/v1/gallery/items/3", method: .post) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET, DELETE")
            }
            try await client.execute(uri: "/v1/nothing", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func writesNeedTheKeyQueriesDoNot() async throws {
        let key = "0123456789abcdef-test-key"
        let f = try ServiceFixture { $0.apiKey = key }
        defer { f.cleanup() }
        try await f.application.test(.router) { client in
            for auth in [nil, "Bearer wrong-key-of-some-length", "Basic \(key)"] {
                var headers = HTTPFields()
                if let auth { headers[.authorization] = auth }
                try await client.execute(uri: "/v1/gallery/items", method: .post, headers: headers,
                                         body: ByteBuffer(bytes: f.extra[0])) { response in
                    #expect(response.status == .unauthorized)
                    #expect(response.headers[.wwwAuthenticate] == "Bearer")
                }
            }
            try await client.execute(uri: "/v1/gallery/items/0", method: .delete) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/v1/gallery/items", method: .post, headers: [.authorization: "Bearer \(key)"],
                                     body: ByteBuffer(bytes: f.extra[0])) { response in
                #expect(response.status == .created)
            }
            try await client.execute(uri: "/v1/gallery/items/0", method: .delete, headers: [.authorization: "Bearer \(key)"]) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/query?k=1", method: .post, body: ByteBuffer(bytes: f.images[1])) { response in
                #expect(response.status == .ok)
            }
        }
        #expect(RetrievalService.constantTimeEqual(Array("abc".utf8), Array("abc".utf8)))
        #expect(!RetrievalService.constantTimeEqual(Array("abc".utf8), Array("abd".utf8)))
        #expect(!RetrievalService.constantTimeEqual(Array("abc".utf8), Array("abcd".utf8)))
    }

    /// The id that used to overflow `max + 1` and crash every later start.
    @Test func extremeIdIsRefusedAndTheServiceGoesOn() async throws {
        let f = try ServiceFixture()
        defer { f.cleanup() }
        try await f.application.test(.router) { client in
            for id in ["9223372036854775807", "9007199254740992", "-1", "1e3"] {
                try await client.execute(uri: "/v1/gallery/items?id=\(id)", method: .post, body: ByteBuffer(bytes: f.extra[0])) { response in
                    #expect(response.status == .badRequest, "id \(id)")
                }
            }
            try await client.execute(uri: "/v1/gallery/items?id=\(Gallery.maxID)", method: .post, body: ByteBuffer(bytes: f.extra[0])) { response in
                #expect(response.status == .created)
            }
            // Counting up has reached the end of the range: the next automatic id is the lowest free one.
            try await client.execute(uri: "/v1/gallery/items", method: .post, body: ByteBuffer(bytes: f.extra[1])) { response in
                #expect(response.status == .created)
                let items = try ServiceFixture.json(response.body)["items"] as? [[String: Any]]
                #expect((items?.first?["id"] as? NSNumber)?.int64Value == 12)
            }
            try await client.execute(uri: "/v1/gallery/items?id=500", method: .post, body: ByteBuffer(bytes: f.extra[1])) { response in
                #expect(response.status == .created)
            }
        }
        // And the gallery opens again for the next `serve`.
        #expect(try SearchableGallery(path: f.galleryPath).snapshot.count == 15)
    }

    @Test func oversizedMetadataImagesAndBoundariesAreRefused() async throws {
        let f = try ServiceFixture { $0.maxMetadataBytes = 64; $0.maxPixels = 32 * 32 - 1 }
        defer { f.cleanup() }
        try await f.application.test(.router) { client in
            let metadata = "{\"note\": \"\(String(repeating: "x", count: 100))\"}"
            let form = ServiceFixture.multipart(files: [("image", "a.jpg", f.extra[0])], fields: [("metadata", metadata)])
            try await client.execute(uri: "/v1/gallery/items", method: .post,
                                     headers: [.contentType: "multipart/form-data; boundary=magpie-test-boundary"], body: form) { response in
                #expect(response.status == .contentTooLarge)
            }
            // The fixture's images are 32x32: one pixel over the limit, refused from the header.
            try await client.execute(uri: "/v1/query", method: .post, body: ByteBuffer(bytes: f.images[0])) { response in
                #expect(response.status == .contentTooLarge)
                #expect("\(String(buffer: response.body))".contains("32x32"))
            }
            let boundary = String(repeating: "b", count: 71)
            let long = ServiceFixture.multipart(files: [("image", "a.jpg", f.extra[0])], boundary: boundary)
            try await client.execute(uri: "/v1/query", method: .post,
                                     headers: [.contentType: "multipart/form-data; boundary=\(boundary)"], body: long) { response in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test func truncatedHugeHeaderIsABadRequest() async throws {
        let f = try ServiceFixture()
        defer { f.cleanup() }
        var patched = f.images[0]
        let sof = try #require((2..<(patched.count - 9)).first { patched[$0] == 0xFF && patched[$0 + 1] == 0xC0 })
        // 6000x6000: under the default 40 M pixel limit, so only the size-versus-bytes bound refuses it.
        for (offset, byte) in [(5, 0x17), (6, 0x70), (7, 0x17), (8, 0x70)] { patched[sof + offset] = UInt8(byte) }
        let bomb = patched
        try await f.application.test(.router) { client in
            try await client.execute(uri: "/v1/query", method: .post, body: ByteBuffer(bytes: bomb)) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("truncated"))
            }
        }
    }

    @Test func fullQueuesAnswer503WithRetryAfter() async throws {
        let workers = RequestWorkers(threads: 1, maxQueued: 0)
        defer { workers.stop() }
        let gate = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        async let blocked: Int = workers.run { started.signal(); gate.wait(); return 1 }
        started.wait()
        await #expect(throws: ServiceOverloaded.self) { try await workers.run { 2 } }
        gate.signal()
        #expect(try await blocked == 1)
        #expect(try await workers.run { 3 } == 3)
        let mapped = try #require(APIError.map(ServiceOverloaded(queue: "test")) as? HTTPError)
        #expect(mapped.status == .serviceUnavailable && mapped.headers[.retryAfter] == "1")
    }

    /// `magpie gallery add` while serving: the served snapshot follows, and automatic ids skip the
    /// ids the other writer took.
    @Test func servedGallerySeesAnotherWritersCommits() throws {
        let f = try ServiceFixture()
        defer { f.cleanup() }
        let live = f.service.gallery
        let other = try Gallery.open(at: f.galleryPath)
        let d = f.model.embeddingSize
        try other.add(ids: [12, 13], vectors: [Float](repeating: 0.1, count: 2 * d))
        #expect(live.snapshot.count == 14)
        #expect(live.item(13) != nil)
        let ids = try live.add(vectors: [Float](repeating: 0.2, count: d), records: [GalleryRecord()], ids: [nil])
        #expect(ids == [14])
        try other.delete([0])
        #expect(live.snapshot.count == 14 && live.item(0) == nil)
        other.close()
    }
}

/// `filter` and `min_score` on the query routes.
@Suite struct QueryOptionsTests {
    @Test func filterAndMinScore() async throws {
        let f = try ServiceFixture()
        defer { f.cleanup() }
        try await f.application.test(.router) { client in
            // Fixture labels are id / 2: label 3 is items 6 and 7.
            try await client.execute(uri: "/v1/query?k=5&filter=label%3D3", method: .post, body: ByteBuffer(bytes: f.images[0])) { response in
                #expect(response.status == .ok)
                let ids = ServiceFixture.neighbourIDs(try ServiceFixture.json(response.body))
                #expect(Set(ids) == [6, 7])
            }
            try await client.execute(uri: "/v1/query?k=5&min_score=2", method: .post, body: ByteBuffer(bytes: f.images[0])) { response in
                #expect(response.status == .ok)
                let ids = ServiceFixture.neighbourIDs(try ServiceFixture.json(response.body))
                #expect(ids.isEmpty)  // no match
            }
            try await client.execute(uri: "/v1/query?filter=label%3Dx", method: .post, body: ByteBuffer(bytes: f.images[0])) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/v1/query?min_score=abc", method: .post, body: ByteBuffer(bytes: f.images[0])) { response in
                #expect(response.status == .badRequest)
            }
        }
    }
}
