import Foundation
import Hummingbird

/// A signed-in request on a panel, with what the user may do there.
public struct Panel: Sendable {
    public let site: Site
    public let user: SignedInUser
    public let access: Access
    public let host: String
    /// The client's address (audit entries, throttling).
    public let address: String?
    /// The panel's language: the user's choice, else the browser's, else the site's default.
    public let language: String

    /// The tenant of a tenant's panel.
    public var tenant: TenantRecord? {
        if case .tenant(let tenant) = site { tenant } else { nil }
    }

    /// The partner of an agency's panel.
    public var partner: PartnerRecord? {
        if case .partner(let partner) = site { partner } else { nil }
    }

    /// What the role allows here, less what the site's partner withholds (a shop's branding is its partner's to give).
    public func allows(_ permission: Permission) -> Bool {
        if permission == .editBranding, brandingLocked { return false }
        return access.allows(permission)
    }

    /// Whether a page is reachable here: its permission means something on this kind of panel and the role has it.
    public func allows(_ url: PanelURL) -> Bool {
        guard let permission = url.permission(on: site.kind) else { return access.role != nil }
        return permission.siteKinds.contains(site.kind) && allows(permission)
    }

    /// The shop's partner does not let its shops rebrand.
    var brandingLocked: Bool { tenant?.partnerBranding.allowTenantBranding == false }

    /// An audit entry by this user, in this panel's tenant or partner.
    func audit(_ action: String, target: String = "", details: [String: String] = [:]) -> AuditEntry {
        var details = details
        var actor = user.user.email
        if let impersonator = user.impersonator {
            // A support sign-in is written down as what it is: the staff member, acting as the shop's person.
            actor = impersonator.email + " → " + user.user.email
            details["support"] = impersonator.reason
        }
        return AuditEntry(
            actorID: user.user.id, actorEmail: actor, partnerID: partner?.id ?? tenant?.partnerID, tenantID: tenant?.id,
            action: action, target: target, details: details, address: address)
    }
}

extension Permission {
    /// The kinds of panel a permission means something on; elsewhere its routes answer 404.
    var siteKinds: Set<SiteKind> {
        switch self {
        case .viewDashboard, .viewArticles, .editArticles, .viewTeam, .manageTeam, .grantOwner: [.tenant]
        case .viewBot, .editBotKnowledge, .editBot: [.tenant]
        case .viewInbox, .answerInbox, .manageInbox: [.tenant]
        case .viewAudit, .editBranding: [.tenant, .partner, .platform]
        case .manageDomains, .manageAPIKeys: [.tenant, .partner]
        case .viewTenants, .openTenantPanel, .createTenant, .changeTenantStatus: [.partner, .platform]
        case .manageModel: [.partner]
        case .viewPartners, .viewOutbox, .manageJobs: [.platform]
        }
    }
}

/// Which kind of site a host is.
public enum SiteKind: Sendable {
    case platform, partner, tenant
}

extension Site {
    var kind: SiteKind {
        switch self {
        case .platform: .platform
        case .partner: .partner
        case .tenant: .tenant
        }
    }
}

/// A request on a signed-in panel page. Built once per request from what `SessionMiddleware` found: a visitor who is
/// not signed in is sent to the sign-in page, one without a role on this site gets 403, before any handler runs.
public struct PanelRequestContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let panel: Panel
    /// The submitted form of a POST, its CSRF field already checked.
    public let form: FormData
    public let nonce: String
    public let isSecure: Bool
    /// The host and port as the browser wrote them.
    let authority: String
    /// The session cookie's token as the browser sent it.
    let sessionToken: String?

    public init(context: AppRequestContext) throws {
        guard let site = context.site, let identity = context.identity else {
            let next = context.path == PanelURL.home.path ? [] : [("next", context.path)]
            throw RedirectError(to: PanelURL.login.path(query: next))
        }
        let access = Access(roles: identity.roles, site: site)
        guard access.role != nil else { throw RefusalError(.forbidden, messageKey: "error_no_access") }
        coreContext = context.coreContext
        panel = Panel(
            site: site, user: identity, access: access, host: context.host, address: context.clientAddress,
            language: context.panelLanguage)
        form = context.form
        nonce = context.nonce
        isSecure = context.isSecure
        authority = context.authority
        sessionToken = context.sessionToken
    }

    /// Refuses a page the user may not open here: 404 when it means nothing on this kind of panel, else 403 (with
    /// its own message when the agency keeps a shop's branding).
    func require(_ url: PanelURL) throws {
        guard let permission = url.permission(on: panel.site.kind) else { return }
        guard permission.siteKinds.contains(panel.site.kind) else { throw HTTPError(.notFound) }
        guard panel.allows(permission) else {
            let locked = permission == .editBranding && panel.brandingLocked && panel.access.allows(permission)
            throw RefusalError(.forbidden, messageKey: locked ? "brand_locked" : "error_not_allowed")
        }
    }

    /// The scheme and host the browser used, for links in e-mails (the port kept for development). Built from the
    /// host the directory resolved, never from an unchecked header, so a forged Host cannot redirect a reset link.
    func origin(host other: String? = nil) -> String {
        Origin(isSecure: isSecure, authority: authority).url(host: other ?? panel.host)
    }
}

