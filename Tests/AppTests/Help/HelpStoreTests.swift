import Foundation
import Testing

@testable import App

@Suite("Help articles in the database")
struct HelpStoreTests {
    @Test func excerptIsTheFirstParagraphOnOneLineCutAtAWord() async throws {
        try await TestEnvironment.with { env in
            let long = String(repeating: "слово ", count: 60)
            let scope = try await env.makeTenant(
                "acme",
                articles: [
                    HelpArticle(slug: "short", title: "S", body: "Short one.\r\n\r\nSecond paragraph.", position: 1),
                    HelpArticle(slug: "lines", title: "L", body: "Line one\nline two\n\nnext", position: 2),
                    HelpArticle(slug: "long", title: "Long", body: long, position: 3),
                ])
            let page = try await env.services.articles.indexPage(try await env.record(scope))
            #expect(page.articles.map(\.excerpt)[0...1] == ["Short one.", "Line one line two"])
            let excerpt = page.articles[2].excerpt
            #expect(excerpt.hasSuffix("слово…"))
            #expect(excerpt.count <= 161)
        }
    }

    @Test func searchFindsRussianAndEnglishWordFormsAndPrefixes() async throws {
        try await TestEnvironment.with { env in
            let scope = try await env.makeTenant(
                "acme",
                articles: [
                    HelpArticle(
                        slug: "delivery", title: "Доставка", body: "Курьер привезёт заказ завтра. Доставки по России.", position: 1),
                    HelpArticle(slug: "returns", title: "Returns", body: "You can return shoes within 30 days.", position: 2),
                    HelpArticle(slug: "payment", title: "Оплата", body: "Картой или через СБП.", position: 3),
                ])
            func search(_ query: String) async throws -> [String] {
                try await env.services.articles.search(query, try await env.record(scope)).map(\.slug)
            }
            #expect(try await search("доставку") == ["delivery"])  // another case of the same word
            #expect(try await search("returning") == ["returns"])  // English stemming
            #expect(try await search("достав") == ["delivery"])  // a prefix as typed
            #expect(try await search("опл") == ["payment"])
            #expect(try await search("\"привезёт заказ\"") == ["delivery"])
            #expect(try await search("nothing-matches-this") == [])
            #expect(try await search("'); DROP TABLE help_articles; --") == [])
            let hit = try await env.services.articles.search("заказ", try await env.record(scope))
            #expect(hit.first?.fragment.contains("\u{1}заказ\u{2}") == true)
        }
    }
}
