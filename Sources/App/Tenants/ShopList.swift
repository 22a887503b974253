import Foundation
import Hummingbird
import PostgresNIO

/// The console of shops, the home page of an agency's and the platform's panels: each shop with its status, articles,
/// plan and seats, and what the user may do with it; the agency's plans; on the platform, the agencies.
public struct ShopList: Sendable {
    let database: Database
    let plans: PlanStore
    let directory: TenantDirectory
    let panels: PanelRenderer

    public init(database: Database, plans: PlanStore, directory: TenantDirectory, panels: PanelRenderer) {
        self.database = database
        self.plans = plans
        self.directory = directory
        self.panels = panels
    }

    /// A shop's line as the console reads it.
    struct Line: RowDecodable {
        let slug: String
        let name: String
        let partner: String
        let status: String
        let articles: Int
        let created: Date
        let total: Int
        let planID: UUID?
        let planName: String?
        let maxSeats: Int?
        let seatsUsed: Int

        init(row: PostgresRow) throws {
            (slug, name, partner, status, articles, created, total, planID, planName, maxSeats, seatsUsed) = try row.decode(
                (String, String, String, String, Int, Date, Int, UUID?, String?, Int?, Int).self)
        }
    }

    struct RowURLs {
        let plan: String
        let open: String
        let support: String
        let suspend: String
        let delete: String
        let resume: String

        init(_ slug: String) {
            plan = PanelURL.tenantPlan(slug).path
            open = PanelURL.openTenant(slug).path
            support = PanelURL.supportTenant(slug).path
            suspend = PanelURL.suspendTenant(slug).path
            delete = PanelURL.deleteTenant(slug).path
            resume = PanelURL.resumeTenant(slug).path
        }
    }

    struct TenantRow {
        let slug: String
        let name: String
        let partner: String
        let status: String
        let statusClass: String
        let articles: String
        let plan: String
        /// Seats in use (members and pending invitations) over the plan's, e.g. "3 / 5".
        let seats: String
        let seatsFull: Bool
        /// The partner's plans to switch to (partner panel only).
        let planOptions: [SelectOption]
        let canChangePlan: Bool
        let host: String
        let created: String
        let canOpen: Bool
        let canSuspend: Bool
        let canResume: Bool
        let canDelete: Bool
        let urls: RowURLs
    }

    struct PartnerRow {
        let slug: String
        let name: String
        let tenants: String
        let host: String
    }

    struct PlanRow {
        let name: String
        let bots: String
        let messages: String
        let seats: String
        let llm: String
        let shops: String
    }

    struct TenantsPage {
        let plans: [PlanRow]
        let showPlans: Bool
        let rows: [TenantRow]
        let empty: Bool
        let partners: [PartnerRow]
        let showPartners: Bool
        let showPartnerColumn: Bool
        let summary: String
        let pager: Pager
        let canCreate: Bool
        let newURL = PanelURL.newTenant.path
    }

