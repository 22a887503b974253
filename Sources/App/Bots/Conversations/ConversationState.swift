import Foundation

/// Where a conversation is: with the bot, waiting for a person, with an operator, or resolved.
///
/// `bot` → `waiting` (a hand-off was asked) → `assigned` (an operator took it) → `resolved` → `bot` (the shopper wrote
/// again). Operators may also take a conversation straight from the bot, give it back to the bot, put it back in the
/// queue, resolve one nobody took, hand an assigned one to a teammate, or reopen a resolved one. The bot answers only in `bot`. Moves are made by `applying(_:)`, which refuses
/// the illegal ones; `ConversationStore.apply` writes the move and its event in one statement.
public enum ConversationState: String, Sendable, Codable, CaseIterable {
    case bot, waiting, assigned, resolved

    /// Whether the bot may answer the shopper now.
    public var botAnswers: Bool { self == .bot }

    /// The state after `event`, or `IllegalTransition` when the event makes no sense here.
    public func applying(_ event: ConversationEvent) throws -> ConversationState {
        let next: ConversationState? =
            switch (self, event) {
            case (.bot, .handOff): .waiting
            // Taking an assigned conversation hands it to another operator; taking a resolved one reopens it.
            case (.bot, .take), (.waiting, .take), (.assigned, .take), (.resolved, .take): .assigned
            case (.assigned, .release): .waiting
            case (.waiting, .resolve), (.assigned, .resolve): .resolved
            case (.waiting, .handBack), (.assigned, .handBack): .bot
            case (.resolved, .shopperReturned): .bot
            default: nil
            }
        guard let next else { throw IllegalTransition(from: self, event: event) }
        return next
    }
}

/// Why a conversation was handed to people.
public enum HandoffReason: String, Sendable, Codable, CaseIterable {
    /// The shopper asked for a person.
    case shopperRequest = "shopper_request"
    /// A word the shop lists as one to hand off on.
    case keyword
    /// A rule's action.
    case rule
    /// The bot fell back too many times in a row.
    case fallbacks
    /// The shop's plan has no messages left this month.
    case quota
    /// An operator or an API client asked.
    case manual
    /// The bot could not answer (a provider failed): a person takes over rather than nobody.
    case error
    /// The shopper left a message outside business hours or with nobody online.
    case offlineMessage = "offline_message"
    /// The language model could not answer from the knowledge (or said a person should), and the bot's settings send
    /// such questions to people.
    case model
}

/// Something that moves a conversation.
public enum ConversationEvent: Sendable, Equatable {
    /// The bot hands the conversation to people.
    case handOff(HandoffReason)
    /// An operator takes the conversation.
    case take(operator: UUID)
    /// The operator puts it back in the queue.
    case release
    /// A person closes it.
    case resolve
    /// A person gives it back to the bot.
    case handBack
    /// The shopper wrote in a resolved conversation.
    case shopperReturned

    /// The event's reason as `conversation_events.reason` records it.
    public var reason: String {
        switch self {
        case .handOff(let reason): reason.rawValue
        case .take: "taken"
        case .release: "released"
        case .resolve: "resolved"
        case .handBack: "handed_back"
        case .shopperReturned: "shopper_returned"
        }
    }

    /// Who moves the conversation.
    public var actor: MessageAuthor {
        switch self {
        case .handOff(.manual): .operator
        case .handOff: .bot
        case .take, .release, .resolve, .handBack: .operator
        case .shopperReturned: .shopper
        }
    }
}

/// A move the state machine refuses.
public struct IllegalTransition: Error, Sendable, Equatable, CustomStringConvertible {
    public let from: ConversationState
    public let event: ConversationEvent

    public var description: String {
        "A conversation in state \(from.rawValue) cannot be \(event.reason.replacingOccurrences(of: "_", with: " "))."
    }
}

/// Who wrote a message or moved a conversation.
public enum MessageAuthor: String, Sendable, Codable {
    case shopper, bot, `operator`, system
}

/// Where a conversation happens.
public enum ConversationChannel: String, Sendable, Codable, CaseIterable {
    /// The panel's "Try the bot" and `vitrina bot ask`.
    case test
    /// `POST /api/v1/bot/messages`.
    case api
    case widget, telegram, whatsapp, alice
}

extension ConversationChannel {
    /// An outbound message's first delivery state: the widget and the API read it from the database (sent once
    /// committed); a messenger's message is queued until its channel has taken it.
    public var firstDelivery: String {
        switch self {
        case .widget, .api, .test: "sent"
        case .telegram, .whatsapp, .alice: "queued"
        }
    }
}
