import NIOCore
import NIOHTTP1

/// One connection to the fake: collects a request, answers it on the event loop (the fake's state is behind a mutex,
/// so connections never wait on each other beyond it), and keeps the connection alive as the client asks.
final class FakeTelegramHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// The most of a request body read (the Bot API's own limit on a JSON call is far larger than any message).
    static let bodyLimit = 1 << 20

    private let api: FakeTelegramAPI
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(api: FakeTelegramAPI) {
        self.api = api
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.removeAll(keepingCapacity: true)
        case .body(let part):
            if body.count + part.readableBytes <= Self.bodyLimit { body += part.readableBytesView }
        case .end:
            guard let head else { return }
            self.head = nil
            let answer = api.answer(
                method: head.method.rawValue, uri: head.uri, contentType: head.headers.first(name: "Content-Type"), body: body)
            respond(answer, keepAlive: head.isKeepAlive, context: context)
        }
    }

    private func respond(_ answer: FakeTelegramAnswer, keepAlive: Bool, context: ChannelHandlerContext) {
        let status: Int
        let contentType: String
        let buffer: ByteBuffer
        switch answer {
        case .close:
            context.close(promise: nil)
            return
        case .json(let code, let text):
            (status, contentType, buffer) = (code, "application/json", context.channel.allocator.buffer(string: text))
        case .file(let bytes):
            (status, contentType, buffer) = (200, "application/octet-stream", context.channel.allocator.buffer(bytes: bytes))
        }
        var headers = HTTPHeaders()
        headers.add(name: "Server", value: "nginx/1.18.0")
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: "\(buffer.readableBytes)")
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
