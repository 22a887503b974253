import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// News of conversations for the streams this process serves (the widget's, the inbox's), from `NOTIFY
/// vitrina_conversations`, which the tenant schemas' triggers send for every new message and every change of state or
/// assignee, and the typing indicator sends itself. A notification carries ids, never content: a stream that hears
/// of a message reads it from the database through the tenant door, so any process's write reaches every process's
/// streams and nothing a stream shows comes from memory alone.
///
/// Payloads: `<schema> <conversation> m <message id>`, `<schema> <conversation> c <state>`,
/// `<schema> <conversation> t <author> <name…>`, `<schema> <conversation> d <shopper message id>` (an answer's draft).
public final class ConversationFeed: Sendable {
    public static let channel = "vitrina_conversations"

    public enum Event: Sendable, Equatable {
        case message(conversation: Int, id: Int)
        case state(conversation: Int, state: ConversationState)
        case typing(conversation: Int, author: MessageAuthor, name: String?)
        /// The bot's answer to `replyTo` is being written (a language model streams it); read `answer_drafts`.
        case draft(conversation: Int, replyTo: Int)
        /// Listening (re)started: what happened meanwhile was not heard, so read again.
        case resync

        public var conversation: Int? {
            switch self {
            case .message(let conversation, _), .state(let conversation, _), .typing(let conversation, _, _), .draft(let conversation, _):
                conversation
            case .resync: nil
            }
        }
    }

    private struct Subscriber {
        let conversation: Int?
        let continuation: AsyncStream<Event>.Continuation
    }
    private struct State {
        var bySchema: [String: [UUID: Subscriber]] = [:]
        var count = 0
    }
    private let state = Mutex(State())

    public init() {}

    /// A stream of `schema`'s events (one conversation's, or every conversation's with `conversation` nil), until the
    /// returned stream is dropped or `cancel` runs. Subscribe before reading what is already stored, so nothing falls
    /// between the read and the first event.
    public func subscribe(schema: String, conversation: Int?) -> AsyncStream<Event> {
        let id = UUID()
        // Wake-ups, not data: when a slow reader falls behind, the newest events are enough to make it read again.
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(64))
        state.withLock { state in
            state.bySchema[schema, default: [:]][id] = Subscriber(conversation: conversation, continuation: continuation)
            state.count += 1
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { state in
                if state.bySchema[schema]?.removeValue(forKey: id) != nil { state.count -= 1 }
                if state.bySchema[schema]?.isEmpty == true { state.bySchema[schema] = nil }
            }
        }
        return stream
    }

    /// How many streams listen now (`/metrics`, the W3b bench).
    public var subscribers: Int { state.withLock { $0.count } }

    /// Hands a notification's payload to the subscribers it concerns; `nil` (listening restarted) to all of them.
    func deliver(_ payload: String?) {
        guard let payload else {
            state.withLock { state in
                for subscribers in state.bySchema.values { for subscriber in subscribers.values { subscriber.continuation.yield(.resync) } }
            }
            return
        }
        guard let (schema, event) = Self.parse(payload) else { return }
        state.withLock { state in
            guard let subscribers = state.bySchema[schema] else { return }
            for subscriber in subscribers.values where subscriber.conversation == nil || subscriber.conversation == event.conversation {
                subscriber.continuation.yield(event)
            }
        }
    }

    static func parse(_ payload: String) -> (String, Event)? {
        let fields = payload.split(separator: " ", maxSplits: 4, omittingEmptySubsequences: false)
        guard fields.count >= 4, SchemaName.isValid(String(fields[0])), let conversation = Int(fields[1]) else { return nil }
        let schema = String(fields[0])
        switch fields[2] {
        case "m":
            guard let id = Int(fields[3]) else { return nil }
            return (schema, .message(conversation: conversation, id: id))
        case "c":
            guard let state = ConversationState(rawValue: String(fields[3])) else { return nil }
            return (schema, .state(conversation: conversation, state: state))
        case "d":
            guard let replyTo = Int(fields[3]) else { return nil }
            return (schema, .draft(conversation: conversation, replyTo: replyTo))
        case "t":
            guard let author = MessageAuthor(rawValue: String(fields[3])) else { return nil }
            let name = fields.count > 4 ? String(fields[4]) : nil
            return (schema, .typing(conversation: conversation, author: author, name: name?.isEmpty == false ? name : nil))
        default: return nil
        }
    }

    /// The payload of a typing notification.
    static func typingPayload(schema: SchemaName, conversation: Int, author: MessageAuthor, name: String?) -> String {
        let clean = (name ?? "").replacingOccurrences(of: "\n", with: " ").prefix(100)
        return "\(schema.value) \(conversation) t \(author.rawValue) \(clean)"
    }

    /// Tells every process that someone in `conversation` is typing (nothing is stored).
    func typing(_ tenant: TenantRecord, conversation: Int, author: MessageAuthor, name: String?, database: Database) async throws {
        let payload = Self.typingPayload(schema: tenant.schema, conversation: conversation, author: author, name: name)
        try await database.execute("SELECT pg_notify(\(Self.channel), \(payload))")
    }

    /// Delivers notifications for as long as the process serves.
    func listen(database: Database, logger: Logger) async {
        await Listener(database: database, channel: Self.channel, logger: logger).run { [self] payload in deliver(payload) }
    }
}

/// Runs `ConversationFeed.listen` in a serving process.
struct ConversationFeedListener: Service {
    let feed: ConversationFeed
    let database: Database
    let logger: Logger

    func run() async throws {
        await feed.listen(database: database, logger: logger)
    }
}
