import Foundation
import Hummingbird

/// API keys in the partner's and the shop's panels: the list (name, prefix, scopes, created, last used, revoked),
/// a new key (its secret shown once, on the answer to the form, never stored or sent again) and revocation.
public struct APIKeysController: Sendable {
    let identity: IdentityServices
    let panels: PanelRenderer
    let keys: APIKeyStore

    public init(identity: IdentityServices, panels: PanelRenderer, keys: APIKeyStore) {
        self.identity = identity
        self.panels = panels
        self.keys = keys
    }

    public func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("api-keys", use: show)
        group.post("api-keys", use: create)
        group.post("api-keys/:id/revoke", use: revoke)
    }

    struct KeyRow {
        let id: String
        let name: String
        let prefix: String
        let scopes: String
        let created: String
        let createdBy: String?
        let lastUsed: String
        let revoked: String?
        let active: Bool
    }

    struct ScopeOption {
        let field: String
        let value: String
        let label: String
        let checked: Bool
    }

    struct APIKeysPage {
        var rows: [KeyRow] = []
        var empty = true
        var scopes: [ScopeOption] = []
        var name = ""
        var errors: [String: String] = [:]
        var showErrors = false
        /// The new key's token, on the answer to the form only.
        var newToken: String?
        var newName: String?
    }

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> HTMLPage {
        let panel = try context.panel(.manageAPIKeys, request: request)
        return try await render(APIKeysPage(), chosen: [], panel: panel, request: request, context: context)
    }

    @Sendable func create(request: Request, context: AppRequestContext) async throws -> Response {
        let panel = try context.panel(.manageAPIKeys, request: request)
        let owner = try Self.owner(panel)
        var page = APIKeysPage(name: context.form.text("name"))
        let chosen = APIScope.available(for: owner).filter { context.form[Self.field($0)] == "on" }
        if page.name.isEmpty {
            page.errors["name"] = "form_required"
        } else if page.name.databaseLength > 100 {
            page.errors["name"] = "form_too_long"
        }
        if chosen.isEmpty { page.errors["scopes"] = "api_keys_scope_required" }
        guard page.errors.isEmpty else {
            return try await render(page, chosen: chosen, panel: panel, request: request, context: context, status: .unprocessableContent)
                .response(from: request, context: context)
        }
        let (_, token) = try await keys.create(
            owner: owner, name: page.name, scopes: chosen, createdBy: panel.user.impersonator == nil ? panel.user.user.id : nil,
            audit: panel.audit("api_key.created", target: page.name))
        page.newToken = token
        page.newName = page.name
        page.name = ""
        var response = try await render(page, chosen: [], panel: panel, request: request, context: context)
            .response(from: request, context: context)
        // The secret is on this page only: no copy in any cache.
        response.headers[.cacheControl] = "no-store"
        return response
    }

    @Sendable func revoke(request: Request, context: AppRequestContext) async throws -> Response {
        let panel = try context.panel(.manageAPIKeys, request: request)
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)),
            let revoked = try await keys.revoke(id: id, owner: try Self.owner(panel), audit: panel.audit("api_key.revoked"))
        else { throw HTTPError(.notFound) }
        let t = panels.localizer.catalog(context.language(request: request))
        try await identity.sessions.setFlash(
            Flash(.success, (t["api_keys_revoked_flash"] ?? "").replacingOccurrences(of: "%name", with: revoked.name)),
            sessionID: panel.user.sessionID)
        return .redirect(to: "/admin/api-keys", type: .normal)
    }

    private func render(
        _ page: APIKeysPage, chosen: [APIScope], panel: Panel, request: Request, context: AppRequestContext,
        status: HTTPResponse.Status = .ok
    ) async throws -> HTMLPage {
        let language = context.language(request: request)
        let t = panels.localizer.catalog(language)
        let owner = try Self.owner(panel)
        var page = page
        page.errors = page.errors.mapValues { t[$0] ?? $0 }
        page.showErrors = !page.errors.isEmpty
        page.scopes = APIScope.available(for: owner).map {
            ScopeOption(field: Self.field($0), value: $0.rawValue, label: t[Self.textKey($0)] ?? $0.rawValue, checked: chosen.contains($0))
        }
        page.rows = try await keys.list(owner: owner).map { key in
            KeyRow(
                id: key.id.uuidString.lowercased(), name: key.name, prefix: key.prefix, scopes: key.scopes.joined(separator: ", "),
                created: DateText.dateTime(key.createdAt, language: language), createdBy: key.createdBy,
                lastUsed: key.lastUsedAt.map { DateText.dateTime($0, language: language) } ?? (t["api_keys_never"] ?? ""),
                revoked: key.revokedAt.map { DateText.dateTime($0, language: language) }, active: key.revokedAt == nil)
        }
        page.empty = page.rows.isEmpty
        return panels.page(
            "pages/admin/api-keys", page, panel: panel, context: context, request: request, title: t["nav_api_keys"] ?? "",
            section: "api-keys", status: status)
    }

    /// Whose keys this panel manages: the partner's on its panel, the shop's on the shop's.
    static func owner(_ panel: Panel) throws -> APIKeyOwner {
        switch panel.site {
        case .partner(let partner): .partner(partner.id)
        case .tenant(let tenant): .tenant(tenant.id)
        case .platform: throw HTTPError(.notFound)
        }
    }

    /// A scope's checkbox (one field per scope: a repeated field would keep only its last value).
    static func field(_ scope: APIScope) -> String { "scope_" + scope.rawValue.replacingOccurrences(of: ":", with: "_") }

    static func textKey(_ scope: APIScope) -> String { field(scope) }
}
