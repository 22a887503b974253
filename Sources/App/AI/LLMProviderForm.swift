import Foundation

/// A language model's provider as a panel form has it (a bot's own, an agency's): what is stored, or what was typed.
/// The key is write-only: typed into a password field, never put back into a page.
struct LLMProviderForm: Sendable {
    var kind: String
    var baseURL: String
    var model: String
    var folderID: String
    var temperature: String
    var maxTokens: String
    var timeout: String
    /// `local` or `provider` (docs/LLM.md, "The provider's embeddings"), and the provider's embedding model (empty: its
    /// default).
    var embeddings: String
    var embeddingModel: String
    /// The key as typed (never rendered): empty keeps the stored one.
    var key = ""
    var removeKey = false
    /// Set by `finish`: the template sees stored properties only.
    var kinds: [SelectOption] = []
    var defaults = ""
    var embeddingsChoices: [SelectOption] = []
    /// The provider's default embedding model, as the field's placeholder.
    var embeddingPlaceholder = ""
    /// GigaChat's embeddings are not offered: the choice is shown disabled, with a note.
    var embeddingsOffered = true

    init(_ provider: LLMProvider?) {
        let shown = provider ?? LLMProvider(kind: .openai, model: "")
        kind = shown.kind.rawValue
        baseURL = provider?.baseURL ?? ""
        model = shown.model
        folderID = shown.folderID ?? ""
        temperature = Self.number(shown.temperature)
        maxTokens = String(shown.maxTokens)
        timeout = Self.number(shown.timeoutSeconds)
        embeddings = shown.embeddings.rawValue
        embeddingModel = shown.embeddingModel ?? ""
    }

    /// The form as typed (`llm_*` fields).
    init(form: FormData) {
        kind = form.text("llm_kind")
        baseURL = form.text("llm_base_url")
        model = form.text("llm_model")
        folderID = form.text("llm_folder_id")
        temperature = form.text("llm_temperature")
        maxTokens = form.text("llm_max_tokens")
        timeout = form.text("llm_timeout")
        embeddings = form.text("llm_embeddings")
        embeddingModel = form.text("llm_embedding_model")
        key = form.raw("llm_api_key").trimmingCharacters(in: .whitespacesAndNewlines)
        removeKey = form["llm_api_key_remove"] != nil
    }

    /// Nothing typed but the kind and the numbers (an agency or a bot that gives no provider of its own).
    var isBlank: Bool { baseURL.isEmpty && model.isEmpty && folderID.isEmpty }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    /// The provider the form asks for, over `stored` (`LLMEdit.merged`), checked as `tenants.yml` checks it, with the
    /// address refused when it is on the server's network and not the stored one; or a sentence by field.
    func provider(over stored: LLMProvider?, endpoints: LLMEndpointPolicy, t: [String: String]) -> (LLMProvider?, [String: String]) {
        var errors: [String: String] = [:]
        guard let kind = LLMProvider.Kind(rawValue: kind) else { return (nil, ["kind": t["form_invalid_choice"] ?? ""]) }
        func decimal(_ text: String, _ field: String, default value: Double) -> Double {
            guard !text.isEmpty else { return value }
            guard let number = Double(text.replacingOccurrences(of: ",", with: ".")), number.isFinite else {
                errors[field] = t["llm_error_" + field]
                return value
            }
            return number
        }
        var provider = LLMProvider(
            kind: kind, baseURL: baseURL.isEmpty ? nil : baseURL, model: model, folderID: folderID.isEmpty ? nil : folderID)
        provider.temperature = decimal(temperature, "temperature", default: provider.temperature)
        provider.timeoutSeconds = decimal(timeout, "timeout", default: provider.timeoutSeconds)
        if !maxTokens.isEmpty {
            if let count = Int(maxTokens) { provider.maxTokens = count } else { errors["max_tokens"] = t["llm_error_max_tokens"] }
        }
        // A disabled choice (GigaChat's) is not sent: the installation's.
        if let source = embeddings.isEmpty ? .local : LLMProvider.EmbeddingsSource(rawValue: embeddings) {
            provider.embeddings = source
        } else {
            errors["embeddings"] = t["form_invalid_choice"]
        }
        provider.embeddingModel = embeddingModel.isEmpty ? nil : embeddingModel
        provider = LLMEdit.merged(provider, over: stored)
        do {
            try LLMProvider.check(provider)
        } catch let error as BotSettingsError {
            let (field, _) = LLMEdit.field(of: error)
            errors[field] =
                errors[field]
                ?? (t["llm_error_" + field] ?? error.description)
                .replacingOccurrences(of: "%s", with: LLMProvider.defaultBaseURL(kind))
        } catch {
            errors["form"] = t["form_has_errors"]
        }
        if !key.isEmpty, !LLMEdit.isUsableKey(key) { errors["api_key"] = t["llm_error_api_key"] }
        if errors["base_url"] == nil, !LLMEdit.allowed(provider, stored: stored, endpoints: endpoints) {
            errors["base_url"] = t["llm_error_private"]
        }
        return (errors.isEmpty ? provider : nil, errors)
    }

