import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import App

@Suite("Help articles editor and audit log")
struct ArticleEditorTests {
    static let password = "correct-horse-battery"

    @Test func createPreviewEditReorderAndDeleteWithEveryChangeAudited() async throws {
        try await TestEnvironment.with { env in
            let scope = try await env.makeTenant("acme", articles: markedArticles(tenant: "acme", count: 2))
            try await env.makeUser("anna@acme.test", role: .owner, tenant: "acme")
            try await env.withApp { client throws in
                var browser = Browser(client, host: "acme.vitrina.test")
                try await browser.signIn("anna@acme.test", Self.password)
                try await browser.get("/admin/articles/new")

                // Invalid input comes back with the errors and what was typed.
                let invalid = try await browser.post("/admin/articles/new", ["title": "Оплата <картой>", "slug": "Bad Slug!", "body": ""])
                #expect(invalid.status == .unprocessableContent)
                #expect(invalid.text.contains("value=\"Оплата &lt;картой&gt;\""))
                #expect(invalid.text.contains("Адрес может содержать только"))
                #expect(invalid.text.contains("Заполните это поле."))

                // A preview renders the public page's text without saving.
                let preview = try await browser.post(
                    "/admin/articles/new", ["title": "Оплата", "slug": "", "body": "Картой.\n\nИли наличными.", "intent": "preview"])
                #expect(preview.status == .ok)
                #expect(preview.text.contains("<p>Картой.</p>") && preview.text.contains("<p>Или наличными.</p>"))
                #expect(preview.text.contains("value=\"oplata\""))
                #expect(try await client.get("/help/oplata", host: "acme.vitrina.test").status == .notFound)

                // Saving publishes it, with a slug made from the Russian title.
                let saved = try await browser.post(
                    "/admin/articles/new", ["title": "Оплата", "slug": "", "body": "Картой.\n\nИли наличными."])
                #expect(saved.status == .seeOther)
                let listed = try await browser.get("/admin/articles")
                #expect(listed.text.contains("Статья опубликована."))
                #expect(try await client.get("/help/oplata", host: "acme.vitrina.test").text.contains("Или наличными."))

                // A duplicate slug is a field error, not a 500.
                let duplicate = try await browser.post("/admin/articles/new", ["title": "Снова", "slug": "oplata", "body": "x"])
                #expect(duplicate.status == .unprocessableContent)
                #expect(duplicate.text.contains("Статья с таким адресом уже есть."))

                let found = try await env.withTenant(scope) { connection in
                    try await env.services.articles.list(on: connection).first { $0.slug == "oplata" }?.id
                }
                let id = try #require(found)
                let edit = try await browser.get("/admin/articles/\(id)")
                #expect(edit.status == .ok && edit.text.contains("Или наличными."))
                #expect(
                    try await browser.post("/admin/articles/\(id)", ["title": "Оплата заказа", "slug": "oplata", "body": "Только картой."])
                        .status == .seeOther)
                #expect(try await client.get("/help/oplata", host: "acme.vitrina.test").text.contains("Только картой."))

                // Reorder: the new article (last) moves up one place.
                try await browser.get("/admin/articles")
                #expect(try await browser.post("/admin/articles/\(id)/move", ["direction": "up"]).status == .seeOther)
                let index = try await client.get("/help", host: "acme.vitrina.test").text
                let first = try #require(index.range(of: "[acme#1]")), moved = try #require(index.range(of: "Оплата заказа")),
                    second = try #require(index.range(of: "[acme#2]"))
                #expect(first.lowerBound < moved.lowerBound && moved.lowerBound < second.lowerBound)

                #expect(try await browser.post("/admin/articles/\(id)/delete").status == .seeOther)
                #expect(try await client.get("/help/oplata", host: "acme.vitrina.test").status == .notFound)
                #expect(try await browser.post("/admin/articles/\(id)/delete").status == .notFound)
                #expect(try await browser.get("/admin/articles/999999").status == .notFound)
                #expect(try await browser.get("/admin/articles/abc").status == .notFound)

                // The audit log has it all, with who and from where, and filters by kind.
                let audit = try await browser.get("/admin/audit?action=article")
                for label in ["Создана статья", "Изменена статья", "Изменён порядок статей", "Удалена статья"] {
                    #expect(audit.text.contains(label), "\(label)")
                }
                #expect(audit.text.contains("anna@acme.test") && audit.text.contains("203.0.113.7"))
                #expect(!audit.text.contains("Вход в панель"))
                let byPerson = try await browser.get("/admin/audit?actor=nobody")
                #expect(byPerson.text.contains("Записей нет."))
                let dashboard = try await browser.get("/admin")
                #expect(dashboard.text.contains("Удалена статья"))
                #expect(try await env.scalar("SELECT articles FROM platform.tenant_stats", as: Int.self) == 2)
            }
        }
    }
}
