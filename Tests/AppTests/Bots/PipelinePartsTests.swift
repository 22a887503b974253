import Foundation
import Testing

@testable import App

@Suite("Pipeline parts without a database")
struct PipelinePartsTests {
    @Test func normalisingFoldsCaseYoPunctuationEmojiAndRepeats() {
        let text = NormalizedText("  ПРИИИВЕТ!!! Ёлки, где   моя посылка?? 😡👍 shipping-cost")
        #expect(text.text == "привет елки где моя посылка shipping-cost")
        #expect(text.words == ["привет", "елки", "где", "моя", "посылка", "shipping-cost"])
        #expect(NormalizedText("ссылка").text == "ссылка")
        #expect(NormalizedText("😀🎉 ...").isEmpty)
    }

    @Test func languageComesFromTheLetters() {
        #expect(BotLanguage.detect("Где мой заказ?") == .ru)
        #expect(BotLanguage.detect("where is my order") == .en)
        #expect(BotLanguage.detect("12345 😀") == nil)
        let bot = Bot(language: .auto)
        #expect(bot.language(for: "hello", current: .ru, shopDefault: .ru) == .en)
        #expect(bot.language(for: "123", current: .en, shopDefault: .ru) == .en)
        #expect(Bot(language: .ru).language(for: "hello", current: nil, shopDefault: .en) == .ru)
    }

    @Test func smallTalkIsTheWholeMessageOnly() {
        func kind(_ text: String) -> SmallTalk? { SmallTalk.classify(NormalizedText(text)) }
        #expect(kind("Привет!") == .greeting)
        #expect(kind("добрый день") == .greeting)
        #expect(kind("спасибо большое!!") == .thanks)
        #expect(kind("thanks a lot") == .thanks)
        #expect(kind("ок, пока") == .goodbye)
        #expect(kind("bye") == .goodbye)
        #expect(kind("как дела?") == .howAreYou)
        #expect(kind("ты бот?") == .whoAreYou)
        #expect(kind("привет, сколько стоит доставка?") == nil)
        #expect(kind("hi, where is my order") == nil)
    }

    @Test func handOffRequestsInRussianAndEnglish() {
        func asks(_ text: String) -> Bool { HandoffRequest.isRequest(NormalizedText(text)) }
        for text in [
            "оператор", "позовите оператора", "хочу поговорить с живым человеком", "можно с менеджером связаться?",
            "соедините со специалистом", "real person please", "talk to a human", "agent", "can I speak to a representative",
            "дайте поговорить с кем-то живым", "соедините с руководством", "кто у вас старший?",
        ] {
            #expect(asks(text), "\(text)")
        }
        for text in [
            "сколько человек в вашей команде доставки", "как вернуть товар", "where is my order", "привет", "композиция с живым мхом",
        ] {
            #expect(!asks(text), "\(text)")
        }
    }

