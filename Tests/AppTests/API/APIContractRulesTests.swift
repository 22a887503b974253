import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

/// The rules the OpenAPI document states and schemathesis found the server breaking (issue 14): a `null` is refused
/// where it means nothing, an unknown field is refused, conflicts are 409, a deleted shop refuses changes, lengths are
/// counted as sent, a slug left out is always made.
@Suite("API: the contract's rules")
struct APIContractRulesTests {
    @Test func nullsAndUnknownFieldsAreRefusedWhereTheyMeanNothing() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner("north")
            try await env.makeTenant("nshop", partner: "north")
            let key = try await env.partnerKey("north")
            try await env.withApp { client throws in
                let api = APIClient(client, token: key)
                // `name: null` would otherwise have been taken as "left out": the rename the client meant never happened.
                let null = try await api.call(.patch, "/api/v1/tenants/nshop", json: #"{"name": null}"#)
                #expect(null.isProblem("validation", .unprocessableContent) && null.problemFields == ["name"])
                // Where the document says what null means, it is taken: the cap is cleared.
                #expect(try await api.call(.patch, "/api/v1/tenants/nshop", json: #"{"llm_token_cap": null}"#).status == .ok)
                let unknown = try await api.call(.patch, "/api/v1/tenants/nshop", json: #"{"name": "N", "nmae": "typo"}"#)
                #expect(unknown.isProblem("validation", .unprocessableContent) && unknown.problemFields == ["nmae"])
                // A null inside an unknown field is reported as the unknown field, once.
                let nested = try await api.call(
                    .post, "/api/v1/tenants/nshop/members", json: #"{"email": "a@b.example", "role": "viewer", "x": {"y": null}}"#)
                #expect(nested.problemFields == ["x"])
            }
        }
    }

    @Test func aDeletedShopRefusesChangesButComesBackWithResume() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner("north")
            try await env.makeTenant("nshop", partner: "north")
            let key = try await env.partnerKey("north")
            try await env.withApp { client throws in
                let api = APIClient(client, token: key)
                #expect(try await api.call(.delete, "/api/v1/tenants/nshop").status == .noContent)
                for (method, path, body) in [
                    (HTTPRequest.Method.patch, "/api/v1/tenants/nshop", #"{"name": "Renamed"}"#),
                    (.delete, "/api/v1/tenants/nshop", nil), (.post, "/api/v1/tenants/nshop/suspend", nil),
                    (.put, "/api/v1/tenants/nshop/branding", #"{"name": "B"}"#),
                    (.post, "/api/v1/tenants/nshop/domains", #"{"host": "shop.nshop.example"}"#),
                    (.post, "/api/v1/tenants/nshop/members", #"{"email": "a@b.example", "role": "viewer"}"#),
                ] {
                    let refused = try await api.call(method, path, json: body)
                    #expect(refused.isProblem("conflict", .conflict), "\(method) \(path)")
                }
                #expect(try await api.get("/api/v1/tenants/nshop").object["name"] as? String != "Renamed")
                #expect(try await api.call(.post, "/api/v1/tenants/nshop/resume").status == .ok)
                #expect(try await api.call(.patch, "/api/v1/tenants/nshop", json: #"{"name": "Renamed"}"#).status == .ok)
            }
        }
    }

    @Test func slugsLeftOutAreAlwaysMadeAndReservedOnesAreTaken() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner("north")
            let key = try await env.partnerKey("north")
            try await env.withApp { client throws in
                let api = APIClient(client, token: key)
                // A name that transliterates to no valid slug still makes one.
                let odd = try await api.call(.post, "/api/v1/tenants", json: #"{"name": "0", "owner_email": "a@b.example"}"#)
                #expect(odd.status == .created && (odd.object["slug"] as? String).map(Slug.isValid) == true)
                let reserved = try await api.call(
                    .post, "/api/v1/tenants", json: #"{"name": "A", "slug": "admin", "owner_email": "a@b.example"}"#)
                #expect(reserved.isProblem("conflict", .conflict) && reserved.problemFields == ["slug"])
                let empty = try await api.call(.post, "/api/v1/tenants", json: #"{"name": "A", "slug": "", "owner_email": "a@b.example"}"#)
                #expect(empty.isProblem("validation", .unprocessableContent) && empty.problemFields == ["slug"])
            }
        }
    }

    @Test func lengthsAreCountedAsSentAndBlankSynonymsAreRefused() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner("north")
            try await env.makeTenant("nshop", partner: "north")
            let key = try await env.tenantKey("nshop")
            try await env.withApp { client throws in
                let api = APIClient(client, token: key)
                // 301 characters of which one is a space that trimming would remove: still too long, as the document says.
                let phrasing = " " + String(repeating: "a", count: 300)
                let long = try await api.call(
                    .post, "/api/v1/faq", json: #"{"question": "Q?", "answer": "A.", "phrasings": ["\#(phrasing)"]}"#)
                #expect(long.isProblem("validation", .unprocessableContent) && long.problemFields == ["phrasings"])
                let blank = try await api.call(.put, "/api/v1/synonyms", json: #"{"synonyms": [{"word": " ", "means": "чай"}]}"#)
                #expect(blank.isProblem("validation", .unprocessableContent) && blank.problemFields == ["synonyms.0.word"])
                let emptyState = try await api.call(.get, "/api/v1/conversations?state=")
                #expect(emptyState.isProblem("invalid-parameter", .badRequest))
            }
        }
    }
}
