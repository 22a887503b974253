import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import Synchronization
import Testing

@testable import App

@Suite("Metrics and logs")
struct MetricsTests {
    @Test func metricsAreHiddenWithoutTheTokenAndInPrometheusFormatWithIt() async throws {
        try await TestEnvironment.with { env in
            try await env.makeTenant("acme", articles: markedArticles(tenant: "acme", count: 2))
            try await env.services.jobs.enqueue(TestJob(number: 1))
            try await env.withApp { client throws in
                #expect(try await client.get("/metrics", host: "vitrina.test").status == .notFound)
            }
            let token = "metrics-token-0123456789"
            try await env.withApp(configure: { $0.metricsToken = token }) { client throws in
                #expect(try await client.get("/help", host: "acme.vitrina.test").status == .ok)
                #expect(try await client.get("/metrics", host: "vitrina.test").status == .notFound)
                let wrong = try await client.get("/metrics", host: "vitrina.test", headers: [.authorization: "Bearer nope-nope-nope-nope"])
                #expect(wrong.status == .notFound)
                let response = try await client.get("/metrics", host: "203.0.113.9", headers: [.authorization: "Bearer \(token)"])
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                let text = response.text
                let lines = text.split(separator: "\n")
                func line(_ prefix: String, _ parts: String...) -> Bool {
                    lines.contains { line in line.hasPrefix(prefix) && parts.allSatisfy { line.contains($0) } }
                }
                // Requests by route pattern and status, with a latency histogram. (Every app in the test process shares
                // one registry, so only what this test alone records is checked by value.)
                #expect(line("vitrina_http_requests_total{", #"route="/help""#, #"status="200""#))
                #expect(line("vitrina_http_request_duration_seconds_bucket{", #"route="/help""#, "le="))
                // The pool, the queue, the directory.
                #expect(line("vitrina_db_pool_size "))
                #expect(line("vitrina_db_lease_wait_seconds_count"))
                #expect(line("vitrina_db_connections_leased"))
                #expect(line("vitrina_jobs_queued{", #"kind="test.job""#))
                #expect(line("vitrina_jobs_lag_seconds{", #"kind="test.job""#))
                #expect(line("vitrina_directory_reloads_total"))
                #expect(line("vitrina_directory_tenants"))
            }
        }
    }

    @Test func jsonLogLinesCarryTheRequestAndTheTenant() async throws {
        let lines = Lines()
        var json = Logger(label: "vitrina") { label in JSONLogHandler(label: label) { line in lines.append(line) } }
        json.logLevel = .trace
        let logger = json
        try await TestEnvironment.with { env in
            let acme = try await env.makeTenant("acme", articles: markedArticles(tenant: "acme", count: 1))
            try await env.withApp(logger: logger) { client throws in
                #expect(try await client.get("/help", host: "acme.vitrina.test").status == .ok)
            }
            let objects = lines.all.compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            let door = objects.first { $0["message"] as? String == "Tenant door opened" }
            #expect(door?["tenant_id"] as? String == acme.id.uuidString.lowercased())
            #expect((door?["hb.request.id"] as? String)?.isEmpty == false)
            #expect(door?["level"] as? String == "trace" && door?["time"] is String)
        }
    }
}

/// Lines a log handler wrote.
final class Lines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}
