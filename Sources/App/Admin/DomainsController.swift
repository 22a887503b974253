import Foundation
import Hummingbird

/// Custom domains in a shop's panel and an agency's: add a domain, see the DNS records to create, check now (the
/// server also checks every few minutes), make a verified domain primary (the other addresses redirect to it), remove.
public struct DomainsController: Sendable {
    let identity: IdentityServices
    let panels: PanelRenderer
    let domains: DomainStore
    let directory: TenantDirectory
    let cnameTarget: String

    public init(identity: IdentityServices, panels: PanelRenderer, domains: DomainStore, directory: TenantDirectory, cnameTarget: String) {
        self.identity = identity
        self.panels = panels
        self.domains = domains
        self.directory = directory
        self.cnameTarget = cnameTarget
    }

    public func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("domains", use: show)
        group.post("domains", use: add)
        group.post("domains/:host/check", use: check)
        group.post("domains/:host/primary", use: primary)
        group.post("domains/:host/remove", use: remove)
    }

    struct DomainRow {
        let host: String
        let statusLabel: String
        let statusClass: String
        let isPrimary: Bool
        let canMakePrimary: Bool
        let canClearPrimary: Bool
        let isPending: Bool
        let checked: String?
        let findings: [String]
        let hasFindings: Bool
        let records: [DNSRecord]
        let httpURL: String?
    }

    struct DomainsPage {
        let rows: [DomainRow]
        let hasDomains: Bool
        let builtInHost: String?
        let builtInRedirects: Bool
        let value: String
        let error: String?
        let target: String
    }

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> HTMLPage {
        let panel = try context.panel(.manageDomains, request: request)
        return try await render(panel, request: request, context: context)
    }

    @Sendable func add(request: Request, context: AppRequestContext) async throws -> Response {
        let panel = try context.panel(.manageDomains, request: request)
        let owner = try Self.owner(panel)
        let typed = context.form.text("domain")
        let outcome = try await identity.client.platformTransaction(logger: identity.logger) { connection in
            let result = try await domains.add(typed, owner: owner, on: connection)
            if case .success(let domain) = result {
                try await AuditLog.record(panel.audit("domain.added", target: domain.host), on: connection, logger: identity.logger)
            }
            return result
        }
        switch outcome {
        case .success(let domain):
            try await flash(panel, context: context, request: request, key: "domains_added", host: domain.host)
            return .redirect(to: "/admin/domains#\(domain.host)", type: .normal)
        case .failure(let error):
            let t = panels.localizer.catalog(context.language(request: request))
            return try await render(
                panel, request: request, context: context, value: typed, error: t[error.rawValue] ?? error.rawValue,
                status: error == .limit ? .conflict : .unprocessableContent
            ).response(from: request, context: context)
        }
    }

    @Sendable func check(request: Request, context: AppRequestContext) async throws -> Response {
        let panel = try context.panel(.manageDomains, request: request)
        let host = context.parameters.get("host") ?? ""
        switch try await domains.verify(host, owner: try Self.owner(panel)) {
        case .failure: throw HTTPError(.notFound)
        case .success(let result):
            if result.verified {
                try await identity.audit(panel.audit("domain.verified", target: host, details: ["by": result.method ?? ""]))
            }
            try await flash(
                panel, context: context, request: request, key: result.verified ? "domains_verified" : "domains_not_yet", host: host)
            return .redirect(to: "/admin/domains#\(host)", type: .normal)
        }
    }

    @Sendable func primary(request: Request, context: AppRequestContext) async throws -> Response {
        let panel = try context.panel(.manageDomains, request: request)
        let host = context.parameters.get("host") ?? ""
        let makePrimary = context.form["primary"] != "0"
        let owner = try Self.owner(panel)
        let result = try await identity.client.platformTransaction(logger: identity.logger) { connection in
            let result = try await domains.setPrimary(host, primary: makePrimary, owner: owner, on: connection)
            if case .success = result {
                try await AuditLog.record(
                    panel.audit(makePrimary ? "domain.primary" : "domain.primary_cleared", target: host), on: connection,
                    logger: identity.logger)
            }
            return result
        }
        switch result {
        case .failure(.notFound): throw HTTPError(.notFound)
        case .failure(let error): throw RefusalError(.conflict, messageKey: error.rawValue)
        case .success:
            try await directory.reload()
            try await flash(
                panel, context: context, request: request, key: makePrimary ? "domains_primary_set" : "domains_primary_cleared", host: host)
            return .redirect(to: "/admin/domains", type: .normal)
        }
    }

    @Sendable func remove(request: Request, context: AppRequestContext) async throws -> Response {
        let panel = try context.panel(.manageDomains, request: request)
        let host = context.parameters.get("host") ?? ""
        // The address this panel is open on: removing it would lock the person out mid-click.
        if host == context.host { throw RefusalError(.conflict, messageKey: "domains_error_current") }
        let owner = try Self.owner(panel)
        let removed = try await identity.client.platformTransaction(logger: identity.logger) { connection in
            let removed = try await domains.remove(host, owner: owner, on: connection)
            if removed { try await AuditLog.record(panel.audit("domain.removed", target: host), on: connection, logger: identity.logger) }
            return removed
        }
        guard removed else { throw HTTPError(.notFound) }
        try await directory.reload()
        try await flash(panel, context: context, request: request, key: "domains_removed", host: host)
        return .redirect(to: "/admin/domains", type: .normal)
    }

    static func owner(_ panel: Panel) throws -> DomainOwner {
        switch panel.site {
        case .tenant(let tenant): .tenant(tenant.id)
        case .partner(let partner): .partner(partner.id)
        case .platform: throw HTTPError(.notFound)
        }
    }

    private func flash(_ panel: Panel, context: AppRequestContext, request: Request, key: String, host: String) async throws {
        let t = panels.localizer.catalog(context.language(request: request))
        let text = (t[key] ?? key).replacingOccurrences(of: "{domain}", with: host)
        try await identity.sessions.setFlash(Flash(.success, text), sessionID: panel.user.sessionID)
    }

    private func render(
        _ panel: Panel, request: Request, context: AppRequestContext, value: String = "", error: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> HTMLPage {
        let language = context.language(request: request)
        let t = panels.localizer.catalog(language)
        let owner = try Self.owner(panel)
        let poweredBy = panel.site.branding.poweredBy ?? false
        let label = DomainChallenge.label(poweredBy: poweredBy)
        let list = try await domains.list(owner)
        let rows = list.map { domain -> DomainRow in
            let status: (String, String)
            if domain.isVerified {
                status = (t["domains_status_verified"] ?? "", "ok")
            } else if domain.checkedAt != nil {
                status = (t["domains_status_failed"] ?? "", "failed")
            } else {
                status = (t["domains_status_pending"] ?? "", "pending")
            }
            let pending = !domain.isVerified
            let token = domain.token ?? ""
            return DomainRow(
                host: domain.host, statusLabel: status.0, statusClass: status.1, isPrimary: domain.isPrimary,
                canMakePrimary: domain.isVerified && !domain.isPrimary, canClearPrimary: domain.isPrimary, isPending: pending,
                checked: domain.checkedAt.map { (t["domains_checked"] ?? "") + " " + DateText.dateTime($0, language: language) },
                findings: pending ? Self.findings(domain.checkResult, target: cnameTarget, t: t) : [],
                hasFindings: pending && domain.checkResult != nil,
                records: domain.records(cnameTarget: cnameTarget, poweredBy: poweredBy),
                httpURL: pending ? "http://\(domain.host)\(DomainChallenge.path(label: label, token: token))" : nil)
        }
        var builtIn: String?
        if case .tenant(let tenant) = panel.site { builtIn = tenant.slug + "." + directory.snapshot.baseDomain }
        let page = DomainsPage(
            rows: rows, hasDomains: !rows.isEmpty, builtInHost: builtIn,
            builtInRedirects: list.contains(where: \.isPrimary), value: value, error: error, target: cnameTarget)
        return panels.page(
            "pages/admin/domains", page, panel: panel, context: context, request: request, title: t["nav_domains"] ?? "",
            section: "domains", status: status)
    }

    /// The last check's findings as sentences.
    static func findings(_ summary: String?, target: String, t: [String: String]) -> [String] {
        guard let summary else { return [] }
        let parts = DomainCheckResult.parts(of: summary)
        return ["txt", "cname", "http"].compactMap { key in
            parts[key].flatMap { t["domains_finding_\(key)_\($0)"] }?.replacingOccurrences(of: "{target}", with: target)
        }
    }
}
