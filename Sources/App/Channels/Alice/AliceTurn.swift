import Foundation
import Logging

/// One verified turn of Alice's conversation: what it asks (`AliceIntent`) and what the skill says back, within the
/// deadline. Answers the shopper has not heard yet (late ones, operators' replies) are said first.
struct AliceTurn: Sendable {
    let alice: AliceRequest
    let connection: ChannelConnection
    let tenant: TenantRecord
    let deadline: ContinuousClock.Instant
    let logger: Logger
    let engine: BotEngine
    let store: AliceStore
    let localizer: Localizer

    var shopper: String { alice.shopper ?? "" }

    /// What is said is decided this long before the deadline: marking the answer heard and writing the response come
    /// after, and must land within the deadline too (on a loaded machine they took tens of milliseconds).
    static let finishing = Duration.milliseconds(150)

    /// When the turn stops waiting for an answer.
    var decideBy: ContinuousClock.Instant { deadline - Self.finishing }

    /// What to say, and the language to say it in.
    func answer() async throws -> (AliceSpeech, BotLanguage) {
        let intent = AliceIntent.classify(alice)
        switch intent {
        case .ping:
            // Alice's monitoring: no database, no bot.
            return (AliceSpeech([text("alice_ping", .ru)], endSession: true), .ru)
        case .greeting:
            return try await greeting()
        case .help(let language):
            return try await help(language)
        case .goodbye(let language):
            return (AliceSpeech([text("alice_goodbye", language)], endSession: true), language)
        case .followUp, .ask:
            break
        }
        let unheard = try await store.claimUnheard(botID: connection.botID, shopper: shopper, tenant: tenant, logger: logger)
        if intent == .followUp {
            if !unheard.isEmpty { return (said(unheard), language(of: unheard)) }
            if try await store.awaitingAnswer(botID: connection.botID, shopper: shopper, tenant: tenant, logger: logger) {
                let late = try await AliceBudget.poll(until: decideBy) {
                    let found = try await store.claimUnheard(botID: connection.botID, shopper: shopper, tenant: tenant, logger: logger)
                    return found.isEmpty ? nil : found
                }
                guard let late else { return (oneMoment(.ru), .ru) }
                return (said(late), language(of: late))
            }
            // Nothing is on its way: the words are a question like any other.
        }
        let (speech, language) = try await ask(alice.words.trimmingCharacters(in: .whitespacesAndNewlines))
        return (said(unheard).then(speech), language)
    }

    /// The bot's answer within the budget; "one moment" past it, while the answer goes on to be stored.
    func ask(_ words: String) async throws -> (AliceSpeech, BotLanguage) {
        let message = ShopperMessage(
            text: words, channel: .alice, externalContactID: shopper, channelMessageID: alice.dedupeKey, botID: connection.botID)
        let work = Task { [engine, tenant, logger] in try await engine.reply(to: message, in: tenant, logger: logger) }
        let guess = BotLanguage.detect(words) ?? .ru
        switch await Deadline.race(work, until: decideBy) {
        case .none:
            Task { [logger] in
                if case .failure(let error) = await work.result {
                    logger.error("A late answer on Alice failed", metadata: ["error": "\(error)"])
                }
            }
            return (oneMoment(guess), guess)
        case .failure(let error):
            logger.error("The bot could not answer on Alice", metadata: ["error": "\(error)"])
            return (AliceSpeech([text("alice_failed", guess)]), guess)
        case .success(let reply):
            return (try await speech(for: reply), reply.language)
        }
    }

