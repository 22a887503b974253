import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import App

@Suite("API keys: hashed, scoped, revocable, rate limited")
struct APIKeyTests {
    @Test func tokensHaveAProductFreePrefixAndAShapeCheck() {
        let (prefix, token) = APIKeyToken.make()
        #expect(prefix.hasPrefix("ak_") && prefix.count == 11 && token.hasPrefix(prefix + "_"))
        #expect(APIKeyToken.looksValid(token))
        #expect(!token.lowercased().contains("vitrina"))
        #expect(!APIKeyToken.looksValid(token + "x"))
        #expect(!APIKeyToken.looksValid("ak_ABCDEFGH_" + token.suffix(43)))
        #expect(!APIKeyToken.looksValid(SecretToken.make()))
    }

    @Test func theSecretIsStoredOnlyAsItsHashAndLastUseIsNoted() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner("north")
            let token = try await env.partnerKey("north", scopes: [.tenantsRead])
            let dump = try #require(
                try await env.scalar(
                    "SELECT string_agg(t::text || encode(secret_hash, 'escape'), ' ') FROM platform.api_keys t", as: String.self))
            #expect(!dump.contains(String(token.suffix(43))))
            #expect(!dump.contains(token))
            let hash = try #require(try await env.scalar("SELECT secret_hash FROM platform.api_keys", as: Data.self))
            #expect(hash == Data(SecretToken.hash(token)))
            #expect(try await env.scalar("SELECT last_used_at FROM platform.api_keys", as: Date?.self) == .some(nil))
            try await env.withApp { client throws in
                #expect(try await APIClient(client, token: token).get("/api/v1/tenants").status == .ok)
                let used = try #require(try await env.scalar("SELECT last_used_at FROM platform.api_keys", as: Date?.self) ?? nil)
                #expect(abs(used.timeIntervalSinceNow) < 60)
                // Within the minute a second use does not write again.
                try await env.client.query(
                    "UPDATE platform.api_keys SET last_used_at = now() - interval '30 seconds'", logger: TestDatabase.logger)
                let before = try await env.scalar("SELECT last_used_at FROM platform.api_keys", as: Date.self)
                #expect(try await APIClient(client, token: token).get("/api/v1/tenants").status == .ok)
                #expect(try await env.scalar("SELECT last_used_at FROM platform.api_keys", as: Date.self) == before)
            }
        }
    }

    @Test func noKeyAnUnknownKeyOrARevokedKeyIsUnauthorized() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner("north")
            let token = try await env.partnerKey("north")
            try await env.withApp { client throws in
                let none = try await APIClient(client, token: nil).get("/api/v1/tenants")
                #expect(none.isProblem("unauthorized", .unauthorized))
                #expect(none.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
                let forged = try await APIClient(client, token: APIKeyToken.make().token).get("/api/v1/tenants")
                #expect(forged.isProblem("unauthorized", .unauthorized))
                #expect(forged.headers[.wwwAuthenticate]?.contains("invalid_token") == true)
                #expect(try await APIClient(client, token: "garbage").get("/api/v1/tenants").isProblem("unauthorized", .unauthorized))

                let api = APIClient(client, token: token)
                #expect(try await api.get("/api/v1/tenants").status == .ok)
                let id = try #require(try await env.scalar("SELECT id FROM platform.api_keys", as: UUID.self))
                let store = env.services.apiKeys
                let revoked = try await store.revoke(
                    id: id, owner: .partner(try await env.partnerID("north")),
                    audit: AuditEntry(actorID: nil, actorEmail: nil, action: "api_key.revoked", address: nil))
                #expect(revoked?.prefix == String(token.prefix(11)))
                let after = try await api.get("/api/v1/tenants")
                #expect(after.isProblem("unauthorized", .unauthorized))
                #expect(after.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)

                // Guessing keys: after 30 failures a minute from one address, it waits without a database look-up. (The
                // bucket refills while the requests run, so count until it blocks rather than assume exactly 30.)
                var failures = 0
                var blocked: TestResponse?
                while failures < 200, blocked == nil {
                    let response = try await APIClient(client, token: APIKeyToken.make().token).get("/api/v1/tenants")
                    if response.status == .unauthorized { failures += 1 } else { blocked = response }
                }
                // Three failures above (the forged key, "garbage", the revoked key) already count against the address.
                #expect(failures >= 27 && blocked?.isProblem("rate-limited", .tooManyRequests) == true, "\(failures)")
                #expect(blocked?.headers[.retryAfter] == "60")
            }
        }
    }

    @Test func aKeyWithoutTheScopeIsForbidden() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner("north")
            try await env.makeTenant("nshop", partner: "north")
            let reader = try await env.partnerKey("north", scopes: [.tenantsRead])
            let shopReader = try await env.tenantKey("nshop", scopes: [.articlesRead])
            try await env.withApp { client throws in
                let api = APIClient(client, token: reader)
                #expect(try await api.get("/api/v1/tenants/nshop").status == .ok)
                let refused = try await api.call(.post, "/api/v1/tenants/nshop/suspend")
                #expect(refused.isProblem("forbidden", .forbidden))
                #expect((refused.object["detail"] as? String)?.contains("tenants:write") == true)
                #expect(try await api.call(.put, "/api/v1/branding", json: "{}").isProblem("forbidden", .forbidden))
                #expect(
                    try await api.call(.post, "/api/v1/tenants/nshop/members", json: #"{"email": "a@b.example", "role": "viewer"}"#)
                        .isProblem("forbidden", .forbidden))
                #expect(try await env.scalar("SELECT status FROM platform.tenants WHERE slug = 'nshop'", as: String.self) == "active")
                let shop = APIClient(client, token: shopReader)
                #expect(try await shop.get("/api/v1/articles").status == .ok)
                #expect(
                    try await shop.call(.post, "/api/v1/articles", json: #"{"title": "T", "body": "B"}"#).isProblem("forbidden", .forbidden)
                )
            }
        }
    }

    @Test func overTheLimitAKeyGetsTooManyRequestsWithRetryAfterAndOtherKeysDoNot() async throws {
        try await TestEnvironment.with(configure: { $0.apiRateLimit = 3 }) { env in
            try await env.makePartner("north")
            let busy = try await env.partnerKey("north", scopes: [.tenantsRead])
            let other = try await env.partnerKey("north", scopes: [.tenantsRead])
            try await env.withApp { client throws in
                let api = APIClient(client, token: busy)
                for remaining in [2, 1, 0] {
                    let response = try await api.get("/api/v1/tenants")
                    #expect(response.status == .ok)
                    #expect(response.headers[.rateLimitLimit] == "3" && response.headers[.rateLimitRemaining] == "\(remaining)")
                }
                let refused = try await api.get("/api/v1/tenants")
                #expect(refused.isProblem("rate-limited", .tooManyRequests))
                let wait = try #require(refused.headers[.retryAfter].flatMap { Int($0) })
                #expect((1...20).contains(wait))
                #expect(try await APIClient(client, token: other).get("/api/v1/tenants").status == .ok)
            }
        }
    }

    @Test func theBucketRefillsOverTime() {
        let clock = Locked(0.0)
        let limiter = APIRateLimiter(perMinute: 60) { clock.withLock { $0 } }
        let key = UUID()
        for _ in 0..<60 { #expect(limiter.take(key).allowed) }
        let refused = limiter.take(key)
        #expect(!refused.allowed && refused.retryAfter == 1 && refused.remaining == 0)
        clock.withLock { $0 = 1.0 }
        #expect(limiter.take(key).allowed)
        #expect(!limiter.take(key).allowed)
        clock.withLock { $0 = 1000 }
        #expect(limiter.take(key).remaining == 59)
        #expect(limiter.take(UUID()).remaining == 59)
    }
}
