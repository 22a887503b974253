import Foundation
import PostgresNIO
import Testing

@testable import App

@Suite("tenants.yml: bots, FAQ, synonyms, templates, rules")
struct ManifestBotTests {
    static let yaml = """
        tenants:
          - slug: acme
            name: Acme Tea
            help_articles:
              - {slug: delivery, title: Доставка, body: "Курьером за два дня."}
            bot:
              name: Чайник
              greeting: "Здравствуйте{{#contact.name}}, {{contact.name}}{{/contact.name}}!"
              language: ru
              threshold: 0.4
              handoff: {after_fallbacks: 3, keywords: [Жалоба]}
              hours: {timezone: Europe/Moscow, week: {mon-fri: "09:00-21:00"}, away: "Мы откроемся в 9:00."}
              widget: {allowed_origins: ["https://Store.Tea.example/catalog/", "http://localhost:3000"], position: left, prechat: {name: required, email: optional}}
            faq:
              - slug: delivery-time
                question: Сколько идёт доставка?
                phrasings: [Когда привезут заказ?]
                answer: Два дня.
                buttons: [{title: Подробнее, url: /help/delivery}]
            synonyms:
              - {word: посылка, means: доставка}
            templates:
              - {name: wholesale-info, text: "Опт: opt@example.ru", buttons: [Спасибо]}
            rules:
              - {name: wholesale, when: {keywords: [опт, оптом]}, then: {reply: wholesale-info}}
              - {name: order-number, when: {regex: '(?i)заказ\\s*\\d{5,}'}, then: {handoff: true}}
              - {name: delivery, when: {examples: ["когда доставка"]}, then: {show: delivery-time}}
              - {name: vip, when: {keywords: [vip]}, then: {set: {segment: vip}}}
        """

    func issues(_ yaml: String) -> [String] {
        var parser = ManifestParser(file: "t.yml", baseDomain: "vitrina.test")
        do {
            _ = try parser.parse(yaml)
            return []
        } catch let error as ManifestError {
            return error.issues.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    @Test func theExampleIsReadInFull() throws {
        var parser = ManifestParser(file: "t.yml", baseDomain: "vitrina.test")
        let spec = try #require(try parser.parse(Self.yaml).tenants.first?.bot)
        #expect(spec.bot?.name == "Чайник" && spec.bot?.language == .ru && spec.bot?.threshold == 0.4)
        #expect(spec.bot?.handoffAfterFallbacks == 3 && spec.bot?.handoffKeywords == ["Жалоба"])
        #expect(spec.bot?.hours?.days[1] == [540...1260] && spec.bot?.hours?.days[6] == nil)
        #expect(
            spec.bot?.widget
                == WidgetSettings(
                    allowedOrigins: ["https://store.tea.example", "http://localhost:3000"], position: .left, name: .required,
                    email: .optional))
        #expect(spec.faq?.first?.buttons == [LinkButton(title: "Подробнее", url: "/help/delivery")])
        #expect(
            spec.rules?.map(\.action) == [
                .reply(template: "wholesale-info"), .handOff, .show(slug: "delivery-time"), .setField("segment", "vip"),
            ])
    }

    @Test func everyBadInputIsNamedWithItsLineAndPath() {
        let cases: [(String, String, String)] = [
            ("language: ru", "language: klingon", "bot.language: must be ru, en or auto"),
            ("threshold: 0.4", "threshold: 7", "bot.threshold: must be a number from 0 to 1"),
            ("after_fallbacks: 3", "after_fallbacks: many", "handoff.after_fallbacks: must be a whole number"),
            ("timezone: Europe/Moscow", "timezone: Mars/Base", "bot.hours: “Mars/Base” is not a time zone"),
            ("mon-fri: \"09:00-21:00\"", "mon-fri: \"9 to 5\"", "is not a time interval"),
            ("{{contact.name}}{{/contact.name}}!", "{{customer}}!", "bot.greeting"),
            ("slug: delivery-time", "slug: delivery", "is also an article's slug"),
            ("url: /help/delivery", "url: javascript:alert(1)", "must start with /, https:// or http://"),
            (
                "{name: wholesale-info, text: \"Опт: opt@example.ru\"", "{name: wholesale-info, text: \"Опт {{order.id}}\"",
                "templates[0].text"
            ),
            ("then: {reply: wholesale-info}", "then: {reply: missing}", "there is no template 'missing'"),
            ("then: {show: delivery-time}", "then: {show: nowhere}", "there is no FAQ entry or article 'nowhere'"),
            ("regex: '(?i)заказ\\s*\\d{5,}'", "regex: '(unclosed'", "is not a regular expression"),
            ("when: {keywords: [vip]}", "when: {keywords: [vip], regex: 'x'}", "give one of keywords, regex or examples"),
            ("then: {handoff: true}", "then: {handoff: maybe}", "then.handoff: must be true"),
            ("- {word: посылка, means: доставка}", "- {word: посылка}", "means is required"),
            ("name: Чайник", "nme: Чайник", "unknown key 'nme'"),
            ("\"http://localhost:3000\"", "\"ftp://files.example\"", "widget.allowed_origins[1]: 'ftp://files.example' is not an origin"),
            ("position: left", "position: middle", "widget.position: must be right or left"),
            (
                "name: required, email: optional", "name: required, email: sometimes",
                "widget.prechat.email: must be off, optional or required"
            ),
        ]
        for (original, replacement, expected) in cases {
            #expect(Self.yaml.contains(original), "the case's original text is in the example: \(original)")
            let found = issues(Self.yaml.replacingOccurrences(of: original, with: replacement))
            #expect(found.contains { $0.contains(expected) && $0.hasPrefix("t.yml:") }, "\(replacement) → \(found)")
        }
        #expect(issues(Self.yaml).isEmpty)
    }

    @Test func applyingTwiceChangesNothingAndTheBotAnswersFromIt() async throws {
        try await TestEnvironment.with { env in
            var parser = ManifestParser(file: "t.yml", baseDomain: "vitrina.test")
            let manifest = try parser.parse(Self.yaml)
            let first = try await env.services.manifestApplier(file: "t.yml").apply(manifest, dryRun: false)
            #expect(first.contains { $0.description.contains("+ tenant acme (Acme Tea), a bot with 1 FAQ entries") })
            let second = try await env.services.manifestApplier(file: "t.yml").apply(manifest, dryRun: false)
            #expect(second.isEmpty, "\(second)")
            try await env.services.directory.reload()
            let tenant = try #require(try await env.services.directory.tenant(slug: "acme"))
            let reply = try await env.services.botEngine.reply(to: ShopperMessage(text: "хочу оптом", channel: .test), in: tenant)
            #expect(reply.answer?.rule == "wholesale" && reply.answer?.text == "Опт: opt@example.ru")
            let faq = try await env.services.botEngine.reply(to: ShopperMessage(text: "когда привезут заказ", channel: .test), in: tenant)
            #expect(faq.answer?.entry?.slug == "delivery-time")
            let edited = try ManifestParser(file: "t.yml", baseDomain: "vitrina.test").parseCopy(
                Self.yaml.replacingOccurrences(of: "answer: Два дня.", with: "answer: Три дня."))
            let changes = try await env.services.manifestApplier(file: "t.yml").apply(edited, dryRun: false)
            #expect(changes.map(\.description) == ["~ faq acme/delivery-time"])
        }
    }
}

extension ManifestParser {
    func parseCopy(_ text: String) throws -> Manifest {
        var copy = self
        return try copy.parse(text)
    }
}