    /// What the engine's reply says on a voice channel: the answer (a redelivered turn's stored answer), and on a
    /// hand-off how to reach a person.
    func speech(for reply: BotReply) async throws -> AliceSpeech {
        var answer = AliceSpeech([])
        if reply.duplicate {
            let stored = try await AliceBudget.poll(until: decideBy) {
                try await store.answer(toTurn: alice.dedupeKey, tenant: tenant, logger: logger)
            }
            if let stored { answer = said([stored]) } else if reply.state.botAnswers { return oneMoment(reply.language) }
        } else if let given = reply.answer {
            if let id = reply.messageID { try await store.markSent(id, tenant: tenant, logger: logger) }
            answer = AliceSpeech([given.text], parts: given.parts)
        }
        let handingOff = !reply.state.botAnswers || reply.answer?.handoff != nil
        guard handingOff else {
            return answer.paragraphs.isEmpty ? AliceSpeech([BotTexts.fallback(reply.language)]) : answer
        }
        // The engine's own hand-off sentences promise an answer "here": on a voice channel the contact says where.
        let chatOnly = [BotTexts.handoff(reply.language), BotTexts.quota(reply.language)]
        answer.paragraphs.removeAll { chatOnly.contains($0) }
        return answer.then(
            AliceRendering.handoff(contact: connection.settings.handoffContact, language: reply.language, localizer: localizer))
    }

    /// The bot's greeting in the conversation's language (Alice's shoppers speak Russian unless the bot or the
    /// conversation says otherwise), then anything not heard yet.
    func greeting() async throws -> (AliceSpeech, BotLanguage) {
        guard let (snapshot, current) = try await store.opening(botID: connection.botID, shopper: shopper, tenant: tenant, logger: logger)
        else { return (AliceSpeech([text("alice_failed", .ru)], endSession: true), .ru) }
        let language = Self.language(snapshot.bot, current: current)
        let unheard = try await store.claimUnheard(botID: connection.botID, shopper: shopper, tenant: tenant, logger: logger)
        return (AliceSpeech([greetingText(snapshot.bot, language)]).then(said(unheard)), language)
    }

    /// The greeting, some questions the bot answers (from the shop's FAQ, as suggestions too) and how to leave.
    func help(_ asked: BotLanguage) async throws -> (AliceSpeech, BotLanguage) {
        guard let (snapshot, _) = try await store.opening(botID: connection.botID, shopper: nil, tenant: tenant, logger: logger) else {
            return (AliceSpeech([text("alice_failed", asked)], endSession: true), asked)
        }
        let language = snapshot.bot.language == .auto ? asked : Self.language(snapshot.bot, current: nil)
        let examples = snapshot.knowledge.entries.filter { $0.source == .faq && BotLanguage.detect($0.title) == language }.prefix(3)
            .map(\.title)
        var paragraphs = [greetingText(snapshot.bot, language)]
        if !examples.isEmpty {
            let quoted = examples.map { language == .ru ? "«\($0)»" : "“\($0)”" }.joined(separator: ", ")
            paragraphs.append(text("alice_help_examples", language).replacingOccurrences(of: "%s", with: quoted))
        }
        paragraphs.append(text("alice_help_exit", language))
        return (AliceSpeech(paragraphs, parts: examples.map { MessagePart(type: .button, title: $0) }), language)
    }

    func greetingText(_ bot: Bot, _ language: BotLanguage) -> String {
        let values = TemplateValues(
            shopName: tenant.resolvedBranding.name ?? tenant.name, botName: bot.displayName(language), channel: .alice)
        return ResponseTemplates.render(text: bot.greeting.isEmpty ? BotTexts.greeting(language) : bot.greeting, values)
    }

    static func language(_ bot: Bot, current: BotLanguage?) -> BotLanguage {
        switch bot.language {
        case .ru: .ru
        case .en: .en
        case .auto: current ?? .ru
        }
    }

    func said(_ messages: [AliceStore.Spoken]) -> AliceSpeech {
        AliceSpeech(messages.map(\.text), parts: messages.flatMap(\.parts))
    }

    func language(of messages: [AliceStore.Spoken]) -> BotLanguage {
        BotLanguage.detect(messages.map(\.text).joined(separator: " ")) ?? .ru
    }

    func oneMoment(_ language: BotLanguage) -> AliceSpeech {
        AliceSpeech([text("alice_one_moment", language)], state: ["pending": .bool(true)])
    }

    func text(_ key: String, _ language: BotLanguage) -> String { localizer.text(key, language.rawValue) }
}
