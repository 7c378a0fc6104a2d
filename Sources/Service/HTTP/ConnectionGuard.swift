import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Per-connection deadlines and protocol errors, in the channel pipeline after the HTTP decoder.
///
/// - idle: no byte for `idle` seconds between requests (or after connecting) closes the connection;
/// - header: once a request's first bytes arrive, its headers must be complete within `header`
///   seconds (slow-header clients get a 408 and are closed);
/// - body: after the headers, the body must end within `body` seconds.
///
/// A request the HTTP parser rejects before any route sees it (a bad Content-Length, an over-long
/// URL) gets a 400 with the same JSON error body as every other error, then the connection closes.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum Phase { case waiting, readingHead, readingBody, responding }

    private let idle: TimeAmount
    private let header: TimeAmount
    private let body: TimeAmount
    private var phase = Phase.waiting
    /// Requests whose head was read and whose response has not ended.
    private var open = 0
    private var timer: Scheduled<Void>?

    init(idle: Double, header: Double, body: Double) {
        self.idle = .nanoseconds(Int64(idle * 1e9))
        self.header = .nanoseconds(Int64(header * 1e9))
        self.body = .nanoseconds(Int64(body * 1e9))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context, idle) { $0.close(context) } }
    }

    func handlerRemoved(context: ChannelHandlerContext) { disarm() }

    func channelActive(context: ChannelHandlerContext) {
        arm(context, idle) { $0.close(context) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            open += 1
            phase = .readingBody
            arm(context, body) { $0.close(context) }
        case .body:
            break
        case .end:
            if open == 0 {  // the response went out before the body was read (an early 401, 413, …)
                phase = .waiting
                arm(context, idle) { $0.close(context) }
            } else {
                phase = .responding
                disarm()
            }
        }
        context.fireChannelRead(data)
    }

    /// Bytes arrived; while no request is open they are the start of the next request's headers.
    func channelReadComplete(context: ChannelHandlerContext) {
        if phase == .waiting {
            phase = .readingHead
            arm(context, header) { guard_ in
                guard_.respond(context, status: .requestTimeout,
                               message: "request headers not received within the header timeout (serve --header-timeout)")
            }
        }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            open = max(0, open - 1)
            if open == 0, phase == .responding {
                phase = .waiting
                arm(context, idle) { $0.close(context) }
            }
        }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // While a request is open the route is writing its response: let Hummingbird handle it.
        if error is HTTPParserError, open == 0 {
            disarm()
            respond(context, status: .badRequest, message: "malformed HTTP request (\(error)); check the request line, headers and Content-Length")
            return
        }
        context.fireErrorCaught(error)
    }

    /// Writes a JSON error response and closes the connection after it is sent.
    private func respond(_ context: ChannelHandlerContext, status: HTTPResponse.Status, message: String) {
        let escaped = message.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        let json = "{\"error\":{\"message\":\"\(escaped)\"}}"
        var fields = HTTPFields()
        fields[.contentType] = "application/json; charset=utf-8"
        fields[.contentLength] = "\(json.utf8.count)"
        fields[.connection] = "close"
        context.write(wrapOutboundOut(.head(HTTPResponse(status: status, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(ByteBuffer(string: json))), promise: nil)
        let channel = context.channel
        let sent = context.eventLoop.makePromise(of: Void.self)
        sent.futureResult.whenComplete { _ in channel.close(promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: sent)
    }

    private func close(_ context: ChannelHandlerContext) {
        context.close(promise: nil)
    }

    private func arm(_ context: ChannelHandlerContext, _ delay: TimeAmount, _ fire: @escaping (ConnectionGuard) -> Void) {
        disarm()
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            timer = nil
            fire(self)
        }
    }

    private func disarm() {
        timer?.cancel()
        timer = nil
    }
}
