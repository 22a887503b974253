import Foundation
import Hummingbird
import Logging

/// `/healthz` (the process answers) and `/readyz` (the database answers and its migrations are current), as JSON.
public struct HealthController: Sendable {
    let migrator: Migrator

    public init(migrator: Migrator) {
        self.migrator = migrator
    }

    public func addRoutes(to router: Router<AppRequestContext>) {
        router.get(SiteURL.healthz.pattern) { _, _ in JSONBody(["status": "ok"]) }
        router.get(SiteURL.readyz.pattern, use: ready)
    }

    @Sendable func ready(request: Request, context: AppRequestContext) async -> Response {
        do {
            let status = try await migrator.status()
            let current = status.platformPending == 0 && status.tenantsBehind == 0
            let body: [String: String] = [
                "status": current ? "ready" : "migrations_pending",
                "database": "ok",
                "platform_migrations_pending": "\(status.platformPending)",
                "tenants_behind": "\(status.tenantsBehind)",
            ]
            return JSONBody(body).response(status: current ? .ok : .serviceUnavailable)
        } catch {
            context.logger.warning("Readiness check failed", metadata: ["error": "\(databaseMessage(error))"])
            return JSONBody(["status": "unavailable", "database": "unreachable"]).response(status: .serviceUnavailable)
        }
    }
}

/// A small JSON object response.
struct JSONBody: ResponseGenerator {
    let fields: [String: String]

    init(_ fields: [String: String]) {
        self.fields = fields
    }

    func response(status: HTTPResponse.Status) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(fields)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        response(status: .ok)
    }
}