    /// The choices and hints from the typed or stored values.
    mutating func finish(t: [String: String]) {
        kinds = LLMProvider.Kind.allCases.map {
            SelectOption(value: $0.rawValue, label: t["llm_kind_" + $0.rawValue] ?? $0.rawValue, selected: $0.rawValue == kind)
        }
        defaults = LLMProvider.Kind.allCases.map {
            t["llm_kind_" + $0.rawValue, default: $0.rawValue] + ": " + LLMProvider.defaultBaseURL($0)
        }
        .joined(separator: "; ")
        let chosen = LLMProvider.Kind(rawValue: kind) ?? .openai
        embeddingsOffered = ProviderEmbeddings.offered(by: chosen)
        embeddingsChoices = LLMProvider.EmbeddingsSource.allCases.map {
            SelectOption(
                value: $0.rawValue, label: t["llm_embeddings_" + $0.rawValue] ?? $0.rawValue,
                selected: $0.rawValue == (embeddingsOffered ? embeddings : "local"))
        }
        embeddingPlaceholder = chosen == .yandexgpt ? ProviderEmbeddings.yandexDefault : ProviderEmbeddings.openAIDefault
    }
}

/// A key's fate in a change from the panel or the API.
enum LLMKeyChange: Sendable, Equatable {
    case keep
    case set(String)
    case remove
}

/// The rules the panel and the API share when a shop or an agency edits its model.
enum LLMEdit {
    /// `typed` with what only the operator sets kept from `stored`: the CA bundle (a file on the server) always, and
    /// the IAM-token flag, OAuth address and scope while the kind stays. The embeddings' settings are the typed ones.
    static func merged(_ typed: LLMProvider, over stored: LLMProvider?) -> LLMProvider {
        var provider = typed
        provider.caBundle = stored?.caBundle
        if let stored, stored.kind == typed.kind {
            provider.iamToken = stored.iamToken
            provider.authURL = stored.authURL
            provider.scope = stored.scope
            provider.jsonSchema = stored.jsonSchema
        }
        return provider
    }

    /// The stored key goes only where it went before: the same kind of provider at the same address (otherwise
    /// whoever may edit the settings could send a key they cannot read to a server of theirs).
    static func sameEndpoint(_ provider: LLMProvider?, _ stored: LLMProvider?) -> Bool {
        guard let provider, let stored else { return false }
        return provider.kind == stored.kind && provider.baseURL == stored.baseURL
    }

    /// Whether `provider`'s address may be used: the stored one (the operator's, or checked when it was saved), or one
    /// the installation's policy allows.
    static func allowed(_ provider: LLMProvider, stored: LLMProvider?, endpoints: LLMEndpointPolicy) -> Bool {
        if let stored, stored.baseURL == provider.baseURL { return true }
        return (try? endpoints.check(provider.baseURL)) != nil
    }

