import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

@Suite("API: shops' custom domains")
struct APIDomainTests {
    @Test func anAddedDomainStartsUnverifiedAndDoesNotRouteUntilVerified() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner("north")
            try await env.makeTenant(
                "nshop", partner: "north", domains: ["shop.nshop.example"], articles: markedArticles(tenant: "nshop", count: 1))
            try await env.makeTenant("other", partner: "north")
            let key = try await env.partnerKey("north")
            try await env.withApp { client throws in
                let api = APIClient(client, token: key)
                let added = try await api.call(.post, "/api/v1/tenants/nshop/domains", json: #"{"host": "Help.NShop.Example."}"#)
                #expect(added.status == .created)
                #expect(added.object["host"] as? String == "help.nshop.example" && added.object["verified"] as? Bool == false)
                #expect((added.object["verification_token"] as? String)?.count == 43)
                #expect(added.headers[.location] == "/api/v1/tenants/nshop/domains/help.nshop.example")
                let records = try #require(added.object["records"] as? [[String: Any]])
                #expect(records.compactMap { $0["name"] as? String } == ["help.nshop.example", "_domain-challenge.help.nshop.example"])
                #expect(records.last?["value"] as? String == added.object["verification_token"] as? String)
                // "Check now" through the API: nothing is published, so it stays unverified and says what it found.
                let checked = try await api.call(.post, "/api/v1/tenants/nshop/domains/help.nshop.example/verify")
                #expect(checked.status == .ok && checked.object["verified"] as? Bool == false)
                #expect((checked.object["check_result"] as? String)?.contains("http=failed") == true)
                #expect(
                    try await api.call(.post, "/api/v1/tenants/other/domains/help.nshop.example/verify").isProblem("not-found", .notFound))
                let list = try await api.get("/api/v1/tenants/nshop/domains?limit=1")
                #expect(list.items.compactMap { $0["host"] as? String } == ["help.nshop.example"])
                let next = try #require(list.object["next_cursor"] as? String)
                let rest = try await api.get("/api/v1/tenants/nshop/domains?limit=1&cursor=" + next)
                #expect(rest.items.first?["verified"] as? Bool == true && rest.object["next_cursor"] is NSNull)
                // Not routed while unverified: the host is unknown.
                #expect(try await client.get("/help", host: "help.nshop.example").status == .notFound)
                #expect(try await client.get("/help", host: "shop.nshop.example").text.contains("[nshop#1]"))

                // Malformed is a 422; a host the shop or the installation already has is a 409 (taken).
                for (body, status) in [
                    (#"{"host": "not a host"}"#, HTTPResponse.Status.unprocessableContent), (#"{"host": "shop.nshop.example"}"#, .conflict),
                    (#"{"host": "other.vitrina.test"}"#, .conflict), (#"{}"#, .unprocessableContent),
                ] {
                    let refused = try await api.call(.post, "/api/v1/tenants/nshop/domains", json: body)
                    #expect(
                        refused.isProblem(status == .conflict ? "conflict" : "validation", status) && refused.problemFields == ["host"],
                        "\(body)")
                }
                // Another shop's domain cannot be removed through this one.
                #expect(try await api.call(.delete, "/api/v1/tenants/other/domains/shop.nshop.example").isProblem("not-found", .notFound))
                #expect(try await api.call(.delete, "/api/v1/tenants/nshop/domains/shop.nshop.example").status == .noContent)
                let gone = try await client.get("/help", host: "shop.nshop.example")
                #expect(gone.status == .notFound, "\(gone.status) \(gone.headers)")
                #expect(try await api.call(.delete, "/api/v1/tenants/nshop/domains/shop.nshop.example").isProblem("not-found", .notFound))
                #expect(
                    try await env.scalar("SELECT count(*)::int FROM platform.audit_log WHERE action LIKE 'domain.%'", as: Int.self) == 2)
                #expect(
                    try await env.scalar(
                        "SELECT coalesce(verified_by, '-') FROM platform.domains WHERE host = 'help.nshop.example'", as: String.self)
                        == "-")
            }
        }
    }
}
