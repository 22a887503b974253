import Foundation
import Logging
import Metrics
import PostgresNIO

/// The job that takes one outbound message (the bot's, an operator's, a notice) to its messenger. Queued by the
/// `messages_deliver` trigger in the transaction that stored the message.
public struct DeliverMessage: JobKind {
    public static let kind = "channel.deliver"
    public var message: Int

    public init(message: Int) { self.message = message }
}

/// Sends queued messages: reads the message, its chat and its connection and takes a send slot in one short
/// transaction, commits, sends with none open, then records the outcome. A process killed mid-send leaves the job
/// leased; when the lease ends it runs again, and the message is sent again only if the first send reached the provider
/// before the kill (the one duplicate a kill can make). A long text that fails half-way (a part refused with a 429 or a
/// 5xx) keeps the ids of the parts that went in `messages.sent_parts`, and the retry sends only the rest.
public struct ChannelDelivery: Sendable {
    let tenants: TenantDatabase
    let store: ChannelConnectionStore
    let clients: ChannelClients
    let limits: ChannelEndpoints
    /// The shop's own address for the links the bot answers with (`/help/delivery` is the shop's page, and a messenger
    /// needs the whole URL).
    let directory: TenantDirectory
    let origin: Origin
    /// A wait for a send slot up to this long happens inside the job; a longer one gives the worker back.
    let longestWait: Duration = .milliseconds(1200)

    init(
        tenants: TenantDatabase, store: ChannelConnectionStore, clients: ChannelClients, limits: ChannelEndpoints,
        directory: TenantDirectory, origin: Origin
    ) {
        self.tenants = tenants
        self.store = store
        self.clients = clients
        self.limits = limits
        self.directory = directory
        self.origin = origin
    }

    /// A message ready to go, as the first transaction read it.
    struct Pending: Sendable {
        var connection: ChannelConnection
        var chat: String
        var message: OutboundMessage
        /// The parts an earlier try sent (their provider ids), which this one skips.
        var sent: [String]
        /// Seconds until the slot this send took (0 when it may go now).
        var wait: Double
    }

    /// Why a message cannot go, decided before calling anyone.
    enum Skip: Error, Sendable {
        /// Sent already, deleted, or not an outbound messenger message: nothing to do.
        case nothing
        case refuse(DeliveryRefusal)
        /// An earlier message of the conversation goes first: try again in a moment.
        case later
    }

    /// `lastAttempt`: a send that fails again is marked failed rather than left queued, whatever failed.
    public func run(_ job: DeliverMessage, in tenant: TenantRecord, lastAttempt: Bool = false, logger: Logger) async throws {
        do {
            try await deliver(job, in: tenant, lastAttempt: lastAttempt, logger: logger)
        } catch let failure as JobFailure {
            throw failure
        } catch {
            if lastAttempt {
                try? await record(
                    job.message, .refused(DeliveryRefusal(.unreachable, String(describing: error))), connection: nil, in: tenant,
                    logger: logger)
            }
            throw error
        }
    }

    func deliver(_ job: DeliverMessage, in tenant: TenantRecord, lastAttempt: Bool, logger: Logger) async throws {
        var prepared: Result<Pending, Skip>
        var waits = 0
        repeat {
            prepared = try await prepareTakingSlot(job, in: tenant, logger: logger)
            // An earlier message of the conversation is on its way: it goes first, and this one a moment after (a burst
            // of an operator's replies is a few hundred milliseconds).
            guard case .failure(.later) = prepared, waits < 15 else { break }
            waits += 1
            try await Task.sleep(for: .milliseconds(200))
        } while true
        let pending: Pending
        switch prepared {
        case .failure(let skip):
            switch skip {
            case .refuse(let refusal): try await record(job.message, .refused(refusal), connection: nil, in: tenant, logger: logger)
            case .later: throw JobFailure.retryAfter(.seconds(1), "An earlier message of the conversation goes first")
            case .nothing: break
            }
            return
        case .success(let found): pending = found
        }
        if pending.wait > 0 {
            try await Task.sleep(for: .milliseconds(Int64((pending.wait * 1000).rounded(.up))))
        }
        guard let client = clients.client(for: pending.connection.kind) else { return }
        var sent = pending.sent
        var outcome = await client.send(pending.message, to: pending.chat, over: pending.connection, sent: &sent)
        if case .retry(_, let reason) = outcome, lastAttempt {
            outcome = .refused(DeliveryRefusal(.unreachable, reason))
        }
        try await record(job.message, outcome, connection: pending.connection, sentParts: sent, in: tenant, logger: logger)
        Counter(label: "vitrina_channel_sends_total", dimensions: [("kind", pending.connection.kind.rawValue), ("outcome", outcome.name)])
            .increment()
        if case .retry(let after, let reason) = outcome {
            if let after { throw JobFailure.retryAfter(after, reason) }
            throw DeliveryRetry(reason: reason)
        }
    }