/// The scheme and port a request came in on, for absolute links to this or another host of the installation.
struct Origin {
    let isSecure: Bool
    let authority: String

    func url(host: String) -> String { (isSecure ? "https://" : "http://") + host + port }

    /// The port the browser addressed, with its colon (empty for the scheme's default).
    var port: String {
        guard let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]"), authority[colon...].count > 1 else { return "" }
        let digits = authority[authority.index(after: colon)...]
        guard digits.allSatisfy(\.isNumber), digits != "80", digits != "443" else { return "" }
        return ":" + digits
    }
}

extension AppRequestContext {
    /// The panel's language: the user's choice, else the browser's, else the site's default.
    var panelLanguage: String {
        if let chosen = identity?.user.language { return chosen }
        if let browser = Localizer.language(fromAcceptLanguage: acceptLanguage) { return browser }
        return site?.branding.defaultLanguage ?? Localizer.fallback
    }

    /// The scheme and host the browser used (see `PanelRequestContext.origin`).
    func origin(host other: String? = nil) -> String {
        Origin(isSecure: isSecure, authority: authority).url(host: other ?? host)
    }
}

/// Panel routes registered from `PanelURL`: each checks its page's permission before its handler runs.
struct PanelRoutes {
    let group: RouterGroup<PanelRequestContext>

    typealias Handler<Output: ResponseGenerator> = @Sendable (Request, PanelRequestContext) async throws -> Output

    func get(_ url: PanelURL, use handler: @escaping Handler<some ResponseGenerator>) {
        group.get(url.pattern, use: guarded(url, handler))
    }

    func post(_ url: PanelURL, use handler: @escaping Handler<some ResponseGenerator>) {
        group.post(url.pattern, use: guarded(url, handler))
    }

    private func guarded<Output: ResponseGenerator>(_ url: PanelURL, _ handler: @escaping Handler<Output>) -> Handler<Output> {
        { request, context in
            try context.require(url)
            return try await handler(request, context)
        }
    }
}

/// The pages before sign-in (sign in, forgotten password, invitations, hand-off), registered from `PanelURL`.
struct PublicPanelRoutes {
    let group: RouterGroup<AppRequestContext>

    func get(_ url: PanelURL, use handler: @escaping @Sendable (Request, AppRequestContext) async throws -> some ResponseGenerator) {
        group.get(url.pattern, use: handler)
    }

    func post(_ url: PanelURL, use handler: @escaping @Sendable (Request, AppRequestContext) async throws -> some ResponseGenerator) {
        group.post(url.pattern, use: handler)
    }
}

/// The panel's scripts (`Public/static/js/`), addressed with their content's hash (`?v=`) as the stylesheet is, so a
/// browser may keep them for a year and still gets a changed one at once. Pages load them with `<script src>`: the
/// panel's CSP allows no inline script.
public struct PanelScripts: Sendable {
    /// The inbox's live updates, waiting clocks, presence, typing notices and template picker.
    public let inbox: String
    /// Copy buttons beside read-only fields.
    public let copy: String

    public init(publicFolder: String) {
        func url(_ name: String) -> String {
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: publicFolder + "/static/js/" + name))) ?? Data()
            return "/static/js/" + name + "?v=" + String(bytes.hashValueHex.prefix(10))
        }
        inbox = url("inbox.js")
        copy = url("copy.js")
    }
}