    /// The sealed key to store: the new one sealed, none, or the stored one when the provider keeps its endpoint.
    /// Throws `llm.api_key` when the endpoint changed and the key was not given again.
    static func sealedKey(
        _ change: LLMKeyChange, stored sealed: String?, provider: LLMProvider?, storedProvider: LLMProvider?, secrets: SecretBox
    ) throws -> String? {
        switch change {
        case .set(let key): return try secrets.seal(key)
        case .remove: return nil
        case .keep:
            guard let sealed else { return nil }
            if let provider, !sameEndpoint(provider, storedProvider) { throw retypeKey }
            return sealed
        }
    }

    /// The key a test sends: the one typed, else the stored one if the endpoint is the stored one, else none.
    static func testKey(
        _ change: LLMKeyChange, stored sealed: String?, provider: LLMProvider, storedProvider: LLMProvider?, secrets: SecretBox
    ) throws -> String {
        switch change {
        case .set(let key): return key
        case .remove: return ""
        case .keep:
            guard let sealed else { return "" }
            guard sameEndpoint(provider, storedProvider) else { throw retypeKey }
            return try secrets.open(sealed)
        }
    }

    /// A provider's key as every provider issues them: 1 to 2000 printable ASCII characters, no spaces (sealed, that
    /// fits the column; anything else is a paste gone wrong).
    static func isUsableKey(_ key: String) -> Bool {
        (1...2000).contains(key.utf8.count) && key.unicodeScalars.allSatisfy { (0x21...0x7E).contains($0.value) }
    }

    static let retypeKey = BotSettingsError("llm.api_key: the provider or its address changed: give the key again, or remove it.")

    /// The names of what changed, for the audit entry (never the key itself).
    static func changes(from old: LLMSettings, to new: LLMSettings, key: LLMKeyChange) -> [String: String] {
        var changed: [String] = []
        if old.mode != new.mode { changed.append("mode") }
        if old.provider != new.provider { changed.append("provider") }
        if old.instructions != new.instructions { changed.append("instructions") }
        if old.onUncited != new.onUncited { changed.append("on_uncited") }
        var details = ["mode": new.mode.rawValue]
        if let provider = new.provider { details["provider"] = provider.name }
        switch key {
        case .keep: break
        case .set: details["key"] = "replaced"
        case .remove: details["key"] = "removed"
        }
        if !changed.isEmpty { details["changed"] = changed.joined(separator: ", ") }
        return details
    }

    /// `llm.base_url: …` as the field (`base_url`) and its sentence.
    static func field(of error: BotSettingsError) -> (String, String) {
        let text = error.description
        guard text.hasPrefix("llm."), let colon = text.firstIndex(of: ":") else { return ("form", text) }
        let field = String(text[text.index(text.startIndex, offsetBy: 4)..<colon])
        return (field, text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces))
    }
}

/// A radio choice with a line of explanation.
struct LLMChoice: Sendable {
    let value: String
    let label: String
    let hint: String
    let checked: Bool
}

/// What a connection test said, as the page shows it.
struct LLMTestView: Sendable {
    let ok: Bool
    let text: String

    init(ok: Bool, text: String) {
        self.ok = ok
        self.text = text
    }

    init(_ outcome: LLMConnectionTest.Outcome, t: [String: String], language: String) {
        switch outcome {
        case .answered(let model, let milliseconds, let usage):
            ok = true
            text = (t["llm_test_ok"] ?? "").replacingOccurrences(of: "%model", with: model)
                .replacingOccurrences(of: "%ms", with: NumberText.format(milliseconds, language: language))
                .replacingOccurrences(of: "%tokens", with: NumberText.format(usage.total, language: language))
        case .failed(let error):
            ok = false
            let (key, detail) = error.textKey
            text = (t[key] ?? error.description).replacingOccurrences(of: "%s", with: detail)
        }
    }
}
