import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

/// A shop with a bot, its people and two shoppers' conversations: one waiting for a person, one with the bot.
struct InboxShop {
    let tenant: TenantRecord
    let waiting: Int
    let withBot: Int
    let waitingContact: Int
    let botContact: Int
    let oleg: UserRecord
    let anna: UserRecord
    let vera: UserRecord

    static let password = "correct-horse-battery"

    static func make(_ env: TestEnvironment, _ slug: String = "acme") async throws -> InboxShop {
        let tenant = try await makeBotShop(env, slug)
        let oleg = try await env.makeUser("oleg@\(slug).test", role: .operator, tenant: slug)
        let anna = try await env.makeUser("anna@\(slug).test", role: .admin, tenant: slug)
        let vera = try await env.makeUser("vera@\(slug).test", role: .viewer, tenant: slug)
        let engine = env.services.botEngine
        let handed = try await engine.reply(
            to: ShopperMessage(text: "позовите оператора", channel: .widget, externalContactID: "visitor-1", contactName: "Мария Петрова"),
            in: tenant)
        #expect(handed.state == .waiting)
        let answered = try await engine.reply(
            to: ShopperMessage(text: "Сколько идёт доставка?", channel: .widget, externalContactID: "visitor-2"), in: tenant)
        #expect(answered.state == .bot && answered.answer != nil)
        let contacts = try await env.services.tenants.withTenant(tenant) { connection in
            try await connection.values(
                (Int, Int).self,
                "SELECT id::int, contact_id::int FROM conversations WHERE id IN (\(handed.conversationID), \(answered.conversationID)) ORDER BY id"
            )
        }
        return InboxShop(
            tenant: tenant, waiting: handed.conversationID, withBot: answered.conversationID, waitingContact: contacts[0].1,
            botContact: contacts[1].1, oleg: oleg, anna: anna, vera: vera)
    }

    /// The conversation's state and assignee as stored.
    func stored(_ env: TestEnvironment, _ id: Int) async throws -> (state: String, assignee: UUID?)? {
        try await env.services.tenants.withTenant(tenant) { connection in
            try await connection.value((String, UUID?).self, "SELECT state, assignee_id FROM conversations WHERE id = \(id)")
        }.map { (state: $0.0, assignee: $0.1) }
    }
}

@Suite("The inbox's pages: queues, a conversation, operators' actions")
struct InboxPagesTests {
    @Test func anOperatorSeesTheQueuesWithTheirCounts() async throws {
        try await TestEnvironment.with { env in
            let shop = try await InboxShop.make(env)
            // "Try the bot" conversations stay out of the inbox.
            let test = try await env.services.botEngine.reply(
                to: ShopperMessage(text: "позовите оператора", channel: .test), in: shop.tenant)
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("oleg@acme.test", InboxShop.password)
                let home = try await browser.get("/admin")
                #expect(home.text.contains("href=\"/admin/inbox\"") && home.text.contains("Разговоры"))

                let waiting = try await browser.get("/admin/inbox")
                #expect(waiting.status == .ok)
                #expect(waiting.text.contains("Ждут человека <span class=\"inbox-count inbox-count-alert\">1</span>"))
                #expect(waiting.text.contains("С ботом <span class=\"inbox-count\">1</span>"))
                #expect(waiting.text.contains("Все <span class=\"inbox-count\">2</span>"))
                #expect(waiting.text.contains("Мария Петрова"))
                #expect(waiting.text.contains("href=\"/admin/inbox/\(shop.waiting)\""))
                #expect(!waiting.text.contains("href=\"/admin/inbox/\(shop.withBot)\""))
                #expect(waiting.text.contains("ждёт меньше минуты"))
                #expect(waiting.text.contains("Бот:"))
                // The navigation's badge and the live parts: the script, the stream, presence for an operator.
                #expect(waiting.text.contains("<span class=\"nav-badge\""))
                #expect(
                    waiting.text.contains("data-events=\"/admin/inbox/events\"")
                        && waiting.text.contains("data-presence=\"/admin/inbox/presence\""))
                #expect(waiting.text.contains("<script src=\"/static/js/inbox.js?v="))
                #expect(waiting.text.contains("Нет на месте"))

                let bot = try await browser.get("/admin/inbox?queue=bot")
                #expect(bot.text.contains("href=\"/admin/inbox/\(shop.withBot)\"") && bot.text.contains("Посетитель #\(shop.botContact)"))
                #expect(!bot.text.contains("href=\"/admin/inbox/\(shop.waiting)\""))
                let all = try await browser.get("/admin/inbox?queue=all")
                #expect(
                    all.text.contains("href=\"/admin/inbox/\(shop.waiting)\"") && all.text.contains("href=\"/admin/inbox/\(shop.withBot)\"")
                )
                #expect(!all.text.contains("href=\"/admin/inbox/\(test.conversationID)\""))
                let mine = try await browser.get("/admin/inbox?queue=mine")
                #expect(mine.text.contains("У вас нет открытых разговоров"))
                #expect(try await browser.get("/admin/inbox/\(test.conversationID)").status == .notFound)