    func page(request: Request, context: PanelRequestContext) async throws -> HTMLPage {
        let panel = context.panel
        let language = panel.language
        let t = panels.texts(context)
        let partnerID = panel.partner?.id
        let pageNumber = Pager.requested(request)
        let perPage = 50
        let lines = try await database.all(
            Line.self,
            """
            SELECT t.slug, t.name, coalesce(p.name, ''), t.status, coalesce(s.articles, 0),
                t.created_at, count(*) OVER ()::int,
                pl.id, pl.name, pl.max_seats,
                platform.seats_used(t.id)
            FROM platform.tenants t
            LEFT JOIN platform.partners p ON p.id = t.partner_id
            LEFT JOIN platform.tenant_stats s ON s.tenant_id = t.id
            LEFT JOIN platform.plans pl ON pl.id = t.plan_id
            WHERE t.status <> 'purged' AND (\(partnerID)::uuid IS NULL OR t.partner_id = \(partnerID))
            ORDER BY t.name, t.slug LIMIT \(perPage) OFFSET \((pageNumber - 1) * perPage)
            """)
        let snapshot = directory.snapshot
        let offers = partnerID == nil ? [] : try await plans.all(partnerID: partnerID)
        let total = lines.first?.total ?? 0
        var shopsPerPlan: [UUID: Int] = [:]
        let rows = lines.map { line -> TenantRow in
            if let planID = line.planID { shopsPerPlan[planID, default: 0] += 1 }
            let status = line.status
            let seats =
                NumberText.format(line.seatsUsed, language: language) + " / "
                + (line.maxSeats.map { NumberText.format($0, language: language) } ?? "∞")
            return TenantRow(
                slug: line.slug, name: line.name, partner: line.partner, status: t["status_" + status] ?? status, statusClass: status,
                articles: NumberText.format(line.articles, language: language),
                plan: line.planName ?? (t["tenants_plan_none"] ?? ""), seats: seats,
                seatsFull: line.maxSeats.map { line.seatsUsed >= $0 } ?? false,
                planOptions: [SelectOption(value: "", label: t["tenants_plan_none"] ?? "", selected: line.planID == nil)]
                    + offers.map { SelectOption(value: $0.id.uuidString.lowercased(), label: $0.name, selected: $0.id == line.planID) },
                canChangePlan: !offers.isEmpty && status != "deleted" && panel.allows(.changeTenantStatus),
                host: snapshot.tenantsBySlug[line.slug].map(snapshot.primaryHost(of:)) ?? "",
                created: DateText.long(line.created, language: language),
                canOpen: status == "active" && panel.allows(.openTenantPanel),
                canSuspend: status == "active" && panel.allows(.changeTenantStatus),
                canResume: (status == "suspended" || status == "deleted") && panel.allows(.changeTenantStatus),
                canDelete: status == "suspended" && panel.allows(.changeTenantStatus), urls: RowURLs(line.slug))
        }
        var partners: [PartnerRow] = []
        if panel.allows(.viewPartners) {
            let counts = Dictionary(grouping: snapshot.tenantsBySlug.values.filter { $0.status != .purged }, by: \.partnerID).mapValues(
                \.count)
            partners = snapshot.partnersBySlug.values.sorted { $0.name < $1.name }.map {
                PartnerRow(
                    slug: $0.slug, name: $0.name, tenants: NumberText.format(counts[$0.id] ?? 0, language: language),
                    host: $0.domains.first ?? "")
            }
        }
        func limit(_ value: Int?) -> String {
            value.map { NumberText.format($0, language: language) } ?? (t["plans_unlimited"] ?? "∞")
        }
        let planRows = offers.map {
            PlanRow(
                name: $0.name, bots: limit($0.maxBots), messages: limit($0.maxMessagesPerMonth), seats: limit($0.maxSeats),
                llm: limit($0.llmTokensPerMonth), shops: NumberText.format(shopsPerPlan[$0.id] ?? 0, language: language))
        }
        let page = TenantsPage(
            plans: planRows, showPlans: !planRows.isEmpty,
            rows: rows, empty: rows.isEmpty, partners: partners, showPartners: !partners.isEmpty,
            showPartnerColumn: partnerID == nil,
            summary: (t["tenants_count"] ?? "%n").replacingOccurrences(of: "%n", with: NumberText.format(total, language: language)),
            pager: Pager(page: pageNumber, perPage: perPage, total: total, language: language, t: t) {
                PanelURL.home.path(query: [("page", "\($0)")])
            },
            canCreate: panel.allows(.createTenant))
        let title = partnerID == nil ? (t["nav_overview"] ?? "") : (t["nav_clients"] ?? "")
        var html = panels.page("pages/tenants/list", page, context: context, title: title, current: .home)
        // "Open the panel" posts here and is redirected to the tenant's own host.
        html.formActionOrigins = Array(Set(rows.filter(\.canOpen).map { context.origin(host: $0.host) })).sorted()
        return html
    }
}
