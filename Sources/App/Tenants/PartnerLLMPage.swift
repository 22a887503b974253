import Foundation

/// The agency's language model form (`/admin/model` in its console): whether it gives its shops a model and which
/// (provider, address, model, a write-only key); what is stored, or what was typed (never the key).
struct PartnerLLMPage {
    /// `give` or `none`.
    var give: String
    var provider: LLMProviderForm
    /// The stored key as its last four characters, or nil when there is none.
    var keyMask: String?
    var caBundle = false
    var errors: [String: String] = [:]
    var showErrors = false
    var result: LLMTestView?
    /// Set by `finish`.
    var choices: [LLMChoice] = []
    let action = PanelURL.partnerModel.path
    let testAction = PanelURL.partnerModelTest.path

    init(_ provider: LLMProvider?) {
        give = provider == nil ? "none" : "give"
        self.provider = LLMProviderForm(provider)
        caBundle = provider?.caBundle != nil
    }

    init(form: FormData) {
        give = form.text("llm_give")
        provider = LLMProviderForm(form: form)
    }

    var keyChange: LLMKeyChange {
        if provider.removeKey { return .remove }
        return provider.key.isEmpty ? .keep : .set(provider.key)
    }

    /// The provider the form asks for (nil: the agency gives none), or sentences by field. A provider typed while
    /// "none" is chosen is not kept.
    func provider(over stored: LLMProvider?, endpoints: LLMEndpointPolicy, t: [String: String]) -> (LLMProvider?, [String: String]) {
        var errors: [String: String] = [:]
        if provider.key.count > 2000 { errors["api_key"] = t["form_too_long"] }
        switch give {
        case "none": return (nil, errors)
        case "give":
            let (typed, problems) = provider.provider(over: stored, endpoints: endpoints, t: t)
            return (typed, errors.merging(problems) { first, _ in first })
        default: return (nil, ["give": t["form_invalid_choice"] ?? ""])
        }
    }

    mutating func finish(t: [String: String]) {
        choices = ["give", "none"].map { value in
            LLMChoice(
                value: value, label: t["llm_partner_" + value] ?? value, hint: t["llm_partner_" + value + "_hint"] ?? "",
                checked: value == give)
        }
        provider.finish(t: t)
        showErrors = !errors.isEmpty
    }
}
