import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

@testable import App

/// An HTTP server on 127.0.0.1 (ephemeral port) that plays a provider: it records every request whole (method, path,
/// query, headers, body bytes) and answers as its script says (a status and a body, after a wait, or a closed
/// connection). Speech and provider-embeddings tests script it with payloads shaped as the providers document them.
final class ScriptedProviderServer: Sendable {
    /// One request as the server took it.
    struct Received: Sendable {
        var method: String
        var path: String
        /// The query's parameters, percent-decoded.
        var query: [String: String]
        /// Header names lowercased; the last value of a repeated header.
        var headers: [String: String]
        var body: [UInt8]

        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] }
    }

    /// How the server answers one request.
    enum Answer: Sendable {
        case reply(Int, String, headers: [String: String] = [:])
        /// Answers after a wait.
        indirect case after(TimeAmount, Answer)
        /// Closes the connection without answering.
        case close

        static func json(_ body: String, status: Int = 200) -> Answer {
            .reply(status, body, headers: ["Content-Type": "application/json"])
        }
    }

    private struct State {
        var script: @Sendable (Received) -> Answer = { _ in .json("{}") }
        var received: [Received] = []
        var inFlight = 0
        var mostInFlight = 0
        var channel: (any Channel)?
    }

    private let state = Mutex(State())

    /// Starts listening; returns the base URL (`http://127.0.0.1:port`).
    func start() async throws -> String {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(ScriptedProviderHandler(server: self))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        state.withLock { $0.channel = channel }
        guard let port = channel.localAddress?.port else { throw ChannelError.unknownLocalAddress }
        return "http://127.0.0.1:\(port)"
    }

    func stop() async throws {
        let channel = state.withLock { state in
            defer { state.channel = nil }
            return state.channel
        }
        try await channel?.close().get()
    }

    /// What the server answers each request from now on.
    func script(_ answer: @escaping @Sendable (Received) -> Answer) { state.withLock { $0.script = answer } }

    var requests: [Received] { state.withLock { $0.received } }

    /// The most requests it was answering at once.
    var mostInFlight: Int { state.withLock { $0.mostInFlight } }

    fileprivate func begin(_ request: Received) -> Answer {
        state.withLock { state in
            state.received.append(request)
            state.inFlight += 1
            state.mostInFlight = max(state.mostInFlight, state.inFlight)
            return state.script(request)
        }
    }

    fileprivate func end() { state.withLock { $0.inFlight -= 1 } }
}

/// Runs `body` with a scripted server and a client like the app's shared one, and shuts both down after.
func withScriptedProvider<T>(_ body: (ScriptedProviderServer, String, HTTPClient) async throws -> T) async throws -> T {
    let server = ScriptedProviderServer()
    let url = try await server.start()
    let http = HTTPClientService()
    do {
        let result = try await body(server, url, http.client)
        try await http.client.shutdown()
        try await server.stop()
        return result
    } catch {
        try? await http.client.shutdown()
        try? await server.stop()
        throw error
    }
}

/// One connection: collects a request, then answers as the script says.
private final class ScriptedProviderHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let server: ScriptedProviderServer
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()

    init(server: ScriptedProviderServer) {
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
            let components = URLComponents(string: head.uri)
            var query: [String: String] = [:]
            for item in components?.queryItems ?? [] { query[item.name] = item.value ?? "" }
            let request = ScriptedProviderServer.Received(
                method: head.method.rawValue, path: components?.path ?? head.uri, query: query,
                headers: Dictionary(head.headers.map { ($0.name.lowercased(), $0.value) }) { $1 },
                body: Array(body.readableBytesView))
            answer(server.begin(request), context)
        }
    }

    private func answer(_ answer: ScriptedProviderServer.Answer, _ context: ChannelHandlerContext) {
        switch answer {
        case .after(let wait, let then):
            context.eventLoop.assumeIsolated().scheduleTask(in: wait) { self.answer(then, context) }
        case .close:
            context.close(promise: nil)
            server.end()
        case .reply(let status, let text, let extra):
            var headers = HTTPHeaders()
            for (name, value) in extra { headers.add(name: name, value: value) }
            headers.add(name: "Content-Length", value: "\(text.utf8.count)")
            let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            server.end()
        }
    }
}
