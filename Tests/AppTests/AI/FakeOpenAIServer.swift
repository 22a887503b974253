import Foundation

/// OpenAI's Chat Completions on loopback, answering in the shapes of OpenAI's API reference: a `chat.completion`, or
/// for `"stream": true` the chunks (the role first, the text in pieces, the finish reason, usage in a last chunk with no
/// choices, then `[DONE]`).
enum FakeOpenAIServer {
    static let answer = "Доставка занимает 2–3 дня."
    static let pieces = ["Доставка ", "занимает ", "2–3 дня."]

    static func make() -> FakeChatServer {
        FakeChatServer { request in
            (request.json["stream"] as? Bool) == true ? .events(events(pieces)) : .reply(200, completion(answer))
        }
    }

    /// A whole answer as the reference shows it.
    static func completion(
        _ text: String, model: String = "gpt-4o-mini-2024-07-18", finishReason: String = "stop", usage: (Int, Int)? = (19, 10)
    ) -> String {
        var reply: [String: Any] = [
            "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", "object": "chat.completion", "created": 1_741_569_952, "model": model,
            "choices": [
                [
                    "index": 0, "message": ["role": "assistant", "content": text, "refusal": NSNull(), "annotations": [Any]()],
                    "logprobs": NSNull(), "finish_reason": finishReason,
                ] as [String: Any]
            ],
            "service_tier": "default",
        ]
        if let (prompt, completion) = usage {
            reply["usage"] = [
                "prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
                "prompt_tokens_details": ["cached_tokens": 0, "audio_tokens": 0],
                "completion_tokens_details": ["reasoning_tokens": 0, "audio_tokens": 0],
            ]
        }
        return chatJSON(reply)
    }

    /// The server-sent events of a streamed answer with `stream_options.include_usage`: every chunk has `"usage":
    /// null` but the last, which has no choices.
    static func events(_ pieces: [String], usage: (Int, Int)? = (19, 10), done: Bool = true) -> [String] {
        func chunk(_ delta: [String: Any], finish: String?) -> String {
            let choice: [String: Any] = ["index": 0, "delta": delta, "logprobs": NSNull(), "finish_reason": finish ?? NSNull()]
            return event(chunkObject(choices: [choice], usage: nil))
        }
        var events = [chunk(["role": "assistant", "content": ""], finish: nil)]
        events += pieces.map { chunk(["content": $0], finish: nil) }
        events.append(chunk([:], finish: "stop"))
        if let (prompt, completion) = usage {
            events.append(
                event(
                    chunkObject(
                        choices: [],
                        usage: ["prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion])))
        }
        if done { events.append("data: [DONE]\n\n") }
        return events
    }

    static func chunkObject(choices: [[String: Any]], usage: [String: Any]?) -> [String: Any] {
        [
            "id": "chatcmpl-123", "object": "chat.completion.chunk", "created": 1_694_268_190, "model": "gpt-4o-mini-2024-07-18",
            "system_fingerprint": "fp_44709d6fcb", "choices": choices, "usage": usage ?? NSNull(),
        ]
    }

    static func event(_ object: [String: Any]) -> String { "data: " + chatJSON(object) + "\n\n" }

    /// An error answer: `{"error": {"message", "type", "param", "code"}}`.
    static func error(_ message: String, type: String = "invalid_request_error", code: String? = nil) -> String {
        chatJSON(["error": ["message": message, "type": type, "param": NSNull(), "code": code ?? NSNull()] as [String: Any]])
    }
}

/// `object` as JSON text.
func chatJSON(_ object: Any) -> String {
    String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
}
