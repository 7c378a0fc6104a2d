import Foundation
import Hummingbird
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPTypes
import Testing
@testable import Service

/// The per-connection deadlines and the JSON answer to parser errors, on an embedded channel.
@Suite struct ConnectionGuardTests {
    static func channel(idle: Double = 60, header: Double = 10, body: Double = 60) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: ConnectionGuard(idle: idle, header: header, body: body))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    @Test func parserErrorBeforeARequestGetsAJSON400() throws {
        let channel = try Self.channel()
        channel.pipeline.fireErrorCaught(HTTPParserError.invalidContentLength)
        guard case let .head(head)? = try channel.readOutbound(as: HTTPResponsePart.self) else {
            Issue.record("no response head"); return
        }
        #expect(head.status == .badRequest)
        guard case let .body(buffer)? = try channel.readOutbound(as: HTTPResponsePart.self) else {
            Issue.record("no response body"); return
        }
        let object = try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any]
        #expect(((object?["error"] as? [String: Any])?["message"] as? String)?.contains("malformed HTTP request") == true)
        #expect(head.headerFields[.contentLength] == "\(buffer.readableBytes)")
    }

    @Test func silentConnectionIsClosedAfterTheIdleTimeout() throws {
        let channel = try Self.channel(idle: 5)
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
    }

    @Test func slowHeadersGet408() throws {
        let channel = try Self.channel(idle: 60, header: 2)
        channel.pipeline.fireChannelReadComplete()  // bytes of a request line, no complete head yet
        channel.embeddedEventLoop.advanceTime(by: .seconds(3))
        guard case let .head(head)? = try channel.readOutbound(as: HTTPResponsePart.self) else {
            Issue.record("no 408"); return
        }
        #expect(head.status == .requestTimeout)
    }

    @Test func slowBodyIsCutOffButAPromptRequestIsNot() throws {
        let channel = try Self.channel(idle: 60, header: 2, body: 5)
        try channel.writeInbound(HTTPRequestPart.head(HTTPRequest(method: .post, scheme: nil, authority: nil, path: "/v1/query")))
        channel.embeddedEventLoop.advanceTime(by: .seconds(3))
        #expect(channel.isActive)  // the header deadline no longer applies
        channel.embeddedEventLoop.advanceTime(by: .seconds(3))
        #expect(!channel.isActive)

        let prompt = try Self.channel(idle: 60, header: 2, body: 5)
        try prompt.writeInbound(HTTPRequestPart.head(HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/healthz")))
        try prompt.writeInbound(HTTPRequestPart.end(nil))
        prompt.embeddedEventLoop.advanceTime(by: .seconds(30))  // the route is still answering: no deadline
        #expect(prompt.isActive)
    }
}

extension ConnectionGuardTests {
    /// A response sent before the body was read (an early 401 or 413) must not leave the
    /// connection without a deadline.
    @Test func earlyResponseStillEndsInTheIdleTimeout() throws {
        let channel = try Self.channel(idle: 5, header: 2, body: 60)
        try channel.writeInbound(HTTPRequestPart.head(HTTPRequest(method: .post, scheme: nil, authority: nil, path: "/v1/gallery/items")))
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .unauthorized)))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        try channel.writeInbound(HTTPRequestPart.end(nil))  // the rest of the body, drained
        channel.embeddedEventLoop.advanceTime(by: .seconds(6))
        #expect(!channel.isActive)
    }
}
