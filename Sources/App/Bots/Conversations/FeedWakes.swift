import HTTPTypes
import Hummingbird
import Logging

/// What wakes a live stream (the widget's, the inbox's): an event of the conversation feed, or the keep-alive tick
/// that keeps proxies from closing a quiet connection.
enum FeedWake: Sendable {
    case event(ConversationFeed.Event)
    case keepAlive
}

extension AsyncStream where Element == ConversationFeed.Event {
    /// The feed's events merged with a keep-alive tick every `keepAlive`, keeping the newest `buffer` when the reader
    /// falls behind (they are wake-ups: the stream reads what is new from the database). Runs `body` with them and
    /// stops both feeders when it returns.
    func withKeepAlive<T>(
        every keepAlive: Duration, buffer: Int, _ body: (AsyncStream<FeedWake>) async throws -> T
    ) async rethrows -> T {
        let (wakes, continuation) = AsyncStream<FeedWake>.makeStream(bufferingPolicy: .bufferingNewest(buffer))
        let forward = Task {
            for await event in self { continuation.yield(.event(event)) }
            continuation.finish()
        }
        let clock = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: keepAlive)
                continuation.yield(.keepAlive)
            }
        }
        defer {
            forward.cancel()
            clock.cancel()
            continuation.finish()
        }
        return try await body(wakes)
    }
}

/// A `text/event-stream` response whose body `run` writes; how the stream ended (a reader who left, usually) is logged
/// at `level`, never turned into an error page.
func eventStreamResponse(
    logger: Logger, ended message: Logger.Message, level: Logger.Level,
    _ run: @escaping @Sendable (inout any ResponseBodyWriter) async throws -> Void
) -> Response {
    let body = ResponseBody { writer in
        do {
            try await run(&writer)
        } catch {
            logger.log(level: level, message, metadata: ["error": "\(String(reflecting: error))"])
        }
        try? await writer.finish(nil)
    }
    return Response(
        status: .ok,
        headers: [
            .contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store", HTTPField.Name("X-Accel-Buffering")!: "no",
        ],
        body: body)
}
