import Foundation
import Yams

/// A model's settings as `tenants.yml` gives them: the provider and the name of the environment variable holding its
/// key (never the key itself), under a partner (`llm:`, its shops' bots follow it) or a tenant's bot (`bot: {llm:}`).
public struct LLMSpec: Sendable, Equatable {
    public var settings: LLMSettings
    /// `api_key_env`: the variable the applier reads the key from (nil: no key, e.g. a local server).
    public var keyEnv: String?
    public var path: String
}

extension ManifestParser {
    static let llmKeys: Set<String> = [
        "mode", "provider", "base_url", "model", "api_key_env", "folder_id", "iam_token", "auth_url", "scope", "ca_bundle", "temperature",
        "max_tokens", "timeout", "instructions", "on_uncited", "json_schema", "embeddings", "embedding_model",
        "speech_model",
    ]

    /// `llm: {provider: openai|yandexgpt|gigachat, base_url, model, api_key_env, folder_id, ...}`; for a bot also
    /// `mode` (partner, own, off: own when a provider is given), `instructions` and `on_uncited` (fallback, handoff);
    /// `embeddings: provider` (and `embedding_model`) embeds the shop's knowledge with the provider (docs/LLM.md).
    mutating func llm(_ node: Node, path: String, forBot: Bool) -> LLMSpec? {
        let allowed = forBot ? Self.llmKeys : Self.llmKeys.subtracting(["mode", "instructions", "on_uncited"])
        guard let map = mapping(node, path: path, allowed: allowed) else { return nil }
        var settings = LLMSettings()
        if let kindNode = map["provider"], let name = text(map, path, "provider") {
            guard let kind = LLMProvider.Kind(rawValue: name) else {
                report(kindNode, path + ".provider", "must be openai, yandexgpt or gigachat, not '\(name)'")
                return nil
            }
            guard let model = text(map, path, "model"), !model.isEmpty else {
                report(node, path + ".model", "is required: the model's name")
                return nil
            }
            var provider = LLMProvider(
                kind: kind, baseURL: text(map, path, "base_url"), model: model, folderID: text(map, path, "folder_id"),
                authURL: text(map, path, "auth_url"),
                scope: text(map, path, "scope"), caBundle: text(map, path, "ca_bundle"))
            if let value = map["iam_token"] { provider.iamToken = boolean(value, path: path + ".iam_token") ?? false }
            if let value = map["json_schema"] { provider.jsonSchema = boolean(value, path: path + ".json_schema") ?? false }
            if let value = map["temperature"] { provider.temperature = number(value, path: path + ".temperature") ?? provider.temperature }
            if let value = map["max_tokens"] {
                provider.maxTokens = Int(number(value, path: path + ".max_tokens") ?? Double(provider.maxTokens))
            }
            if let value = map["timeout"] { provider.timeoutSeconds = number(value, path: path + ".timeout") ?? provider.timeoutSeconds }
            if let value = map["embeddings"], let name = text(map, path, "embeddings") {
                if let source = LLMProvider.EmbeddingsSource(rawValue: name) {
                    provider.embeddings = source
                } else {
                    report(value, path + ".embeddings", "must be local or provider, not '\(name)'")
                }
            }
            provider.embeddingModel = text(map, path, "embedding_model")
            provider.speechModel = text(map, path, "speech_model")
            do { try LLMProvider.check(provider) } catch { report(node, path, "\(error)".replacingOccurrences(of: "llm.", with: "")) }
            settings.provider = provider
            settings.mode = .own
        } else if map["model"] != nil || map["base_url"] != nil {
            report(node, path + ".provider", "is required: openai, yandexgpt or gigachat")
        } else if let key = ["embeddings", "embedding_model"].first(where: { map[$0] != nil }) {
            report(
                map[key], path + "." + key,
                "needs the provider that embeds (provider: openai or yandexgpt); a bot that follows its agency embeds as the agency says")
        }
        if let modeNode = map["mode"], let name = text(map, path, "mode") {
            if let mode = LLMSettings.Mode(rawValue: name) {
                settings.mode = mode
            } else {
                report(modeNode, path + ".mode", "must be partner, own or off, not '\(name)'")
            }
            if settings.mode == .own, settings.provider == nil { report(modeNode, path + ".mode", "own needs a provider") }
        }
        settings.instructions = text(map, path, "instructions") ?? ""
        if settings.instructions.count > 4000 { report(map["instructions"], path + ".instructions", "is longer than 4000 characters") }
        if let uncited = map["on_uncited"], let name = text(map, path, "on_uncited") {
            if let value = LLMSettings.Uncited(rawValue: name) {
                settings.onUncited = value
            } else {
                report(uncited, path + ".on_uncited", "must be fallback or handoff, not '\(name)'")
            }
        }
        let keyEnv = text(map, path, "api_key_env")
        if let keyEnv, keyEnv.range(of: "^[A-Za-z_][A-Za-z0-9_]{0,99}$", options: .regularExpression) == nil {
            report(map["api_key_env"], path + ".api_key_env", "must be the name of an environment variable")
        }
        return LLMSpec(settings: settings, keyEnv: keyEnv, path: path)
    }

    mutating func text(_ map: [String: Node], _ path: String, _ key: String) -> String? {
        guard let node = map[key] else { return nil }
        return string(node, path: path + "." + key)
    }

    mutating func number(_ node: Node, path: String) -> Double? {
        guard case .scalar(let scalar) = node, [.int, .float].contains(scalarType(node)), let value = Double(scalar.string) else {
            report(node, path, "must be a number")
            return nil
        }
        return value
    }

    mutating func boolean(_ node: Node, path: String) -> Bool? {
        guard case .scalar(let scalar) = node, scalarType(node) == .bool else {
            report(node, path, "must be true or false")
            return nil
        }
        return scalar.string.lowercased() == "true"
    }
}