    /// Reads the message and takes its send slot in one short transaction; a slot too far off is not kept (the
    /// transaction rolls back) and the job comes back for one when it is near.
    func prepareTakingSlot(_ job: DeliverMessage, in tenant: TenantRecord, logger: Logger) async throws -> Result<Pending, Skip> {
        do {
            return try await tenants.withTenant(tenant, logger: logger) { connection in
                let prepared = try await prepare(
                    job.message, site: origin.url(host: directory.snapshot.primaryHost(of: tenant)), on: connection)
                if case .success(let pending) = prepared, pending.wait > JobQueue.seconds(longestWait) {
                    throw SlotTooFar(seconds: pending.wait)
                }
                return prepared
            }
        } catch let far as SlotTooFar {
            throw JobFailure.retryAfter(
                .milliseconds(Int64(far.seconds * 1000) - Int64(JobQueue.seconds(longestWait) * 500)),
                "Waiting for the channel's rate limit")
        }
    }

    /// Reads what the send needs and takes its send slots (the connection's and the chat's), in the caller's transaction.
    func prepare(_ id: Int, site: String, on connection: TenantConnection) async throws -> Result<Pending, Skip> {
        let row = try await connection.value(
            (String, String, String?, Int, String?, String?, Double?, Bool, [String]?).self,
            """
            SELECT m.text, m.parts::text, c.language, c.bot_id::int, m.channel,
                (SELECT i.external_id FROM contact_identities i WHERE i.contact_id = c.contact_id AND i.channel = c.channel
                    ORDER BY i.created_at DESC LIMIT 1),
                extract(epoch FROM clock_timestamp() - (SELECT max(s.created_at) FROM messages s
                    WHERE s.conversation_id = c.id AND s.author = 'shopper'))::float8,
                EXISTS (SELECT 1 FROM messages o WHERE o.conversation_id = m.conversation_id AND o.id < m.id AND o.delivery = 'queued'
                    AND NOT o.internal AND o.author <> 'shopper' AND o.created_at > now() - interval '2 minutes'),
                m.sent_parts
            FROM messages m JOIN conversations c ON c.id = m.conversation_id
            WHERE m.id = \(id) AND m.delivery = 'queued' AND NOT m.internal AND m.author <> 'shopper'
            """)
        guard let (text, partsJSON, language, botID, channelName, chat, sinceShopper, earlierQueued, sentParts) = row,
            let channel = channelName.flatMap(ConversationChannel.init(rawValue:)),
            let kind = ChannelKind.allCases.first(where: { $0.conversationChannel == channel })
        else {
            return .failure(.nothing)
        }
        // Messages reach the shopper in the order they were written: an earlier one still on its way goes first (unless it
        // has been stuck for minutes, when the conversation must not wait for it any more).
        if earlierQueued { return .failure(.later) }
        guard let found = try await store.find(botID: botID, kind: kind, on: connection) else {
            return .failure(.refuse(DeliveryRefusal(.unauthorized, "The bot is no longer connected to \(kind.rawValue).")))
        }
        guard let chat else {
            return .failure(.refuse(DeliveryRefusal(.notFound, "The shopper has no \(kind.rawValue) address.")))
        }
        var parts = (try? JSONDecoder().decode([MessagePart].self, from: Data(partsJSON.utf8))) ?? []
        for index in parts.indices where parts[index].url?.hasPrefix("/") == true && parts[index].url?.hasPrefix("//") == false {
            parts[index].url = site + (parts[index].url ?? "")
        }
        let template = parts.first { $0.type == .template }?.template
        if kind == .whatsapp, template == nil, (sinceShopper ?? .infinity) > ChannelWindow.length {
            return .failure(
                .refuse(
                    DeliveryRefusal(
                        .windowClosed, "More than 24 hours since the shopper's last message: only an approved template may be sent.")))
        }
        let outbound = OutboundMessage(
            text: text, parts: parts.filter { $0.type == .button || $0.type == .link }, template: template,
            language: language.flatMap(BotLanguage.init(rawValue:)) ?? .ru)
        let wait = try await reserve(found, chat: chat, on: connection)
        return .success(Pending(connection: found, chat: chat, message: outbound, sent: sentParts ?? [], wait: wait))
    }