    @Test func templatesKnowTheirVariablesAndRefuseTheRest() throws {
        let values = TemplateValues(contactName: "Анна", shopName: "Acme Tea", botName: "Чайник", channel: .widget)
        let text = "{{#contact.name}}{{contact.name}}, {{/contact.name}}я {{bot.name}} из {{shop.name}} ({{conversation.channel}})"
        #expect(ResponseTemplates.render(text: text, values) == "Анна, я Чайник из Acme Tea (widget)")
        var anonymous = values
        anonymous.contactName = nil
        #expect(ResponseTemplates.render(text: text, anonymous) == "я Чайник из Acme Tea (widget)")
        #expect(ResponseTemplates.render(text: "{{^contact.name}}Как вас зовут?{{/contact.name}}", anonymous) == "Как вас зовут?")
        // Text, not HTML: nothing is escaped.
        #expect(
            ResponseTemplates.render(text: "{{shop.name}}", TemplateValues(shopName: "A&B <C>", botName: "x", channel: .test)) == "A&B <C>")
        #expect(throws: BotSettingsError.self) { try ResponseTemplate.check("Hello {{customer.name}}") }
        #expect(throws: BotSettingsError.self) { try ResponseTemplate.check("Hello {{#contact.name}} no end") }
        #expect(throws: BotSettingsError.self) { try ResponseTemplate.check("{{> partial}}") }
        do {
            try ResponseTemplate.check("Hi {{ordr.id}}")
        } catch {
            #expect("\(error)".contains("{{ordr.id}}"))
            #expect("\(error)".contains("{{contact.name}}"))
        }
    }

    @Test func rulesMatchKeywordsRegexAndExamplesInOrder() {
        let rules = RuleMatcher(
            [
                Rule(name: "second", position: 2, trigger: .keywords(["возврат"]), action: .handOff),
                Rule(name: "first", position: 1, trigger: .keywords(["опт", "оптом"]), action: .reply(template: "wholesale")),
                Rule(name: "order", position: 3, trigger: .regex("(?i)заказ\\s*№?\\s*\\d{5,}"), action: .reply(template: "order")),
                Rule(name: "off", position: 0, enabled: false, trigger: .keywords(["возврат"]), action: .handOff),
                Rule(name: "advice", position: 4, trigger: .examples(["посоветуйте хороший чай"]), action: .show(slug: "choosing")),
            ], exampleStems: ["advice": [["посовет", "хорош", "ча"]]])
        func match(_ text: String, stems: Set<String> = []) -> String? { rules.match(NormalizedText(text), stems: stems)?.name }
        #expect(match("хочу купить оптом и оформить возврат") == "first")
        #expect(match("как оформить возврата") == "second")  // a long keyword also matches its longer forms
        #expect(match("где заказ № 123456?") == "order")
        #expect(match("где заказ 12?") == nil)
        #expect(match("посоветуйте чай хороший", stems: ["посовет", "ча", "хорош"]) == "advice")
        #expect(match("чай", stems: ["ча"]) == nil)
        #expect(match("оптика") == nil)  // a short keyword is a whole word
    }

    @Test func aCatastrophicRegexStopsAtItsTimeLimit() throws {
        let regex = try NSRegularExpression(pattern: "^(a+)+$")
        let started = ContinuousClock.now
        let matched = RuleMatcher.firstMatch(regex, in: String(repeating: "a", count: 40) + "b", limit: .milliseconds(50))
        #expect(!matched)
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(throws: BotSettingsError.self) { try Rule.check(.regex("(unclosed")) }
    }

    @Test func businessHoursInTheShopsTimeZone() throws {
        let hours = try BusinessHours.parse(timezone: "Europe/Moscow", week: [("mon-fri", "09:00-21:00"), ("sat", "10:00-18:00")])
        // 2026-12-02 is a Wednesday; 05:30 UTC is 08:30 in Moscow, 06:30 UTC is 09:30.
        let formatter = ISO8601DateFormatter()
        #expect(!hours.isOpen(at: try #require(formatter.date(from: "2026-12-02T05:30:00Z"))))
        #expect(hours.isOpen(at: try #require(formatter.date(from: "2026-12-02T06:30:00Z"))))
        #expect(!hours.isOpen(at: try #require(formatter.date(from: "2026-12-06T10:00:00Z"))))  // Sunday
        #expect(throws: BotSettingsError.self) { try BusinessHours.parse(timezone: "Mars/Olympus", week: [("mon", "09:00-18:00")]) }
        #expect(throws: BotSettingsError.self) { try BusinessHours.parse(timezone: "UTC", week: [("monday", "09:00-18:00")]) }
        #expect(throws: BotSettingsError.self) { try BusinessHours.parse(timezone: "UTC", week: [("mon", "18:00-09:00")]) }
        #expect(BusinessHours(json: hours.json) == hours)
    }

    @Test func retrievalWeighsWordsTyposAndSynonyms() {
        let entries = [
            KnowledgeEntry(source: .faq, id: 1, slug: "delivery-time", title: "Сколько идёт доставка?", answer: "2–6 дней", buttons: []),
            KnowledgeEntry(source: .faq, id: 2, slug: "returns", title: "Как вернуть товар?", answer: "14 дней", buttons: []),
            KnowledgeEntry(source: .article, id: 1, slug: "payment", title: "Оплата", answer: nil, buttons: []),
        ]
        let passages = [
            Passage(entry: 0, part: .question, text: "", stems: ["скольк", "идет", "доставк"]),
            Passage(entry: 1, part: .question, text: "", stems: ["вернут", "товар", "возврат"]),
            Passage(entry: 2, part: .title, text: "", stems: ["оплат"]),
            Passage(entry: 2, part: .paragraph, text: "", stems: ["карт", "оплат", "сбп"]),
        ]
        let index = KnowledgeIndex(entries: entries, passages: passages, synonyms: ["посылк": ["доставк"]])
        let retriever = Retriever()
        func top(_ words: [QueryAnalysis.Word]) -> (String?, Double) {
            let ranked = retriever.rank(QueryAnalysis(words: words), in: index)
            return (ranked.first.map { entries[$0.entry].slug }, ranked.first?.score ?? 0)
        }
        #expect(top([.init(word: "доставка", stems: ["доставк"])]).0 == "delivery-time")
        #expect(top([.init(word: "посылка", stems: ["посылк"])]).0 == "delivery-time")  // a synonym
        let typo = top([.init(word: "вазврат", stems: ["вазврат"], correction: ("возврат", ["возврат"], 0.45))])
        #expect(typo.0 == "returns")
        #expect(typo.1 > 0.5)
        let offTopic = top([.init(word: "погода", stems: ["погод"]), .init(word: "завтра", stems: ["завтр"])])
        #expect(offTopic.0 == nil)
        let weak = top([
            .init(word: "погода", stems: ["погод"]), .init(word: "оплата", stems: ["оплат"]), .init(word: "марс", stems: ["марс"]),
        ])
        #expect(weak.1 < Retriever.defaultThreshold + 0.2)
    }

    /// A small knowledge: two FAQ entries and an article, each passage with a vector along its own axis.
    static func index(offTopic: Set<String> = [], vectors: Bool = false) -> KnowledgeIndex {
        let entries = [
            KnowledgeEntry(source: .faq, id: 1, slug: "delivery-time", title: "Сколько идёт доставка?", answer: "2–6 дней", buttons: []),
            KnowledgeEntry(source: .faq, id: 2, slug: "returns", title: "Как вернуть товар?", answer: "14 дней", buttons: []),
            KnowledgeEntry(source: .article, id: 1, slug: "payment", title: "Оплата", answer: nil, buttons: []),
        ]
        // A passage's cosine with the query [1, 0, 0, 0] is `cosine`; each entry leans along its own axis.
        func vector(_ cosine: Float, axis: Int) -> [Float]? {
            guard vectors else { return nil }
            var vector: [Float] = [cosine, 0, 0, 0]
            vector[axis] = (1 - cosine * cosine).squareRoot()
            return vector
        }
        let passages = [
            Passage(entry: 0, part: .question, text: "", stems: ["скольк", "идет", "доставк", "москв"], vector: vector(0.88, axis: 1)),
            Passage(entry: 0, part: .answer, text: "", stems: ["дне"], vector: vector(0.80, axis: 1)),
            Passage(entry: 1, part: .question, text: "", stems: ["вернут", "товар", "возврат"], vector: vector(0.75, axis: 2)),
            Passage(entry: 2, part: .title, text: "", stems: ["оплат"], vector: vector(0.70, axis: 3)),
        ]
        return KnowledgeIndex(
            entries: entries, passages: passages, synonyms: ["ship": ["доставк"], "deliveri": ["доставк"]], offTopicStems: offTopic)
    }

    @Test func anEnglishWordFindsRussianKnowledgeThroughTheGlossary() {
        let glossary = Synonym.builtIn
        #expect(glossary.contains(Synonym(word: "shipping", means: "доставка доставлять отправка отправлять")))
        #expect(Set(glossary.map { $0.word + "→" + $0.means }).count == glossary.count)
        let ranked = Retriever().rank(
            QueryAnalysis(words: [.init(word: "shipping", stems: ["ship"]), .init(word: "moscow", stems: ["moscow"])]), in: Self.index())
        #expect(ranked.first.map { Self.index().entries[$0.entry].slug } == "delivery-time")
    }

    @Test func anOffTopicWordKeepsACityQuestionOutUnlessTheShopUsesIt() {
        let weather = QueryAnalysis(words: [.init(word: "погода", stems: ["погод"]), .init(word: "москве", stems: ["москв"])])
        let plain = Retriever().rank(weather, in: Self.index()).first
        let marked = Retriever().rank(weather, in: Self.index(offTopic: ["погод"])).first
        #expect((marked?.score ?? 0) < (plain?.score ?? 0))
        #expect((marked?.score ?? 0) < Retriever.defaultThreshold)
        // A shop whose knowledge says "погода" reads it as its own word.
        var index = Self.index(offTopic: ["погод"])
        index = KnowledgeIndex(
            entries: index.entries, passages: index.passages + [Passage(entry: 0, part: .phrasing, text: "", stems: ["погод"])],
            synonyms: index.synonyms, offTopicStems: ["погод"])
        #expect(index.offTopicStems.isEmpty)
        #expect(Retriever().rank(weather, in: index).first.map { index.entries[$0.entry].slug } == "delivery-time")
    }

    @Test func confidenceIsAProbabilityThatGrowsWithRelevanceInBothModes() {
        let retriever = Retriever()
        let words: [QueryAnalysis.Word] = [.init(word: "доставка", stems: ["доставк"]), .init(word: "москва", stems: ["москв"])]
        for vectors in [false, true] {
            let index = Self.index(vectors: vectors)
            let query: [Float]? = vectors ? [1, 0, 0, 0] : nil
            let ranked = retriever.rank(QueryAnalysis(words: words), in: index, queryVector: query)
            let top = try? #require(ranked.first)
            #expect(top.map { index.entries[$0.entry].slug } == "delivery-time")
            #expect(ranked.allSatisfy { (0...1).contains($0.score) })
            #expect((top?.score ?? 0) >= Retriever.defaultThreshold, "vectors: \(vectors)")
            // Candidates come by relevance; a less relevant one is never more sure of itself in lexical mode.
            #expect(zip(ranked, ranked.dropFirst()).allSatisfy { $0.relevance >= $1.relevance })
            if !vectors { #expect(zip(ranked, ranked.dropFirst()).allSatisfy { $0.score >= $1.score }) }
        }
        // With vectors, an entry's cosine is the mean of its best passages: the answer's weaker cosine pulls it down,
        // while the explanation shows the best one.
        let ranked = retriever.rank(QueryAnalysis(words: []), in: Self.index(vectors: true), queryVector: [1, 0, 0, 0])
        let delivery = ranked.first { $0.entry == 0 }
        #expect(delivery?.semantic.map { abs($0 - 0.88) < 0.001 } == true)
        #expect(delivery.map { abs($0.relevance - retriever.fused(lexical: 0, cosine: 0.84)) < 0.001 } == true)
    }
}
