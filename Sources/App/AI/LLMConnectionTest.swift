import Foundation
import Logging

/// "Test the connection" for the panel's model pages and the API: one tiny request to the provider with the settings
/// being edited (nothing is stored), within 10 seconds, at most `perMinute` a minute per person (the panel's pages
/// share one) or per API key (the API's).
public struct LLMConnectionTest: Sendable {
    /// How a test ended.
    public enum Outcome: Sendable, Equatable {
        /// The model answered: as the provider names it, in this many milliseconds, with these tokens.
        case answered(model: String, milliseconds: Int, usage: TokenUsage)
        /// It did not, and why.
        case failed(ChatModelError)
    }

    static let request = ChatRequest(
        messages: [ChatMessage(.user, "Reply with the single word OK.")], temperature: 0, maxTokens: 16)
    static let timeout: Duration = .seconds(10)

    let models: ChatModels
    let limiter: RateLimiter<String>
    public let endpoints: LLMEndpointPolicy

    /// `models` is the app's (its clients, no retries, no circuit breaker for a test).
    public init(models: ChatModels, endpoints: LLMEndpointPolicy, perMinute: Int = 10) {
        self.models = models
        self.endpoints = endpoints
        limiter = RateLimiter(perMinute: perMinute)
    }

    /// Takes one test from `who`'s allowance (`user:<id>`, `key:<id>`); the seconds to wait when none is left.
    public func take(_ who: String) -> Int? {
        let decision = limiter.take(who)
        return decision.allowed ? nil : max(1, decision.retryAfter)
    }

    /// Asks `provider` with `key` to say OK.
    public func run(_ provider: LLMProvider, key: String, logger: Logger) async -> Outcome {
        let started = ContinuousClock.now
        do {
            let model = try models.providerModel(for: provider, key: key)
            let completion = try await model.complete(Self.request, timeout: Self.timeout, logger: logger)
            let elapsed = ContinuousClock.now - started
            let milliseconds = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
            return .answered(
                model: completion.model.isEmpty ? provider.model : completion.model, milliseconds: milliseconds, usage: completion.usage)
        } catch let error as ChatModelError {
            logger.info("A model connection test failed", metadata: ["provider": "\(provider.name)", "error": "\(error)"])
            return .failed(error)
        } catch {
            logger.warning("A model connection test failed oddly", metadata: ["provider": "\(provider.name)", "error": "\(error)"])
            return .failed(.unavailable("the request could not be made"))
        }
    }
}

extension ChatModelError {
    /// The interface-text key of the sentence the panel shows, and the detail it fills in (`%s`).
    var textKey: (key: String, detail: String) {
        switch self {
        case .badKey: ("llm_test_bad_key", "")
        case .untrusted: ("llm_test_untrusted", "")
        case .quota: ("llm_test_quota", "")
        case .modelMissing(let model): ("llm_test_model_missing", model)
        case .rateLimited(let retry): retry.map { ("llm_test_rate_limited_retry", String($0)) } ?? ("llm_test_rate_limited", "")
        case .timeout: ("llm_test_timeout", "")
        case .unavailable(let why): ("llm_test_unavailable", why)
        case .malformed(let why): ("llm_test_malformed", why)
        case .circuitOpen: ("llm_test_circuit", "")
        }
    }
}
