import Foundation
import Hummingbird

/// API keys in the partner's and the shop's panels: the list (name, prefix, scopes, created, last used, revoked),
/// a new key (its secret shown once, on the answer to the form, never stored or sent again) and revocation.
public struct APIKeysController: Sendable {
    let keys: APIKeyStore
    let sessions: SessionStore
    let panels: PanelRenderer

    public init(keys: APIKeyStore, sessions: SessionStore, panels: PanelRenderer) {
        self.keys = keys
        self.sessions = sessions
        self.panels = panels
    }

    func addRoutes(to routes: PanelRoutes) {
        routes.get(.apiKeys, use: show)
        routes.post(.apiKeys, use: create)
        routes.post(.apiKeyRevoke(), use: revoke)
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
        let revokeURL: String
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
        var action = PanelURL.apiKeys.path
    }

    @Sendable func show(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        try await render(APIKeysPage(), chosen: [], context: context)
    }

    @Sendable func create(request: Request, context: PanelRequestContext) async throws -> Response {
        let panel = context.panel
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
            return try await render(page, chosen: chosen, context: context, status: .unprocessableContent).response
        }
        let (_, token) = try await keys.create(
            owner: owner, name: page.name, scopes: chosen, createdBy: panel.user.impersonator == nil ? panel.user.user.id : nil,
            audit: panel.audit("api_key.created", target: page.name))
        page.newToken = token
        page.newName = page.name
        page.name = ""
        var response = try await render(page, chosen: [], context: context).response
        // The secret is on this page only: no copy in any cache.
        response.headers[.cacheControl] = "no-store"
        return response
    }

    @Sendable func revoke(request: Request, context: PanelRequestContext) async throws -> Response {
        let panel = context.panel
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)),
            let revoked = try await keys.revoke(id: id, owner: try Self.owner(panel), audit: panel.audit("api_key.revoked"))
        else { throw HTTPError(.notFound) }
        let t = panels.texts(context)
        try await sessions.setFlash(
            Flash(.success, (t["api_keys_revoked_flash"] ?? "").replacingOccurrences(of: "%name", with: revoked.name)),
            sessionID: panel.user.sessionID)
        return .redirect(to: PanelURL.apiKeys.path, type: .normal)
    }

    private func render(
        _ page: APIKeysPage, chosen: [APIScope], context: PanelRequestContext, status: HTTPResponse.Status = .ok
    ) async throws -> HTMLPage {
        let language = context.panel.language
        let t = panels.texts(context)
        let owner = try Self.owner(context.panel)
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
                revoked: key.revokedAt.map { DateText.dateTime($0, language: language) }, active: key.revokedAt == nil,
                revokeURL: PanelURL.apiKeyRevoke(key.id).path)
        }
        page.empty = page.rows.isEmpty
        return panels.page("pages/api/keys", page, context: context, title: t["nav_api_keys"] ?? "", current: .apiKeys, status: status)
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
