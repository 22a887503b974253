import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

/// `vitrina api-keys`: an operator makes a key from a script (the contract run does), and bad input exits with 2.
@Suite("vitrina api-keys")
struct APIKeysCLITests {
    @Test func aKeyMadeOnTheCommandLineWorksAndIsAudited() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner("north")
            try await env.makeTenant("nshop", partner: "north")
            let made = try await CLI.run(["api-keys", "create", "--partner", "north", "--name", "sync"], database: env.url)
            #expect(made.status == 0)
            let token = made.output.lastLine
            #expect(APIKeyToken.looksValid(token))
            let scoped = try await CLI.run(
                ["api-keys", "create", "--tenant", "nshop", "--name", "reader", "--scope", "bot:read"], database: env.url)
            let reader = scoped.output.lastLine
            #expect(!reader.isEmpty)
            try await env.withApp { client throws in
                #expect(try await APIClient(client, token: token).get("/api/v1/tenants").status == .ok)
                let shop = APIClient(client, token: reader)
                #expect(try await shop.get("/api/v1/bot").status != .forbidden)
                #expect(try await shop.call(.put, "/api/v1/synonyms", json: #"{"synonyms": []}"#).isProblem("forbidden", .forbidden))
            }
            // Without a person to act as, a shop key gets every scope but conversations:write.
            _ = try await CLI.run(["api-keys", "create", "--tenant", "nshop", "--name", "everything"], database: env.url)
            let list = try await CLI.run(["api-keys", "list", "--tenant", "nshop"], database: env.url)
            #expect(list.output.contains("conversations:read") && !list.output.contains("conversations:write"))
            #expect(list.status == 0 && list.output.contains("reader") && list.output.contains("bot:read") && !list.output.contains(reader))
            let audited = try await env.scalar(
                "SELECT count(*)::int FROM platform.audit_log WHERE action = 'api_key.created'", as: Int.self)
            #expect(audited == 3)
        }
    }

    @Test func badInputExitsWithCodeTwo() async throws {
        try await TestEnvironment.with { env in
            try await env.makePartner("north")
            try await env.makeTenant("nshop", partner: "north")
            for arguments in [
                ["api-keys", "create", "--partner", "nobody", "--name", "x"],
                ["api-keys", "create", "--partner", "north", "--tenant", "nshop", "--name", "x"],
                ["api-keys", "create", "--partner", "north", "--name", "x", "--scope", "bot:read"],
                ["api-keys", "create", "--tenant", "nshop", "--name", "x", "--acting-as", "nobody@example.com"],
                ["api-keys", "create", "--tenant", "nshop", "--name", "  "],
                ["api-keys", "create", "--partner", "north", "--name", "x", "--acting-as", "a@b.example"],
                ["api-keys", "create", "--tenant", "nshop", "--name", "x", "--scope", "conversations:write"],
            ] {
                let result = try await CLI.run(arguments, database: env.url)
                #expect(result.status == 2, "\(arguments): \(result.output)")
            }
        }
    }
}
