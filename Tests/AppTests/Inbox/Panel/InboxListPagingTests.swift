import Foundation
import Testing

@testable import App

@Suite("The inbox's list pages")
struct InboxListPagingTests {
    /// The waiting queue is read longest-waiting first, the others latest first; each next page starts after the
    /// previous page's last conversation, whatever the order.
    @Test func everyQueueIsReadPageByPageWithoutSkippingOrRepeating() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "acme")
            let user = UUID()
            var ids: [Int] = []
            for visitor in 1...4 {
                let reply = try await env.services.botEngine.reply(
                    to: ShopperMessage(text: "позовите оператора", channel: .widget, externalContactID: "v-\(visitor)"), in: tenant)
                ids.append(reply.conversationID)
            }
            // The first to wait wrote last: the waiting order and the latest-message order differ.
            try await env.services.tenants.withTenant(tenant) { connection in
                try await connection.execute(
                    """
                    UPDATE conversations SET waiting_since = now() - (id * interval '1 minute'), last_message_at = now() + (id * interval '1 second')
                    """)
            }
            let store = InboxStore()
            func read(_ queue: InboxQueue) async throws -> [Int] {
                var seen: [Int] = []
                var after: Int?
                while true {
                    let cursor = after
                    let page = try await env.services.tenants.withTenant(tenant) { connection in
                        try await store.page(queue, user: user, after: cursor, limit: 2, on: connection)
                    }
                    seen += page.map(\.id)
                    guard page.count == 2, let last = page.last?.id else { return seen }
                    after = last
                }
            }
            #expect(try await read(.waiting) == ids.sorted(by: >))
            #expect(try await read(.all) == ids.sorted(by: >))
            try await env.services.tenants.withTenant(tenant) { connection in
                try await connection.execute("UPDATE conversations SET last_message_at = now() - (id * interval '1 second')")
            }
            #expect(try await read(.all) == ids.sorted())
            #expect(try await read(.bot) == [])
        }
    }
}
