import Foundation

/// A bot's language model: its agency's (the default: an agency that configures a provider gives it to its shops), its
/// own (its provider and key), or none; the shop's instructions to the model; and what an answer that cites nothing
/// becomes. The key itself is stored apart, sealed (`bots.llm_key`).
public struct LLMSettings: Sendable, Equatable {
    public enum Mode: String, Sendable, Codable, CaseIterable {
        /// The agency's provider and key, when the agency has one.
        case partner
        /// The bot's own provider and key.
        case own
        case off
    }

    /// What an answer that cites no passage (or that the model says it cannot give) becomes.
    public enum Uncited: String, Sendable, Codable, CaseIterable {
        case fallback, handoff
    }

    public var mode: Mode
    /// The bot's own provider (`mode == .own`).
    public var provider: LLMProvider?
    /// The shop's instructions: tone, what to stress, what never to promise (at most 4,000 characters).
    public var instructions: String
    public var onUncited: Uncited

    public init(mode: Mode = .partner, provider: LLMProvider? = nil, instructions: String = "", onUncited: Uncited = .fallback) {
        self.mode = mode
        self.provider = provider
        self.instructions = instructions
        self.onUncited = onUncited
    }

    struct Stored: Codable {
        var mode: Mode?
        var provider: LLMProvider?
        var instructions: String?
        var onUncited: Uncited?

        enum CodingKeys: String, CodingKey {
            case mode, provider, instructions
            case onUncited = "on_uncited"
        }
    }

    /// As stored in `bots.llm`.
    var json: String {
        let stored = Stored(mode: mode, provider: provider, instructions: instructions.isEmpty ? nil : instructions, onUncited: onUncited)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(stored)).map { String(decoding: $0, as: UTF8.self) } ?? #"{"mode":"partner"}"#
    }

    init(json: String) {
        let stored = (try? JSONDecoder().decode(Stored.self, from: Data(json.utf8))) ?? Stored()
        self.init(
            mode: stored.mode ?? .partner, provider: stored.provider, instructions: stored.instructions ?? "",
            onUncited: stored.onUncited ?? .fallback)
    }

    /// What the database's checks and the model's context would refuse, as a sentence.
    static func check(_ settings: LLMSettings) throws {
        if settings.instructions.count > 4000 { throw BotSettingsError("llm.instructions: at most 4000 characters.") }
        if settings.mode == .own, settings.provider == nil { throw BotSettingsError("llm.provider: required for the bot's own model.") }
        if let provider = settings.provider { try LLMProvider.check(provider) }
    }
}

extension LLMProvider {
    /// The provider's settings as a person can fix them.
    static func check(_ provider: LLMProvider) throws {
        guard let url = URL(string: provider.baseURL), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw BotSettingsError("llm.base_url: write the API's address, e.g. \(LLMProvider.defaultBaseURL(provider.kind)).")
        }
        let model = provider.model.trimmingCharacters(in: .whitespaces)
        guard !model.isEmpty, model.count <= 200 else { throw BotSettingsError("llm.model: name the model (at most 200 characters).") }
        if provider.kind == .yandexgpt, provider.folderID?.isEmpty ?? true, !model.hasPrefix("gpt://") {
            throw BotSettingsError("llm.folder_id: YandexGPT needs the folder (catalogue) id.")
        }
        guard (0...2).contains(provider.temperature) else { throw BotSettingsError("llm.temperature: from 0 to 2.") }
        guard (16...8000).contains(provider.maxTokens) else { throw BotSettingsError("llm.max_tokens: from 16 to 8000.") }
        guard (1...120).contains(provider.timeoutSeconds) else { throw BotSettingsError("llm.timeout: from 1 to 120 seconds.") }
        try ProviderEmbeddings.check(provider)
    }
}
