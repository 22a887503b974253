import Foundation

/// The JSON Schema of a reply the model must give, sent as OpenAI's `response_format: {"type": "json_schema"}`. Only
/// the grounded answer has one: `{"action": "answer"|"clarify"|"handoff", "text": "…", "citations": ["p1", …]}`, the
/// citations limited to the ids of the passages sent (each at most once in number) and the text to a length a shopper reads (a server that decodes
/// by the schema cannot loop past it).
public struct ReplySchema: Sendable, Equatable, Encodable {
    public var name: String
    /// The passages' ids the citations may name.
    public var citable: [String]
    /// The longest text, in characters.
    public var maxText: Int

    public static func grounded(passages: [String], maxText: Int = 700) -> ReplySchema {
        ReplySchema(name: "grounded_reply", citable: passages, maxText: maxText)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        try container.encode(name, forKey: JSONKey("name"))
        // Not strict: a length limit is not among the keywords OpenAI's strict mode takes; servers that decode by the
        // schema (llama.cpp, vLLM) keep to it either way, and `GroundedReply` checks the reply regardless.
        try container.encode(false, forKey: JSONKey("strict"))
        try container.encode(Schema(citable: citable, maxText: maxText), forKey: JSONKey("schema"))
    }

    struct Schema: Encodable {
        let citable: [String]
        let maxText: Int

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: JSONKey.self)
            try container.encode("object", forKey: JSONKey("type"))
            var properties = container.nestedContainer(keyedBy: JSONKey.self, forKey: JSONKey("properties"))
            var action = properties.nestedContainer(keyedBy: JSONKey.self, forKey: JSONKey("action"))
            try action.encode("string", forKey: JSONKey("type"))
            try action.encode(["answer", "clarify", "handoff"], forKey: JSONKey("enum"))
            var text = properties.nestedContainer(keyedBy: JSONKey.self, forKey: JSONKey("text"))
            try text.encode("string", forKey: JSONKey("type"))
            try text.encode(maxText, forKey: JSONKey("maxLength"))
            var citations = properties.nestedContainer(keyedBy: JSONKey.self, forKey: JSONKey("citations"))
            try citations.encode("array", forKey: JSONKey("type"))
            var items = citations.nestedContainer(keyedBy: JSONKey.self, forKey: JSONKey("items"))
            try items.encode("string", forKey: JSONKey("type"))
            try items.encode(citable, forKey: JSONKey("enum"))
            // A small model decoding by the schema otherwise repeats the ids until its tokens run out.
            try citations.encode(citable.count, forKey: JSONKey("maxItems"))
            try container.encode(["action", "text", "citations"], forKey: JSONKey("required"))
            try container.encode(false, forKey: JSONKey("additionalProperties"))
        }
    }
}
