import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1 channel with one more handler, ahead of the conversion to HTTP types (which keeps only the
/// first `Host` and drops an absolute-form target's authority): requests whose host is ambiguous are refused with 400
/// before anything routes them.
public struct StrictHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    public typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    public let responder: HTTPChannelHandler.Responder
    let idleTimeout: Duration?

    public init(responder: @escaping HTTPChannelHandler.Responder, idleTimeout: Duration? = nil) {
        self.responder = responder
        self.idleTimeout = idleTimeout
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false)
            try channel.pipeline.syncOperations.addHandler(HostHeaderCheck())
            try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try channel.pipeline.syncOperations.addHandler(HTTPConnectionStateHandler(idleTimeout: idleTimeout, logger: logger))
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    public func handle(value asyncChannel: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 with ambiguous hosts refused (`StrictHTTP1Channel`).
    public static func strictHTTP1() -> HTTPServerBuilder {
        .init { responder in StrictHTTP1Channel(responder: responder) }
    }
}

/// RFC 9112 §3.2: a request with more than one `Host` header, or none on HTTP/1.1, gets 400; so does one whose
/// absolute-form target names another host than its `Host` header (§3.2.2 makes the target's win, which would route
/// it by a name the `Host` header does not show). The answer names nothing: whose host it was is what is unclear.
final class HostHeaderCheck: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var refusing = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard Self.isUnambiguous(head) else {
                refusing = true
                refuse(context: context, version: head.version)
                return
            }
            context.fireChannelRead(data)
        case .body, .end:
            if !refusing { context.fireChannelRead(data) }
        }
    }

    private func refuse(context: ChannelHandlerContext, version: HTTPVersion) {
        let body = "Bad Request: the request's host is ambiguous.\n"
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: "\(body.utf8.count)")
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: .badRequest, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    static func isUnambiguous(_ head: HTTPRequestHead) -> Bool {
        let hosts = head.headers["Host"]
        if hosts.count > 1 { return false }
        if hosts.isEmpty { return head.version.major < 1 || (head.version.major == 1 && head.version.minor == 0) }
        let uri = head.uri.lowercased()
        guard uri.hasPrefix("http://") || uri.hasPrefix("https://") else { return true }
        let afterScheme = head.uri.drop { $0 != "/" }.dropFirst(2)
        let authority = afterScheme.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard let target = HostName.normalize(authority.split(separator: "@").last ?? ""), let host = HostName.normalize(hosts[0]) else {
            return false
        }
        return target == host
    }
}
