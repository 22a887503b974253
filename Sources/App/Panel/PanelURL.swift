import Foundation
import Hummingbird

/// Every address of the panel (`/admin/…`). Routes are registered from it, links are built from it and the navigation
/// is derived from it, so a path is written once: adding a page means adding a case here.
///
/// A case's value (an id, a slug) is left out to name the route (`.article()`) and given to build a link
/// (`.article(7).path` is `/admin/articles/7`).
public enum PanelURL: Hashable, Sendable {
    case home
    // Signing in (Identity): the pages anyone may open.
    case login, logout, forgot, reset, invite, handoff
    // Help articles.
    case articles, newArticle
    case article(Int? = nil), deleteArticle(Int? = nil), moveArticle(Int? = nil)
    // The shop's bot: trying it, its settings, its knowledge, templates and rules.
    case botTry, bot, newBot
    case botFAQ, newBotFAQ
    case botFAQEntry(Int? = nil), deleteBotFAQ(Int? = nil)
    case botFAQDrafts, newBotFAQDrafts, approveBotFAQDraft(Int? = nil), discardBotFAQDraft(Int? = nil)
    case botSynonyms
    case botTemplates, newBotTemplate
    case botTemplate(String? = nil), deleteBotTemplate(String? = nil)
    case botRules, newBotRule
    case botRule(String? = nil), deleteBotRule(String? = nil)
    case botModel, botModelTest
    // The bot's messengers: Telegram, WhatsApp, Alice (connect with `:kind`, disconnect).
    case botChannels
    case botChannel(String? = nil), botChannelDisconnect(String? = nil)
    // The shop's inbox: the queues, a conversation and what operators do to it, live events, presence, settings.
    case inbox, inboxEvents, inboxPresence, inboxSettings, inboxSecret
    case inboxConversation(Int? = nil), inboxReply(Int? = nil), inboxNote(Int? = nil), inboxAction(Int? = nil)
    case inboxTyping(Int? = nil), inboxContactDelete(Int? = nil), inboxSuggest(Int? = nil)
    // The shop's team and the user's own profile.
    case team, teamInvite
    case memberRole(UUID? = nil), memberRemove(UUID? = nil), invitationRevoke(String? = nil)
    case profile, profilePassword, signOutEverywhere
    case audit
    // The shop's usage this month and the last 12 (with its own token cap); its agency's table of every shop's.
    case usage, usageCap
    case shopsUsage, shopsUsageCSV
    // The agency's and the platform's console.
    case newTenant
    case openTenant(String? = nil), supportTenant(String? = nil), suspendTenant(String? = nil), resumeTenant(String? = nil)
    case deleteTenant(String? = nil), tenantPlan(String? = nil)
    case branding
    case partnerModel, partnerModelTest
    case domains
    case domainCheck(String? = nil), domainPrimary(String? = nil), domainRemove(String? = nil)
    case apiKeys
    case apiKeyRevoke(UUID? = nil)
    // The platform's own pages.
    case outbox
    case outboxMessage(Int? = nil), outboxHTML(Int? = nil)
    case jobs
    case jobRetry(Int? = nil)

    static let prefix = "/admin"

