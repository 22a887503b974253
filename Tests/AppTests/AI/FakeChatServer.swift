import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

@testable import App

/// A loopback HTTP server (127.0.0.1, an ephemeral port, TLS when given a context) under each chat provider's fake:
/// it records every request and answers what the test queued, else what the provider's fake answers by default.
final class FakeChatServer: Sendable {
    /// One request as the server took it.
    struct Received: Sendable {
        var method: String
        var path: String
        /// Header names lowercased.
        var headers: [String: String]
        var body: String

        /// The body as a JSON object.
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    }

    /// How the server answers one request.
    indirect enum Answer: Sendable {
        case reply(Int, String, headers: [String: String] = [:])
        /// 200 `text/event-stream`: each string written on its own, `every` apart.
        case events([String], every: TimeAmount = .zero)
        /// `then`, after a wait.
        case slow(TimeAmount, then: Answer)
        /// Closes the connection without answering.
        case close
    }

    private struct State {
        var queued: [Answer] = []
        var received: [Received] = []
        var channel: (any Channel)?
    }

    private let state = Mutex(State())
    private let tls: NIOSSLContext?
    private let answer: @Sendable (Received) -> Answer

    /// `answer` says what to answer when nothing is queued.
    init(tls: NIOSSLContext? = nil, answer: @escaping @Sendable (Received) -> Answer) {
        self.tls = tls
        self.answer = answer
    }

    /// Starts listening; returns `http(s)://127.0.0.1:<port>`.
    func start() async throws -> String {
        let tls = tls
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(FakeChatHandler(server: self))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        state.withLock { $0.channel = channel }
        guard let port = channel.localAddress?.port else { throw ChannelError.unknownLocalAddress }
        return (tls == nil ? "http" : "https") + "://127.0.0.1:\(port)"
    }

    func stop() async throws {
        let channel = state.withLock { state in
            defer { state.channel = nil }
            return state.channel
        }
        try await channel?.close().get()
    }

    /// Answers for the next requests, in order, before the default ones.
    func queue(_ answers: Answer...) {
        state.withLock { $0.queued += answers }
    }

    var requests: [Received] { state.withLock { $0.received } }

    fileprivate func take(_ request: Received) -> Answer {
        let queued = state.withLock { state -> Answer? in
            state.received.append(request)
            return state.queued.isEmpty ? nil : state.queued.removeFirst()
        }
        return queued ?? answer(request)
    }
}

/// One connection: collects a request, then answers as the server says.
private final class FakeChatHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let server: FakeChatServer
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()

    init(server: FakeChatServer) {
        self.server = server
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
        case .body(var part):
            body.writeBuffer(&part)
        case .end:
            guard let head else { return }
            let request = FakeChatServer.Received(
                method: head.method.rawValue, path: head.uri,
                headers: Dictionary(head.headers.map { ($0.name.lowercased(), $0.value) }) { "\($0), \($1)" },
                body: String(buffer: body))
            answer(server.take(request), context)
        }
    }

    private func answer(_ answer: FakeChatServer.Answer, _ context: ChannelHandlerContext) {
        switch answer {
        case .close:
            context.close(promise: nil)
        case .slow(let wait, let then):
            context.eventLoop.assumeIsolated().scheduleTask(in: wait) { self.answer(then, context) }
        case .reply(let status, let text, let extra):
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: "\(text.utf8.count)")
            for (name, value) in extra { headers.add(name: name, value: value) }
            let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        case .events(let pieces, let every):
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "text/event-stream")
            headers.add(name: "Cache-Control", value: "no-cache")
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            write(pieces[...], every: every, context)
        }
    }

    private func write(_ pieces: ArraySlice<String>, every: TimeAmount, _ context: ChannelHandlerContext) {
        guard let piece = pieces.first else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: piece)))), promise: nil)
        let rest = pieces.dropFirst()
        if every == .zero { return write(rest, every: every, context) }
        context.eventLoop.assumeIsolated().scheduleTask(in: every) { self.write(rest, every: every, context) }
    }
}

/// Runs `body` with `server` started and a client like the app's shared one, and shuts both down after.
func withChatServer<T>(_ server: FakeChatServer, _ body: (String, HTTPClientService) async throws -> T) async throws -> T {
    let url = try await server.start()
    let http = HTTPClientService()
    do {
        let result = try await body(url, http)
        try await http.client.shutdown()
        try await server.stop()
        return result
    } catch {
        try? await http.client.shutdown()
        try? await server.stop()
        throw error
    }
}
