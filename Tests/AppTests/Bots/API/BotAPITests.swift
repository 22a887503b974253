import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

@Suite("Bot API: settings, FAQ, synonyms, templates and rules through a shop's key")
struct BotAPITests {
    @Test func botSettingsRoundTripAndRefusalsNameTheirFields() async throws {
        try await TestEnvironment.with { env in
            _ = try await makeBotShop(env, "tea")
            let key = try await env.tenantKey("tea")
            try await env.withApp { client throws in
                let api = APIClient(client, token: key)
                let fresh = try await api.get("/api/v1/bot")
                #expect(fresh.status == .ok && fresh.object["language"] as? String == "auto")
                #expect(fresh.object.keys.contains("threshold") && fresh.object["threshold"] is NSNull && fresh.object["hours"] is NSNull)

                let changed = try await api.call(
                    .put, "/api/v1/bot",
                    json: #"""
                        {"name": "Чайник", "threshold": 0.4, "language": "ru",
                         "handoff": {"after_fallbacks": 3, "keywords": ["Жалоба"]},
                         "hours": {"timezone": "Europe/Moscow", "week": {"mon-fri": "09:00-21:00"}}, "away_message": "Мы вернёмся."}
                        """#)
                #expect(changed.status == .ok)
                let stored = try await api.get("/api/v1/bot").object
                #expect(stored["name"] as? String == "Чайник" && stored["threshold"] as? Double == 0.4)
                let handoff = stored["handoff"] as? [String: Any]
                #expect(handoff?["after_fallbacks"] as? Int == 3 && handoff?["keywords"] as? [String] == ["жалоба"])
                #expect(handoff?["on_request"] as? Bool == true)
                let week = (stored["hours"] as? [String: Any])?["week"] as? [String: String]
                #expect(week?["mon"] == "09:00-21:00" && week?["fri"] == "09:00-21:00" && week?["sat"] == nil)
                #expect(stored["away_message"] as? String == "Мы вернёмся.")

                let cleared = try await api.call(.put, "/api/v1/bot", json: #"{"threshold": null, "hours": null}"#).object
                #expect(cleared["threshold"] is NSNull && cleared["hours"] is NSNull && cleared["name"] as? String == "Чайник")

                let unknown = try await api.call(.put, "/api/v1/bot", json: #"{"colour": "green", "handoff": {"after": 1}}"#)
                #expect(unknown.isProblem("validation", .unprocessableContent) && unknown.problemFields == ["colour", "handoff.after"])
                let bad = try await api.call(
                    .put, "/api/v1/bot",
                    json: #"""
                        {"language": "fr", "threshold": 2, "greeting": "Hi {{shop.nam}}", "handoff": {"after_fallbacks": 99},
                         "hours": {"timezone": "Mars/Base", "week": {"mon": "09:00-21:00"}}}
                        """#)
                #expect(bad.isProblem("validation", .unprocessableContent))
                #expect(bad.problemFields == ["language", "threshold", "greeting", "handoff.after_fallbacks", "hours.timezone"])
                #expect(bad.text.contains("shop.nam"))
                let week2 = try await api.call(.put, "/api/v1/bot", json: #"{"hours": {"week": {"someday": "09:00-10:00"}}}"#)
                #expect(week2.problemFields == ["hours.week"])
                #expect(try await api.call(.put, "/api/v1/bot", json: #"{"threshold": "high"}"#).problemFields == ["threshold"])
                #expect(try await api.get("/api/v1/bot").object["language"] as? String == "ru")
                #expect(
                    try await env.scalar("SELECT count(*)::int FROM platform.audit_log WHERE action = 'bot.updated'", as: Int.self) == 2)
            }
        }
    }

    @Test func faqEntriesAndSynonymsRoundTrip() async throws {
        try await TestEnvironment.with { env in
            _ = try await makeBotShop(env, "tea")
            let key = try await env.tenantKey("tea")
            try await env.withApp { client throws in
                let api = APIClient(client, token: key)
                let first = try await api.get("/api/v1/faq?limit=2")
                #expect(first.items.compactMap { $0["slug"] as? String } == ["delivery-time", "returns"])
                let cursor = try #require(first.object["next_cursor"] as? String)
                let second = try await api.get("/api/v1/faq?limit=2&cursor=" + cursor)
                #expect(second.items.compactMap { $0["slug"] as? String } == ["shipping-abroad"] && second.object["next_cursor"] is NSNull)

                let created = try await api.call(
                    .post, "/api/v1/faq",
                    json: #"""
                        {"question": "Есть ли самовывоз?", "answer": "Да, из магазина на Ленина, 1.", "phrasings": ["Можно забрать самому"],
                         "buttons": [{"title": "Адрес", "url": "/help/contacts"}]}
                        """#)
                #expect(created.status == .created && created.object["slug"] as? String == "est-li-samovyvoz")
                #expect(created.headers[.location] == "/api/v1/faq/est-li-samovyvoz")
                #expect(created.object["enabled"] as? Bool == true && created.object["position"] is Int)
                let shown = try await api.get("/api/v1/faq/est-li-samovyvoz").object
                #expect(shown["phrasings"] as? [String] == ["Можно забрать самому"])
                #expect((shown["buttons"] as? [[String: String]])?.first?["url"] == "/help/contacts")

                let changed = try await api.call(.put, "/api/v1/faq/est-li-samovyvoz", json: #"{"enabled": false, "slug": "pickup"}"#)
                #expect(changed.status == .ok && changed.object["enabled"] as? Bool == false)
                #expect(changed.object["question"] as? String == "Есть ли самовывоз?")
                #expect(try await api.get("/api/v1/faq/pickup").status == .ok)
                #expect(try await api.get("/api/v1/faq/est-li-samovyvoz").isProblem("not-found", .notFound))

                let taken = try await api.call(.post, "/api/v1/faq", json: #"{"slug": "returns", "question": "Q?", "answer": "A."}"#)
                #expect(taken.isProblem("conflict", .conflict) && taken.problemFields == ["slug"])
                #expect(try await api.call(.put, "/api/v1/faq/pickup", json: #"{"slug": "returns"}"#).problemFields == ["slug"])
                #expect(try await api.call(.post, "/api/v1/faq", json: "{}").problemFields.isSuperset(of: ["question", "answer"]))
                let link = try await api.call(
                    .post, "/api/v1/faq",
                    json: #"{"question": "Where is it?", "answer": "A.", "buttons": [{"title": "x", "url": "javascript:alert(1)"}]}"#)
                #expect(link.problemFields == ["buttons"])
                #expect(
                    try await api.call(.post, "/api/v1/faq", json: #"{"question": "Q?", "answer": "A.", "score": 1}"#).problemFields == [
                        "score"
                    ])
                #expect(try await api.call(.delete, "/api/v1/faq/pickup").status == .noContent)
                #expect(try await api.call(.delete, "/api/v1/faq/pickup").isProblem("not-found", .notFound))
                #expect(try await api.get("/api/v1/faq").items.count == 3)

                let synonyms = try await api.get("/api/v1/synonyms").object["synonyms"] as? [[String: String]]
                #expect(synonyms == [["word": "посылка", "means": "доставка"]])
                let replaced = try await api.call(
                    .put, "/api/v1/synonyms",
                    json: #"{"synonyms": [{"word": "Шоколадка!", "means": "шоколад"}, {"word": "x", "means": "x"}]}"#)
                #expect(replaced.object["synonyms"] as? [[String: String]] == [["word": "шоколадка", "means": "шоколад"]])
                let missing = try await api.call(.put, "/api/v1/synonyms", json: #"{"synonyms": [{"word": "a"}]}"#)
                #expect(missing.isProblem("validation", .unprocessableContent) && missing.problemFields == ["synonyms.0.means"])
            }
        }
    }

    @Test func templatesAndRulesRoundTripAndBadTemplatesAreRefusedWithTheirSentence() async throws {
        try await TestEnvironment.with { env in
            _ = try await makeBotShop(env, "tea")
            let key = try await env.tenantKey("tea")
            try await env.withApp { client throws in
                let api = APIClient(client, token: key)
                #expect(try await api.get("/api/v1/templates").items.compactMap { $0["name"] as? String } == ["wholesale"])
                let created = try await api.call(
                    .post, "/api/v1/templates",
                    json: #"{"name": "thanks", "text": "Спасибо, {{contact.name}}!", "buttons": ["Ещё вопрос"]}"#)
                #expect(created.status == .created && created.headers[.location] == "/api/v1/templates/thanks")
                #expect(created.object["buttons"] as? [String] == ["Ещё вопрос"])
                let unknown = try await api.call(.post, "/api/v1/templates", json: #"{"name": "bad", "text": "Hi {{customer}}"}"#)
                #expect(unknown.isProblem("validation", .unprocessableContent) && unknown.problemFields == ["text"])
                #expect(unknown.text.contains("customer"))
                let broken = try await api.call(.post, "/api/v1/templates", json: #"{"name": "bad", "text": "Hi {{#shop.name}}"}"#)
                #expect(broken.problemFields == ["text"] && broken.text.contains("broken tag"))
                #expect(try await api.call(.post, "/api/v1/templates", json: #"{"name": "thanks", "text": "x"}"#).problemFields == ["name"])
                let changed = try await api.call(.put, "/api/v1/templates/thanks", json: #"{"text": "Спасибо!"}"#)
                #expect(
                    changed.status == .ok && changed.object["text"] as? String == "Спасибо!"
                        && changed.object["buttons"] as? [String] == ["Ещё вопрос"])
                #expect(try await api.get("/api/v1/templates/thanks").object["text"] as? String == "Спасибо!")
                #expect(try await api.call(.put, "/api/v1/templates/nosuch", json: #"{"text": "x"}"#).isProblem("not-found", .notFound))
                #expect(try await api.call(.delete, "/api/v1/templates/wholesale").isProblem("conflict", .conflict))
                #expect(try await api.call(.delete, "/api/v1/templates/thanks").status == .noContent)
                #expect(try await api.get("/api/v1/templates/thanks").isProblem("not-found", .notFound))

                #expect(try await api.get("/api/v1/rules").items.compactMap { $0["name"] as? String } == ["wholesale", "order-number"])
                let rule = try await api.call(
                    .post, "/api/v1/rules", json: #"{"name": "complaint", "when": {"keywords": ["жалоба"]}, "then": {"handoff": true}}"#)
                #expect(rule.status == .created && rule.object["position"] as? Int == 3 && rule.object["enabled"] as? Bool == true)
                #expect((rule.object["then"] as? [String: Any])?["handoff"] as? Bool == true)
                let bad = try await api.call(
                    .post, "/api/v1/rules", json: #"{"name": "bad", "when": {"regex": "("}, "then": {"reply": "nosuch"}}"#)
                #expect(bad.isProblem("validation", .unprocessableContent) && bad.problemFields == ["when", "then.reply"])
                let two = try await api.call(
                    .post, "/api/v1/rules", json: #"{"name": "two", "when": {"keywords": ["a"], "regex": "b"}, "then": {"handoff": true}}"#)
                #expect(two.problemFields == ["when"])
                #expect(try await api.call(.post, "/api/v1/rules", json: #"{"name": "x"}"#).problemFields == ["name", "when", "then"])
                let changed2 = try await api.call(
                    .put, "/api/v1/rules/complaint", json: #"{"enabled": false, "position": 0, "then": {"set": {"mood": "angry"}}}"#)
                #expect(changed2.status == .ok && changed2.object["enabled"] as? Bool == false)
                #expect(((changed2.object["then"] as? [String: Any])?["set"] as? [String: String]) == ["mood": "angry"])
                #expect((changed2.object["when"] as? [String: Any])?["keywords"] as? [String] == ["жалоба"])
                #expect(try await api.get("/api/v1/rules?limit=1").items.first?["name"] as? String == "complaint")
                #expect(try await api.call(.delete, "/api/v1/rules/complaint").status == .noContent)
                #expect(try await api.get("/api/v1/rules/complaint").isProblem("not-found", .notFound))
            }
        }
    }
}