                // The next page starts after the last row shown: nothing is left after the only waiting one.
                let next = try await browser.get("/admin/inbox?before=\(shop.waiting)")
                #expect(next.status == .ok && next.text.contains("На этой странице разговоров больше нет."))
            }
        }
    }

    @Test func theConversationShowsMessagesNotesAndTheBotsExplanations() async throws {
        try await TestEnvironment.with { env in
            let shop = try await InboxShop.make(env)
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("oleg@acme.test", InboxShop.password)
                let page = try await browser.get("/admin/inbox/\(shop.withBot)")
                #expect(page.status == .ok)
                #expect(page.text.contains("Сколько идёт доставка?") && page.text.contains("Доставка занимает от 2 до 6 дней."))
                #expect(
                    page.text.contains("база знаний") && page.text.contains("<code>delivery-time</code>") && page.text.contains("Кандидаты")
                )
                #expect(page.text.contains("Виджет на сайте") && page.text.contains("отвечает бот"))
                #expect(page.text.contains("Взять у бота") && page.text.contains("Разговор начат"))
                #expect(page.text.contains("action=\"/admin/inbox/\(shop.withBot)/reply\""))
                #expect(page.text.contains("option value=\"wholesale\" data-text=\"опт: напишите на opt@example.ru\""))

                let noted = try await browser.post("/admin/inbox/\(shop.withBot)/note", ["text": "Постоянный клиент, дарим скидку"])
                #expect(noted.status == .seeOther && noted.location == "/admin/inbox/\(shop.withBot)")
                let again = try await browser.get("/admin/inbox/\(shop.withBot)")
                #expect(again.text.contains("Заметка сохранена."))
                #expect(again.text.contains("class=\"chat-item chat-note\"") && again.text.contains("Постоянный клиент, дарим скидку"))
                #expect(again.text.contains("<span class=\"note-tag\">заметка</span>"))
                // A note moves nothing: the bot still has the conversation.
                #expect(try await shop.stored(env, shop.withBot)?.state == "bot")

                // Choosing a template without JavaScript puts it in the reply box, keeping what was typed.
                let inserted = try await browser.post(
                    "/admin/inbox/\(shop.withBot)/reply", ["text": "Добрый день!", "template": "wholesale", "insert": "1"])
                #expect(inserted.status == .ok && inserted.text.contains("Добрый день!\nопт: напишите на opt@example.ru</textarea>"))
                #expect(try await shop.stored(env, shop.withBot)?.state == "bot")

                // A rated conversation shows the rating and the comment.
                try await env.services.tenants.withTenant(shop.tenant) { connection in
                    try await connection.execute(
                        "UPDATE conversations SET csat_rating = 4, csat_comment = 'Быстро ответили' WHERE id = \(shop.withBot)")
                }
                let rated = try await browser.get("/admin/inbox/\(shop.withBot)")
                #expect(rated.text.contains("Оценка покупателя") && rated.text.contains("★★★★☆") && rated.text.contains("4 из 5"))
                #expect(rated.text.contains("Быстро ответили"))
            }
            let seen = try await env.services.tenants.withTenant(shop.tenant) { connection in
                try await WidgetStore().messages(shop.withBot, on: connection)
            }
            #expect(seen.count == 2 && !seen.contains { $0.text.contains("Постоянный клиент") })
        }
    }

    @Test func aReplyTakesTheConversationAndTheBotKeepsQuiet() async throws {
        try await TestEnvironment.with { env in
            let shop = try await InboxShop.make(env)
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("oleg@acme.test", InboxShop.password)
                try await browser.get("/admin/inbox/\(shop.waiting)")
                let empty = try await browser.post("/admin/inbox/\(shop.waiting)/reply", ["text": "  "])
                #expect(empty.status == .unprocessableContent && empty.text.contains("Сначала напишите текст."))
                let sent = try await browser.post("/admin/inbox/\(shop.waiting)/reply", ["text": "Здравствуйте! Я Олег, чем помочь?"])
                #expect(sent.status == .seeOther && sent.location == "/admin/inbox/\(shop.waiting)")
                let page = try await browser.get("/admin/inbox/\(shop.waiting)")
                #expect(page.text.contains("Ответ отправлен.") && page.text.contains("у оператора") && page.text.contains("у вас"))
                #expect(page.text.contains("class=\"chat-item chat-operator\"") && page.text.contains("Здравствуйте! Я Олег, чем помочь?"))
                #expect(page.text.contains("Вернуть в очередь") && !page.text.contains("name=\"action\" value=\"take\""))
                let mine = try await browser.get("/admin/inbox?queue=mine")
                #expect(mine.text.contains("href=\"/admin/inbox/\(shop.waiting)\"") && mine.text.contains("Вы:"))
            }
            #expect(try await shop.stored(env, shop.waiting)?.assignee == shop.oleg.id)
            let later = try await env.services.botEngine.reply(
                to: ShopperMessage(text: "Сколько идёт доставка?", channel: .widget, externalContactID: "visitor-1"), in: shop.tenant)
            #expect(later.conversationID == shop.waiting && later.answer == nil && later.state == .assigned)
            let authors = try await env.services.tenants.withTenant(shop.tenant) { connection in
                try await connection.values(
                    (String, UUID?).self, "SELECT author, author_user_id FROM messages WHERE conversation_id = \(shop.waiting) ORDER BY id")
            }
            #expect(authors.map(\.0) == ["shopper", "bot", "operator", "shopper"])
            #expect(authors[2].1 == shop.oleg.id)
        }
    }

    @Test func operatorsAssignReleaseResolveAndHandBack() async throws {
        try await TestEnvironment.with { env in
            let shop = try await InboxShop.make(env)
            _ = try await makeBotShop(env, "beta")
            let stranger = try await env.makeUser("petr@beta.test", role: .operator, tenant: "beta")
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("oleg@acme.test", InboxShop.password)
                let page = try await browser.get("/admin/inbox/\(shop.waiting)")
                #expect(page.text.contains("option value=\"\(shop.anna.id.uuidString.lowercased())\""))
                #expect(!page.text.contains(shop.vera.id.uuidString.lowercased()))
                let action = "/admin/inbox/\(shop.waiting)/action"

                let assigned = try await browser.post(action, ["action": "assign", "user": shop.anna.id.uuidString])
                #expect(assigned.status == .seeOther)
                #expect(try await shop.stored(env, shop.waiting)?.assignee == shop.anna.id)
                #expect(try await browser.get("/admin/inbox/\(shop.waiting)").text.contains("Разговор передан коллеге."))

                // Neither a viewer nor another shop's operator can be given the conversation.
                for user in [shop.vera.id, stranger.id] {
                    let refused = try await browser.post(action, ["action": "assign", "user": user.uuidString])
                    #expect(refused.status == .seeOther)
                    #expect(
                        try await browser.get("/admin/inbox/\(shop.waiting)").text.contains(
                            "Этот человек не отвечает на разговоры магазина"))
                    #expect(try await shop.stored(env, shop.waiting)?.assignee == shop.anna.id)
                }

                try await browser.post(action, ["action": "release"])
                #expect(try await shop.stored(env, shop.waiting)?.state == "waiting")
                try await browser.post(action, ["action": "resolve"])
                #expect(try await shop.stored(env, shop.waiting)?.state == "resolved")
                #expect(try await browser.get("/admin/inbox/\(shop.waiting)").text.contains("Открыть снова и взять себе"))
                try await browser.post(action, ["action": "take"])
                let taken = try await shop.stored(env, shop.waiting)
                #expect(taken?.state == "assigned" && taken?.assignee == shop.oleg.id)
                try await browser.post(action, ["action": "hand_back"])
                #expect(try await shop.stored(env, shop.waiting)?.state == "bot")

                // A move that no longer applies says so and shows the conversation as it is.
                let stale = try await browser.post(action, ["action": "release"])
                #expect(stale.status == .seeOther)
                let now = try await browser.get("/admin/inbox/\(shop.waiting)")
                #expect(now.text.contains("Разговор уже изменился") && now.text.contains("отвечает бот"))
                let events = try await browser.get("/admin/inbox/\(shop.waiting)")
                #expect(
                    events.text.contains("Возвращён в очередь") && events.text.contains("Завершён") && events.text.contains("Открыт снова"))
                #expect(events.text.contains("Возвращён боту") && events.text.contains("Передан людям: покупатель попросил человека"))
                #expect(try await browser.post(action, ["action": "dance"]).status == .badRequest)
            }
        }
    }

    @Test func aViewerReadsTheInboxButEveryPostIsRefused() async throws {
        try await TestEnvironment.with { env in
            let shop = try await InboxShop.make(env)
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("vera@acme.test", InboxShop.password)
                #expect(try await browser.get("/admin/inbox").status == .ok)
                let page = try await browser.get("/admin/inbox/\(shop.waiting)")
                #expect(page.status == .ok && page.text.contains("позовите оператора"))
                #expect(!page.text.contains("/admin/inbox/\(shop.waiting)/reply") && !page.text.contains("name=\"action\""))
                #expect(!page.text.contains("data-presence=") && !page.text.contains("Удалить данные покупателя"))
                #expect(page.text.contains("отвечать в них могут операторы"))
                let id = shop.waiting
                for (path, fields) in [
                    ("/admin/inbox/\(id)/reply", ["text": "Привет"]), ("/admin/inbox/\(id)/note", ["text": "Заметка"]),
                    ("/admin/inbox/\(id)/action", ["action": "take"]), ("/admin/inbox/\(id)/typing", [:]),
                    ("/admin/inbox/presence", ["status": "online", "js": "1"]), ("/admin/inbox/settings", ["target_wait_minutes": "5"]),
                    ("/admin/inbox/settings/secret", [:]), ("/admin/inbox/contacts/\(shop.waitingContact)/delete", [:]),
                ] {
                    #expect(try await browser.post(path, fields).status == .forbidden, "\(path)")
                }
                #expect(try await browser.get("/admin/inbox/settings").status == .forbidden)
            }
            #expect(try await shop.stored(env, shop.waiting)?.state == "waiting")
        }
    }

    @Test func anotherShopsConversationIsNotFound() async throws {
        try await TestEnvironment.with { env in
            let shop = try await InboxShop.make(env)
            let beta = try await makeBotShop(env, "beta")
            var newest = 0
            for visitor in 1...4 {
                newest = try await env.services.botEngine.reply(
                    to: ShopperMessage(text: "позовите оператора", channel: .widget, externalContactID: "b-\(visitor)"), in: beta
                ).conversationID
            }
            let last = newest
            #expect(last > max(shop.waiting, shop.withBot))
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("oleg@acme.test", InboxShop.password)
                try await browser.get("/admin/inbox")
                #expect(try await browser.get("/admin/inbox/\(last)").status == .notFound)
                #expect(try await browser.post("/admin/inbox/\(last)/reply", ["text": "Привет"]).status == .notFound)
                #expect(try await browser.post("/admin/inbox/\(last)/action", ["action": "take"]).status == .notFound)
                #expect(try await browser.post("/admin/inbox/\(last)/typing").status == .notFound)
                #expect(try await browser.get("/admin/inbox/abc").status == .notFound)
            }
        }
    }

    @Test func presenceIsReportedAndTheAwayToggleWorksWithoutJavaScript() async throws {
        try await TestEnvironment.with { env in
            let shop = try await InboxShop.make(env)
            let presence = PresenceStore(database: env.services.database)
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("oleg@acme.test", InboxShop.password)
                try await browser.get("/admin/inbox")
                #expect(try await browser.post("/admin/inbox/presence", ["status": "online", "js": "1"]).status == .noContent)
                #expect(try await presence.status(user: shop.oleg.id, tenant: shop.tenant.id) == .online)
                #expect(try await browser.get("/admin/inbox/\(shop.waiting)").text.contains("oleg@acme.test · в сети"))
                let away = try await browser.post(
                    "/admin/inbox/presence", ["status": "away", "back": "/admin/inbox/\(shop.waiting)"])
                #expect(away.status == .seeOther && away.location == "/admin/inbox/\(shop.waiting)")
                #expect(try await presence.status(user: shop.oleg.id, tenant: shop.tenant.id) == .away)
                let page = try await browser.get("/admin/inbox/\(shop.waiting)")
                #expect(page.text.contains("новые разговоры вам не назначаются") && page.text.contains("aria-pressed=\"true\""))
                // Elsewhere than the inbox, the toggle goes back to the inbox.
                let outside = try await browser.post("/admin/inbox/presence", ["status": "online", "back": "https://evil.example/"])
                #expect(outside.location == "/admin/inbox")
                #expect(try await browser.post("/admin/inbox/presence", ["status": "asleep"]).status == .badRequest)
                #expect(try await browser.post("/admin/inbox/\(shop.waiting)/typing").status == .noContent)
                #expect(try await browser.post("/admin/inbox/\(shop.waiting)/typing", csrf: "").status == .forbidden)
            }
        }
    }
}
