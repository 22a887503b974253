import Foundation
import Hummingbird

/// The platform panel's Jobs page: the queue by kind (waiting, running, failed, how late the oldest is) and every job
/// that failed for good, with its error and a button that puts it back in the queue.
public struct JobsController: Sendable {
    let queue: JobQueue
    let sessions: SessionStore
    let auditLog: AuditLog
    let panels: PanelRenderer

    public init(queue: JobQueue, sessions: SessionStore, auditLog: AuditLog, panels: PanelRenderer) {
        self.queue = queue
        self.sessions = sessions
        self.auditLog = auditLog
        self.panels = panels
    }

    func addRoutes(to routes: PanelRoutes) {
        routes.get(.jobs, use: list)
        routes.post(.jobRetry(), use: retry)
    }

    struct DepthRow {
        let kind: String
        let queued: String
        let running: String
        let failed: String
        let lag: String
    }

    struct FailedRow {
        let id: Int
        let kind: String
        let shop: String
        let error: String
        let attempts: String
        let failed: String
        let retryURL: String
    }

    struct JobsPage {
        let depth: [DepthRow]
        let hasDepth: Bool
        let rows: [FailedRow]
        let empty: Bool
        /// Only when there is something to page through.
        let pager: Pager?
    }

    @Sendable func list(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let language = context.panel.language
        let t = panels.texts(context)
        let pageNumber = Pager.requested(request)
        async let depth = queue.depth()
        async let failed = queue.failed(page: pageNumber)
        let number = { (value: Int) in NumberText.format(value, language: language) }
        let depthRows = try await depth.map {
            DepthRow(
                kind: $0.kind, queued: number($0.queued), running: number($0.running), failed: number($0.failed),
                lag: $0.lagSeconds < 1 ? "—" : Self.duration($0.lagSeconds, t: t, language: language))
        }
        let (jobs, total) = try await failed
        let rows = jobs.map {
            FailedRow(
                id: $0.id, kind: $0.kind, shop: $0.tenantSlug ?? (t["jobs_platform"] ?? ""), error: $0.lastError ?? "",
                attempts: number($0.attempts), failed: $0.finishedAt.map { DateText.dateTime($0, language: language) } ?? "",
                retryURL: PanelURL.jobRetry($0.id).path)
        }
        let page = JobsPage(
            depth: depthRows, hasDepth: !depthRows.isEmpty, rows: rows, empty: rows.isEmpty,
            pager: total == 0
                ? nil
                : Pager(page: pageNumber, perPage: 50, total: total, language: language, t: t) {
                    PanelURL.jobs.path(query: [("page", "\($0)")])
                })
        return panels.page("pages/jobs/list", page, context: context, title: t["nav_jobs"] ?? "", current: .jobs)
    }

    /// Puts a failed job back in the queue, attempts reset; audited.
    @Sendable func retry(request: Request, context: PanelRequestContext) async throws -> Response {
        guard let id = context.parameters.get("id").flatMap(Int.init) else { throw HTTPError(.notFound) }
        let audit = context.panel.audit("job.retried", target: "#\(id)")
        let kind = try await queue.database.transaction(logger: context.logger) { transaction -> String? in
            guard let kind = try await queue.retryFailed(id: id, on: transaction) else { return nil }
            var entry = audit
            entry.details = ["kind": kind]
            try await auditLog.record(entry, on: transaction)
            return kind
        }
        guard let kind else { throw HTTPError(.notFound) }
        let text = (panels.texts(context)["jobs_retried"] ?? "").replacingOccurrences(of: "%id", with: "\(id)")
            .replacingOccurrences(of: "%kind", with: kind)
        try await sessions.setFlash(Flash(.success, text), sessionID: context.panel.user.sessionID)
        return .redirect(to: PanelURL.jobs.path, type: .normal)
    }

    /// "45 s", "12 min", "3 h".
    static func duration(_ seconds: Double, t: [String: String], language: String) -> String {
        if seconds < 120 { return (t["time_seconds"] ?? "%n s").replacingOccurrences(of: "%n", with: "\(Int(seconds))") }
        if seconds < 7200 { return (t["time_minutes"] ?? "%n min").replacingOccurrences(of: "%n", with: "\(Int(seconds / 60))") }
        return NumberText.format(Int(seconds / 3600), language: language) + (language == "en" ? " h" : " ч")
    }
}