    /// The route pattern below `/admin` and the values that fill its parameters, in order.
    private var parts: (pattern: String, values: [String?]) {
        switch self {
        case .home: ("", [])
        case .login: ("login", [])
        case .logout: ("logout", [])
        case .forgot: ("forgot", [])
        case .reset: ("reset", [])
        case .invite: ("invite", [])
        case .handoff: ("handoff", [])
        case .articles: ("articles", [])
        case .newArticle: ("articles/new", [])
        case .article(let id): ("articles/:id", [id.map(String.init)])
        case .deleteArticle(let id): ("articles/:id/delete", [id.map(String.init)])
        case .moveArticle(let id): ("articles/:id/move", [id.map(String.init)])
        case .botTry: ("bot/try", [])
        case .bot: ("bot", [])
        case .newBot: ("bot/new", [])
        case .botFAQ: ("bot/faq", [])
        case .newBotFAQ: ("bot/faq/new", [])
        case .botFAQEntry(let id): ("bot/faq/:id", [id.map(String.init)])
        case .deleteBotFAQ(let id): ("bot/faq/:id/delete", [id.map(String.init)])
        case .botFAQDrafts: ("bot/faq/drafts", [])
        case .newBotFAQDrafts: ("bot/faq/drafts/new", [])
        case .approveBotFAQDraft(let id): ("bot/faq/drafts/:id/approve", [id.map(String.init)])
        case .discardBotFAQDraft(let id): ("bot/faq/drafts/:id/discard", [id.map(String.init)])
        case .botSynonyms: ("bot/synonyms", [])
        case .botTemplates: ("bot/templates", [])
        case .newBotTemplate: ("bot/templates/new", [])
        case .botTemplate(let name): ("bot/templates/:name", [name])
        case .deleteBotTemplate(let name): ("bot/templates/:name/delete", [name])
        case .botRules: ("bot/rules", [])
        case .newBotRule: ("bot/rules/new", [])
        case .botRule(let name): ("bot/rules/:name", [name])
        case .deleteBotRule(let name): ("bot/rules/:name/delete", [name])
        case .botModel: ("bot/model", [])
        case .botModelTest: ("bot/model/test", [])
        case .botChannels: ("bot/channels", [])
        case .botChannel(let kind): ("bot/channels/:kind", [kind])
        case .botChannelDisconnect(let kind): ("bot/channels/:kind/disconnect", [kind])
        case .inbox: ("inbox", [])
        case .inboxEvents: ("inbox/events", [])
        case .inboxPresence: ("inbox/presence", [])
        case .inboxSettings: ("inbox/settings", [])
        case .inboxSecret: ("inbox/settings/secret", [])
        case .inboxConversation(let id): ("inbox/:id", [id.map(String.init)])
        case .inboxReply(let id): ("inbox/:id/reply", [id.map(String.init)])
        case .inboxNote(let id): ("inbox/:id/note", [id.map(String.init)])
        case .inboxAction(let id): ("inbox/:id/action", [id.map(String.init)])
        case .inboxTyping(let id): ("inbox/:id/typing", [id.map(String.init)])
        case .inboxContactDelete(let id): ("inbox/contacts/:id/delete", [id.map(String.init)])
        case .inboxSuggest(let id): ("inbox/:id/suggest", [id.map(String.init)])
        case .team: ("team", [])
        case .teamInvite: ("team/invite", [])
        case .memberRole(let user): ("team/members/:user/role", [user.map(Self.text)])
        case .memberRemove(let user): ("team/members/:user/remove", [user.map(Self.text)])
        case .invitationRevoke(let id): ("team/invitations/:id/revoke", [id])
        case .profile: ("profile", [])
        case .profilePassword: ("profile/password", [])
        case .signOutEverywhere: ("profile/sign-out-everywhere", [])
        case .audit: ("audit", [])
        case .usage: ("usage", [])
        case .usageCap: ("usage/cap", [])
        case .shopsUsage: ("usage/shops", [])
        case .shopsUsageCSV: ("usage/shops.csv", [])
        case .newTenant: ("tenants/new", [])
        case .openTenant(let slug): ("tenants/:slug/open", [slug])
        case .supportTenant(let slug): ("tenants/:slug/support", [slug])
        case .suspendTenant(let slug): ("tenants/:slug/suspend", [slug])
        case .resumeTenant(let slug): ("tenants/:slug/resume", [slug])
        case .deleteTenant(let slug): ("tenants/:slug/delete", [slug])
        case .tenantPlan(let slug): ("tenants/:slug/plan", [slug])
        case .branding: ("branding", [])
        case .partnerModel: ("model", [])
        case .partnerModelTest: ("model/test", [])
        case .domains: ("domains", [])
        case .domainCheck(let host): ("domains/:host/check", [host])
        case .domainPrimary(let host): ("domains/:host/primary", [host])
        case .domainRemove(let host): ("domains/:host/remove", [host])
        case .apiKeys: ("api-keys", [])
        case .apiKeyRevoke(let id): ("api-keys/:id/revoke", [id.map(Self.text)])
        case .outbox: ("outbox", [])
        case .outboxMessage(let id): ("outbox/:id", [id.map(String.init)])
        case .outboxHTML(let id): ("outbox/:id/html", [id.map(String.init)])
        case .jobs: ("jobs", [])
        case .jobRetry(let id): ("jobs/:id/retry", [id.map(String.init)])
        }
    }