    /// Takes the next send slot of the connection and, on Telegram, of the chat: a rate limit every process shares
    /// (`channel_send_slots`). Returns the seconds until the later of the two.
    func reserve(_ connection: ChannelConnection, chat: String, on tenant: TenantConnection) async throws -> Double {
        let perConnection: Double
        var perChat: Double?
        switch connection.kind {
        case .telegram:
            perConnection = limits.telegramPerSecond
            perChat = limits.telegramChatPerSecond
        case .whatsapp: perConnection = limits.whatsappPerSecond
        case .alice: return 0
        }
        let chats = perChat == nil ? [""] : ["", chat]
        let intervals = perChat.map { [1 / perConnection, 1 / $0] } ?? [1 / perConnection]
        // The send goes at t, the latest of now and each slot it needs; every slot then moves to t plus its own gap, so
        // neither the connection's rate nor the chat's is ever exceeded. The rows are locked in one order (the
        // connection's '' first): two processes reserving for one bot queue behind each other, never deadlock.
        try await tenant.execute(
            """
            INSERT INTO channel_send_slots (connection_id, chat, next_at)
            SELECT \(connection.id), k, '-infinity' FROM unnest(\(chats)::text[]) AS k ON CONFLICT (connection_id, chat) DO NOTHING
            """)
        let wait = try await tenant.value(
            Double.self,
            """
            WITH locked AS (
                SELECT chat, next_at FROM channel_send_slots
                WHERE connection_id = \(connection.id) AND chat = ANY(\(chats)::text[]) ORDER BY chat FOR UPDATE),
            t AS (SELECT greatest(clock_timestamp(), max(next_at)) AS at FROM locked),
            moved AS (
                UPDATE channel_send_slots s SET next_at = t.at + make_interval(secs => k.gap)
                FROM t, unnest(\(chats)::text[], \(intervals)::float8[]) AS k(chat, gap)
                WHERE s.connection_id = \(connection.id) AND s.chat = k.chat RETURNING 1)
            SELECT greatest(0, extract(epoch FROM t.at - clock_timestamp()))::float8 FROM t
            """)
        return wait ?? 0
    }

    /// Records what became of a send: sent (with the provider's id), failed with the refusal's sentence, or still
    /// queued with the reason (a retry follows) and the parts that did go (`sentParts`, which the retry skips). A
    /// revoked token also marks the connection failed.
    func record(
        _ id: Int, _ outcome: SendOutcome, connection: ChannelConnection?, sentParts: [String]? = nil, in tenant: TenantRecord,
        logger: Logger
    ) async throws {
        // The parts that went before a failure, kept for the retry (none: what is stored stays).
        let partsOut = sentParts.flatMap { $0.isEmpty ? nil : $0 }
        try await tenants.withTenant(tenant, logger: logger) { tenantConnection in
            switch outcome {
            case .sent(let ids):
                let first = ids.first.map { connection?.kind == .telegram ? "out:\(connection?.id ?? 0):\($0)" : $0 }
                // WhatsApp's statuses on this id wait until this records it (see `ChannelIntake.lockReports`).
                if let connection, connection.kind == .whatsapp, let first {
                    try await ChannelIntake.lockReports(
                        on: first, channel: connection.kind.conversationChannel, connection: tenantConnection)
                }
                try await tenantConnection.execute(
                    """
                    UPDATE messages SET delivery = 'sent', delivery_error = NULL, sent_parts = NULL,
                        channel_message_id = CASE WHEN EXISTS (SELECT 1 FROM messages o WHERE o.channel = messages.channel
                            AND o.channel_message_id = \(first)) THEN NULL ELSE \(first) END
                    WHERE id = \(id) AND delivery = 'queued'
                    """)
                // WhatsApp's statuses can overtake this write; those that did are applied now.
                if connection?.kind == .whatsapp { try await ChannelIntake.applyEarlyReports(toMessage: id, on: tenantConnection) }
            case .refused(let refusal):
                try await tenantConnection.execute(
                    """
                    UPDATE messages SET delivery = 'failed', delivery_error = \(refusal.description),
                        sent_parts = coalesce(\(partsOut)::text[], sent_parts)
                    WHERE id = \(id) AND delivery = 'queued'
                    """)
                if refusal.kind == .unauthorized, let connection {
                    try await store.setStatus(connection.id, .failed, detail: refusal.detail, key: "revoked", on: tenantConnection)
                }
            case .retry(let after, let reason):
                try await tenantConnection.execute(
                    """
                    UPDATE messages SET delivery_error = \(String(reason.prefix(500))),
                        sent_parts = coalesce(\(partsOut)::text[], sent_parts)
                    WHERE id = \(id) AND delivery = 'queued'
                    """)
                // Telegram asked to wait (its flood control may be the whole bot's): every process's next send
                // for it waits too, instead of each asking and being told again.
                if let after, let connection, connection.kind == .telegram {
                    try await tenantConnection.execute(
                        """
                        INSERT INTO channel_send_slots AS s (connection_id, chat, next_at)
                        VALUES (\(connection.id), '', clock_timestamp() + make_interval(secs => \(JobQueue.seconds(after))))
                        ON CONFLICT (connection_id, chat) DO UPDATE SET next_at = greatest(s.next_at, excluded.next_at)
                        """)
                }
            }
        }
    }
}

/// The send slot a delivery would take is further off than a job waits in place.
struct SlotTooFar: Error, Sendable {
    let seconds: Double
}

/// A send worth trying again later (the job's back-off decides when).
struct DeliveryRetry: Error, Sendable, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}

extension SendOutcome {
    /// The outcome's name in metrics: `sent`, `retry`, or the refusal's kind.
    var name: String {
        switch self {
        case .sent: "sent"
        case .retry: "retry"
        case .refused(let refusal): "refused_" + refusal.kind.rawValue
        }
    }
}
