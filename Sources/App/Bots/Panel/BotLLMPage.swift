import Foundation

/// The bot's language model form (`/admin/bot/model?bot=<slug>`): whose model it uses, its own provider and key, the
/// shop's instructions and what an uncited answer becomes; what is stored, or what was typed (never the key).
struct BotLLMPage {
    var slug = ""
    var botName = ""
    var mode: String
    var provider: LLMProviderForm
    var instructions: String
    var onUncited: String
    /// The stored key as its last four characters (`••••••••3f9a`), or nil when there is none.
    var keyMask: String?
    /// The operator gave this bot a CA bundle (`tenants.yml`); it is kept.
    var caBundle = false
    var errors: [String: String] = [:]
    var showErrors = false
    var result: LLMTestView?
    /// Set by `finish`: the template sees stored properties only.
    var modes: [LLMChoice] = []
    var uncited: [LLMChoice] = []
    var action = ""
    var testAction = ""
    var settingsURL = ""
    var agencyNote = ""

    init(_ bot: Bot) {
        slug = bot.slug
        mode = bot.llm.mode.rawValue
        provider = LLMProviderForm(bot.llm.provider)
        instructions = bot.llm.instructions
        onUncited = bot.llm.onUncited.rawValue
        caBundle = bot.llm.provider?.caBundle != nil
    }

    /// The form as typed.
    init(form: FormData) {
        mode = form.text("llm_mode")
        provider = LLMProviderForm(form: form)
        instructions = form.raw("llm_instructions").trimmingCharacters(in: .whitespacesAndNewlines)
        onUncited = form.text("llm_on_uncited")
    }

    /// The key's fate as the form asks for it.
    var keyChange: LLMKeyChange {
        if provider.removeKey { return .remove }
        return provider.key.isEmpty ? .keep : .set(provider.key)
    }

    /// The settings the form asks for over the bot's `stored` ones, or sentences by field: the provider is required for
    /// the bot's own model and kept (checked) whenever one is typed, so that switching back loses nothing.
    func settings(over stored: LLMSettings, endpoints: LLMEndpointPolicy, t: [String: String]) -> (LLMSettings, [String: String]) {
        var settings = stored
        var errors: [String: String] = [:]
        if let chosen = LLMSettings.Mode(rawValue: mode) { settings.mode = chosen } else { errors["mode"] = t["form_invalid_choice"] }
        if let chosen = LLMSettings.Uncited(rawValue: onUncited) {
            settings.onUncited = chosen
        } else {
            errors["on_uncited"] = t["form_invalid_choice"]
        }
        if instructions.count > 4000 { errors["instructions"] = t["llm_error_instructions"] }
        settings.instructions = instructions
        if settings.mode == .own || !provider.isBlank {
            let (typed, problems) = provider.provider(over: stored.provider, endpoints: endpoints, t: t)
            errors.merge(problems) { first, _ in first }
            settings.provider = typed
        } else {
            settings.provider = nil
        }
        if provider.key.count > 2000 { errors["api_key"] = t["form_too_long"] }
        return (settings, errors)
    }

    /// Fills in what the template shows from the rest; `agency` is the model the shop's agency gives, if any.
    mutating func finish(agency: LLMProvider?, t: [String: String]) {
        action = PanelURL.botModel.path(query: [("bot", slug)])
        testAction = PanelURL.botModelTest.path(query: [("bot", slug)])
        settingsURL = PanelURL.bot.path(query: [("bot", slug)])
        agencyNote =
            agency.map { (t["llm_agency_gives"] ?? "").replacingOccurrences(of: "%model", with: $0.name) } ?? (t["llm_agency_none"] ?? "")
        modes = LLMSettings.Mode.allCases.map { value in
            LLMChoice(
                value: value.rawValue, label: t["llm_mode_" + value.rawValue] ?? value.rawValue,
                hint: value == .partner ? agencyNote : t["llm_mode_" + value.rawValue + "_hint"] ?? "", checked: value.rawValue == mode)
        }
        uncited = LLMSettings.Uncited.allCases.map { value in
            LLMChoice(
                value: value.rawValue, label: t["llm_uncited_" + value.rawValue] ?? value.rawValue,
                hint: t["llm_uncited_" + value.rawValue + "_hint"] ?? "", checked: value.rawValue == onUncited)
        }
        provider.finish(t: t)
        showErrors = !errors.isEmpty
    }
}