    /// RFC 3986's unreserved characters: everything else in a value is percent-encoded.
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    private static func text(_ id: UUID) -> String { id.uuidString.lowercased() }

    /// The route's pattern below the panel's group (`articles/:id`).
    public var pattern: RouterPath { RouterPath(parts.pattern) }

    /// The address for a link or a form (`/admin/articles/7`); every parameter must have its value.
    public var path: String {
        let (pattern, values) = parts
        return URLComponent.fill(pattern, with: values, prefix: Self.prefix) { preconditionFailure("\(self) needs a value for \($0)") }
    }

    /// The address with a query (`/admin/login?next=%2Fadmin%2Fteam`); names and values are percent-encoded whole.
    public func path(query: [(String, String)]) -> String {
        guard !query.isEmpty else { return path }
        return path + "?" + query.map { URLComponent.encode($0.0) + "=" + URLComponent.encode($0.1) }.joined(separator: "&")
    }

    /// What a signed-in user needs to reach the page; `nil`: any role on the site. Public pages have none either.
    public var permission: Permission? {
        switch self {
        case .home, .login, .logout, .forgot, .reset, .invite, .handoff, .profile, .profilePassword, .signOutEverywhere: return nil
        case .articles: return .viewArticles
        case .newArticle, .article, .deleteArticle, .moveArticle: return .editArticles
        case .botTry, .botFAQ, .botSynonyms, .botTemplates, .botRules: return .viewBot
        case .newBotFAQ, .botFAQEntry, .deleteBotFAQ, .newBotTemplate, .botTemplate, .deleteBotTemplate: return .editBotKnowledge
        case .botFAQDrafts, .newBotFAQDrafts, .approveBotFAQDraft, .discardBotFAQDraft: return .editBotKnowledge
        case .bot, .newBot, .newBotRule, .botRule, .deleteBotRule, .botModel, .botModelTest: return .editBot
        case .botChannels, .botChannel, .botChannelDisconnect: return .editBot
        case .inbox, .inboxEvents, .inboxConversation: return .viewInbox
        case .inboxPresence, .inboxReply, .inboxNote, .inboxAction, .inboxTyping, .inboxSuggest: return .answerInbox
        case .inboxSettings, .inboxSecret, .inboxContactDelete: return .manageInbox
        case .team: return .viewTeam
        case .teamInvite, .memberRole, .memberRemove, .invitationRevoke: return .manageTeam
        case .audit: return .viewAudit
        // The bot's spending is its settings' to manage: admins and owners (and the agency's staff).
        case .usage, .usageCap: return .editBot
        case .shopsUsage, .shopsUsageCSV: return .viewTenants
        case .newTenant: return .createTenant
        case .openTenant, .supportTenant: return .openTenantPanel
        case .suspendTenant, .resumeTenant, .deleteTenant, .tenantPlan: return .changeTenantStatus
        case .branding: return .editBranding
        case .partnerModel, .partnerModelTest: return .manageModel
        case .domains, .domainCheck, .domainPrimary, .domainRemove: return .manageDomains
        case .apiKeys, .apiKeyRevoke: return .manageAPIKeys
        case .outbox, .outboxMessage, .outboxHTML: return .viewOutbox
        case .jobs, .jobRetry: return .manageJobs
        }
    }

    /// What a page needs on a kind of panel: the home page is a shop's dashboard or a console of shops.
    public func permission(on kind: SiteKind) -> Permission? {
        guard self == .home else { return permission }
        switch kind {
        case .tenant: return .viewDashboard
        case .partner: return .viewTenants
        case .platform: return .viewPartners
        }
    }

