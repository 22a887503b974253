import Foundation

extension LLMConnectionTest {
    /// What a connection test answers in the API: whether the model answered, which, how fast and with how many
    /// tokens; or why not (the same shape as `POST /api/v1/bot/llm/test`'s).
    struct ResultJSON: Encodable {
        let ok: Bool
        let provider: String
        let model: String?
        let milliseconds: Int?
        let tokens: TokenUsage?
        let error: String?

        init(_ outcome: Outcome, provider: LLMProvider) {
            self.provider = provider.name
            switch outcome {
            case .answered(let name, let milliseconds, let usage):
                (ok, model, self.milliseconds, tokens, error) = (true, name, milliseconds, usage, nil)
            case .failed(let failure):
                (ok, model, self.milliseconds, tokens, error) = (false, nil, nil, nil, failure.description)
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: JSONKey.self)
            try container.encode(ok, forKey: JSONKey("ok"))
            try container.encode(provider, forKey: JSONKey("provider"))
            try container.encode(model, forKey: JSONKey("model"))
            try container.encode(milliseconds, forKey: JSONKey("milliseconds"))
            if let tokens {
                var object = container.nestedContainer(keyedBy: JSONKey.self, forKey: JSONKey("tokens"))
                try object.encode(tokens.prompt, forKey: JSONKey("prompt"))
                try object.encode(tokens.completion, forKey: JSONKey("completion"))
                try object.encode(tokens.total, forKey: JSONKey("total"))
            } else {
                try container.encodeNil(forKey: JSONKey("tokens"))
            }
            try container.encode(error, forKey: JSONKey("error"))
        }
    }
}
