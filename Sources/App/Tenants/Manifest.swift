import Foundation

/// A `tenants.yml` file: partners, tenants, their domains, branding and help articles, declared.
public struct Manifest: Sendable {
    /// The installation's own brand (`platform:`); `nil` when the file does not say (then it is left as it is).
    public var platform: PlatformSpec?
    public var partners: [PartnerSpec] = []
    public var tenants: [TenantSpec] = []
    /// Platform administrators (the top-level `admins:`); `nil` when the file does not say.
    public var admins: [AdminSpec]?
}

/// A person the manifest gives a role, with the environment variable holding their password.
public struct AdminSpec: Sendable, Equatable {
    public var path: String
    public var email: String
    /// The person's name, shown in the panel (empty: leave it as it is).
    public var name: String = ""
    public var role: Role
    /// The name of the environment variable with the password; `nil` to leave the password alone.
    public var passwordEnv: String?
}

/// The installation itself as the manifest declares it: the operator's brand.
public struct PlatformSpec: Sendable {
    public var path: String
    public var branding: Branding
}

/// A partner as the manifest declares it.
public struct PartnerSpec: Sendable {
    public var path: String
    public var slug: String
    public var name: String
    public var domains: [String]
    public var branding: Branding
    /// `nil` when the file does not list admins (then memberships are left alone).
    public var admins: [AdminSpec]?
    /// The partner's plans; `nil` when the file does not list them (then they are left as they are).
    public var plans: [Plan]? = nil
    /// The agency's language model, which its shops' bots follow (`llm:`); `nil` leaves it as it is.
    public var llm: LLMSpec? = nil
}

/// A tenant as the manifest declares it. `helpArticles == nil` means "leave the articles alone".
public struct TenantSpec: Sendable {
    public var path: String
    public var slug: String
    public var name: String
    public var partner: String?
    public var status: TenantStatus
    public var domains: [String]
    public var branding: Branding
    public var helpArticles: [HelpArticle]?
    public var admins: [AdminSpec]?
    /// The slug of one of its partner's plans.
    public var plan: String? = nil
    /// The shop's own monthly LLM token cap (`llm_token_cap:`): `nil` leaves it as it is, `.some(nil)` clears it.
    public var llmTokenCap: Int?? = nil
    /// The bot, its knowledge, templates and rules (`bot:`, `faq:`, `synonyms:`, `templates:`, `rules:`).
    public var bot = BotSpec()
}

/// One problem in a manifest: where (file, line, path of the field) and what.
public struct ManifestIssue: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var path: String
    public var message: String

    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return path.isEmpty ? "\(location): \(message)" : "\(location): \(path): \(message)"
    }
}

/// A manifest that was refused; nothing was written.
public struct ManifestError: Error, CustomStringConvertible {
    public var issues: [ManifestIssue]

    public var description: String {
        let count = issues.count == 1 ? "1 problem" : "\(issues.count) problems"
        return "The manifest has \(count); nothing was changed.\n" + issues.map { "  " + $0.description }.joined(separator: "\n")
    }
}