    /// Pages shown before sign-in: they take the anonymous CSRF token.
    public var isPublic: Bool {
        switch self {
        case .login, .forgot, .reset, .invite, .handoff: true
        default: false
        }
    }

    /// The navigation item a page belongs to (it is marked current there).
    public var section: PanelURL {
        switch self {
        case .newArticle, .article, .deleteArticle, .moveArticle: .articles
        case .teamInvite, .memberRole, .memberRemove, .invitationRevoke: .team
        case .newBotFAQ, .botFAQEntry, .deleteBotFAQ, .botFAQDrafts, .newBotFAQDrafts, .approveBotFAQDraft, .discardBotFAQDraft: .botFAQ
        case .newBotTemplate, .botTemplate, .deleteBotTemplate: .botTemplates
        case .newBotRule, .botRule, .deleteBotRule: .botRules
        case .botModel, .botModelTest: .bot
        case .botChannel, .botChannelDisconnect: .botChannels
        case .partnerModelTest: .partnerModel
        case .inboxEvents, .inboxPresence, .inboxSettings, .inboxSecret, .inboxConversation, .inboxReply, .inboxNote, .inboxAction,
            .inboxTyping, .inboxContactDelete, .inboxSuggest:
            .inbox
        case .profilePassword, .signOutEverywhere: .profile
        case .usageCap: .usage
        case .shopsUsageCSV: .shopsUsage
        case .newTenant, .openTenant, .supportTenant, .suspendTenant, .resumeTenant, .deleteTenant, .tenantPlan: .home
        case .domainCheck, .domainPrimary, .domainRemove: .domains
        case .apiKeyRevoke: .apiKeys
        case .outboxMessage, .outboxHTML: .outbox
        case .jobRetry: .jobs
        default: self
        }
    }

    /// The navigation of each kind of panel, in order (each item shown only to those it allows).
    public static func navigation(for kind: SiteKind) -> [PanelURL] {
        switch kind {
        case .tenant:
            [
                .home, .inbox, .botTry, .botFAQ, .botSynonyms, .botTemplates, .botRules, .bot, .botChannels, .usage, .articles, .team,
                .audit, .branding, .domains, .apiKeys, .profile,
            ]
        case .partner: [.home, .shopsUsage, .branding, .partnerModel, .domains, .audit, .apiKeys, .profile]
        case .platform: [.home, .shopsUsage, .outbox, .jobs, .audit, .branding, .profile]
        }
    }

    /// The navigation label (an interface-text key) and icon name of a page on a kind of panel.
    public func navigationItem(on kind: SiteKind) -> (label: String, icon: String) {
        switch self {
        case .home:
            switch kind {
            case .tenant: ("nav_dashboard", "dashboard")
            case .partner: ("nav_clients", "tenants")
            case .platform: ("nav_overview", "tenants")
            }
        case .articles: ("nav_articles", "articles")
        case .inbox: ("nav_inbox", "inbox")
        case .botTry: ("nav_bot_try", "bot")
        case .bot: ("nav_bot", "bot-settings")
        case .botFAQ: ("nav_bot_faq", "faq")
        case .botSynonyms: ("nav_bot_synonyms", "synonyms")
        case .botTemplates: ("nav_bot_templates", "templates")
        case .botRules: ("nav_bot_rules", "rules")
        case .botChannels: ("nav_bot_channels", "channels")
        case .team: ("nav_team", "team")
        case .audit: ("nav_audit", "audit")
        case .usage, .shopsUsage: ("nav_usage", "usage")
        case .branding: ("nav_branding", "branding")
        case .partnerModel: ("nav_model", "bot")
        case .domains: ("nav_domains", "domains")
        case .apiKeys: ("nav_api_keys", "api-keys")
        case .outbox: ("nav_outbox", "outbox")
        case .jobs: ("nav_jobs", "jobs")
        case .profile: ("nav_profile", "profile")
        default: ("", "")
        }
    }
}
