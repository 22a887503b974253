import Foundation
import Logging

/// A chat model behind a provider's API (OpenAI-compatible, YandexGPT, GigaChat): messages in, a completion out, its
/// token usage counted. Implementations sit on the shared `HTTPClient`; each has an in-process fake in the tests.
public protocol ChatModel: Sendable {
    /// The provider and model, for explanations and logs (`openai/gpt-4o-mini`).
    var name: String { get }

    /// Completes `request`. `deadline` cuts the call short (throwing `ChatModelError.timeout`); `onDelta`, when
    /// given, hears the answer's text as it is generated (providers that cannot stream call it once with the whole).
    func complete(
        _ request: ChatRequest, deadline: ContinuousClock.Instant, logger: Logger, onDelta: (@Sendable (String) -> Void)?
    )
        async throws -> ChatCompletion
}

extension ChatModel {
    public func complete(_ request: ChatRequest, timeout: Duration, logger: Logger) async throws -> ChatCompletion {
        try await complete(request, deadline: .now + timeout, logger: logger, onDelta: nil)
    }
}

/// One message of a chat.
public struct ChatMessage: Sendable, Equatable, Codable {
    public enum Role: String, Sendable, Codable {
        case system, user, assistant
    }

    public var role: Role
    public var content: String

    public init(_ role: Role, _ content: String) {
        self.role = role
        self.content = content
    }
}

/// What is asked of the model.
public struct ChatRequest: Sendable, Equatable {
    public var messages: [ChatMessage]
    public var temperature: Double
    public var maxTokens: Int
    /// Ask for a JSON object (OpenAI's `response_format: {"type": "json_object"}`; providers without it rely on the
    /// prompt).
    public var json: Bool
    /// The reply's JSON Schema, for providers told to take one (`LLMProvider.jsonSchema`: OpenAI's structured outputs,
    /// llama.cpp and vLLM, which constrain what the model can write by it).
    public var schema: ReplySchema?

    public init(messages: [ChatMessage], temperature: Double = 0.2, maxTokens: Int = 500, json: Bool = false) {
        self.messages = messages
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.json = json
    }
}

/// Tokens a call used: the provider's `usage` when it says, else an estimate (about 4 characters a token).
public struct TokenUsage: Sendable, Equatable, Codable {
    public var prompt: Int
    public var completion: Int
    public var estimated: Bool

    public var total: Int { prompt + completion }

    public init(prompt: Int, completion: Int, estimated: Bool = false) {
        self.prompt = prompt
        self.completion = completion
        self.estimated = estimated
    }

    /// An estimate for texts the provider did not count.
    public static func estimate(prompt: [ChatMessage], completion: String) -> TokenUsage {
        let characters = prompt.reduce(0) { $0 + $1.content.count + 4 }
        return TokenUsage(prompt: max(1, characters / 4), completion: max(1, completion.count / 4), estimated: true)
    }
}

/// A model's answer.
public struct ChatCompletion: Sendable, Equatable {
    public var text: String
    public var usage: TokenUsage
    /// The model that answered, as the provider names it.
    public var model: String
    /// `stop`, `length`, `content_filter`, …
    public var finishReason: String?

    public init(text: String, usage: TokenUsage, model: String, finishReason: String? = nil) {
        self.text = text
        self.usage = usage
        self.model = model
        self.finishReason = finishReason
    }
}

/// Why a model call failed, as a person can act on it.
public enum ChatModelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The key (or token, or client credentials) is refused.
    case badKey
    /// The account is out of money or quota.
    case quota
    /// The model does not exist or this key may not use it.
    case modelMissing(String)
    /// Too many requests now; try after this many seconds, if the provider said.
    case rateLimited(retryAfter: Int?)
    /// The deadline passed first.
    case timeout
    /// The provider is down or unreachable (5xx, connection refused, TLS).
    case unavailable(String)
    /// The provider answered something this client cannot read.
    case malformed(String)
    /// The provider's TLS certificate does not chain to a trusted root (GigaChat's needs its CA bundle): calling again
    /// will not help.
    case untrusted
    /// The circuit breaker is open after repeated failures: the provider is left alone for a while.
    case circuitOpen(until: Date)

    public var description: String {
        switch self {
        case .badKey: "The provider refused the key: check the API key (or the client credentials)."
        case .untrusted: "The provider's TLS certificate is not trusted: is its root CA in the CA bundle?"
        case .quota: "The provider's account has no quota or money left."
        case .modelMissing(let model): "The provider has no model “\(model)” for this key: check the model's name."
        case .rateLimited(let retry): "The provider asks to slow down" + (retry.map { " (retry in \($0) s)" } ?? "") + "."
        case .timeout: "The provider did not answer in time."
        case .unavailable(let why): "The provider cannot be reached: \(why)."
        case .malformed(let why): "The provider's answer could not be read: \(why)."
        case .circuitOpen: "The provider failed several times in a row; it is left alone for a minute."
        }
    }

    /// Whether calling again with the same request may succeed (a retry is safe: completions have no side effects
    /// besides their cost).
    public var isTransient: Bool {
        switch self {
        case .rateLimited, .unavailable: true
        case .badKey, .quota, .modelMissing, .timeout, .malformed, .circuitOpen, .untrusted: false
        }
    }
}

/// Makes the chat model for a provider and key (`ChatModels` in the composition root: clients cached, retries, a
/// circuit breaker per `circuit`).
public protocol ChatModelSource: Sendable {
    func model(for provider: LLMProvider, key: String, circuit: String) throws -> any ChatModel
}

extension ChatModels: ChatModelSource {}
