import Foundation
import Hummingbird

/// Custom domains in a shop's panel and an agency's: add a domain, see the DNS records to create, check now (the
/// server also checks every few minutes), make a verified domain primary (the other addresses redirect to it), remove.
public struct DomainsController: Sendable {
    let domains: DomainStore
    let directory: TenantDirectory
    let sessions: SessionStore
    let auditLog: AuditLog
    let panels: PanelRenderer

    public init(domains: DomainStore, directory: TenantDirectory, sessions: SessionStore, auditLog: AuditLog, panels: PanelRenderer) {
        self.domains = domains
        self.directory = directory
        self.sessions = sessions
        self.auditLog = auditLog
        self.panels = panels
    }

    var cnameTarget: String { domains.cnameTarget }

    func addRoutes(to routes: PanelRoutes) {
        routes.get(.domains, use: show)
        routes.post(.domains, use: add)
        routes.post(.domainCheck(), use: check)
        routes.post(.domainPrimary(), use: primary)
        routes.post(.domainRemove(), use: remove)
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
        let checkURL: String
        let primaryURL: String
        let removeURL: String
    }

    struct DomainsPage {
        let rows: [DomainRow]
        let hasDomains: Bool
        let builtInHost: String?
        let builtInRedirects: Bool
        let value: String
        let error: String?
        let target: String
        let action = PanelURL.domains.path
    }

    @Sendable func show(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        try await render(context: context)
    }

    @Sendable func add(request: Request, context: PanelRequestContext) async throws -> Response {
        let panel = context.panel
        let owner = try Self.owner(panel)
        let typed = context.form.text("domain")
        let outcome = try await domains.database.transaction(logger: context.logger) { transaction in
            let result = try await domains.add(typed, owner: owner, on: transaction)
            if case .success(let domain) = result {
                try await auditLog.record(panel.audit("domain.added", target: domain.host), on: transaction)
            }
            return result
        }
        switch outcome {
        case .success(let domain):
            try await flash(context, key: "domains_added", host: domain.host)
            return .redirect(to: PanelURL.domains.path + "#\(domain.host)", type: .normal)
        case .failure(let error):
            let t = panels.texts(context)
            return try await render(
                context: context, value: typed, error: t[error.rawValue] ?? error.rawValue,
                status: error == .limit ? .conflict : .unprocessableContent
            ).response
        }
    }

    @Sendable func check(request: Request, context: PanelRequestContext) async throws -> Response {
        let panel = context.panel
        let host = context.parameters.get("host") ?? ""
        switch try await domains.verify(host, owner: try Self.owner(panel)) {
        case .failure: throw HTTPError(.notFound)
        case .success(let result):
            if result.verified {
                try await auditLog.record(panel.audit("domain.verified", target: host, details: ["by": result.method ?? ""]))
            }
            try await flash(context, key: result.verified ? "domains_verified" : "domains_not_yet", host: host)
            return .redirect(to: PanelURL.domains.path + "#\(host)", type: .normal)
        }
    }

    @Sendable func primary(request: Request, context: PanelRequestContext) async throws -> Response {
        let panel = context.panel
        let host = context.parameters.get("host") ?? ""
        let makePrimary = context.form["primary"] != "0"
        let owner = try Self.owner(panel)
        let result = try await domains.database.transaction(logger: context.logger) { transaction in
            let result = try await domains.setPrimary(host, primary: makePrimary, owner: owner, on: transaction)
            if case .success = result {
                try await auditLog.record(
                    panel.audit(makePrimary ? "domain.primary" : "domain.primary_cleared", target: host), on: transaction)
            }
            return result
        }
        switch result {
        case .failure(.notFound): throw HTTPError(.notFound)
        case .failure(let error): throw RefusalError(.conflict, messageKey: error.rawValue)
        case .success:
            try await directory.reload()
            try await flash(context, key: makePrimary ? "domains_primary_set" : "domains_primary_cleared", host: host)
            return .redirect(to: PanelURL.domains.path, type: .normal)
        }
    }

    @Sendable func remove(request: Request, context: PanelRequestContext) async throws -> Response {
        let panel = context.panel
        let host = context.parameters.get("host") ?? ""
        // The address this panel is open on: removing it would lock the person out mid-click.
        if host == panel.host { throw RefusalError(.conflict, messageKey: "domains_error_current") }
        let owner = try Self.owner(panel)
        let removed = try await domains.database.transaction(logger: context.logger) { transaction in
            let removed = try await domains.remove(host, owner: owner, on: transaction)
            if removed { try await auditLog.record(panel.audit("domain.removed", target: host), on: transaction) }
            return removed
        }
        guard removed else { throw HTTPError(.notFound) }
        try await directory.reload()
        try await flash(context, key: "domains_removed", host: host)
        return .redirect(to: PanelURL.domains.path, type: .normal)
    }

    static func owner(_ panel: Panel) throws -> DomainOwner {
        switch panel.site {
        case .tenant(let tenant): .tenant(tenant.id)
        case .partner(let partner): .partner(partner.id)
        case .platform: throw HTTPError(.notFound)
        }
    }

    private func flash(_ context: PanelRequestContext, key: String, host: String) async throws {
        let text = (panels.texts(context)[key] ?? key).replacingOccurrences(of: "{domain}", with: host)
        try await sessions.setFlash(Flash(.success, text), sessionID: context.panel.user.sessionID)
    }

    private func render(
        context: PanelRequestContext, value: String = "", error: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> HTMLPage {
        let panel = context.panel
        let language = panel.language
        let t = panels.texts(context)
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
                httpURL: pending ? "http://\(domain.host)\(DomainChallenge.path(label: label, token: token))" : nil,
                checkURL: PanelURL.domainCheck(domain.host).path, primaryURL: PanelURL.domainPrimary(domain.host).path,
                removeURL: PanelURL.domainRemove(domain.host).path)
        }
        var builtIn: String?
        if case .tenant(let tenant) = panel.site { builtIn = tenant.slug + "." + directory.snapshot.baseDomain }
        let page = DomainsPage(
            rows: rows, hasDomains: !rows.isEmpty, builtInHost: builtIn,
            builtInRedirects: list.contains(where: \.isPrimary), value: value, error: error, target: cnameTarget)
        return panels.page("pages/domains/list", page, context: context, title: t["nav_domains"] ?? "", current: .domains, status: status)
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
