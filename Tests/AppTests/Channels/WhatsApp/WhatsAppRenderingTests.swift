import Foundation
import Testing

@testable import App

extension WhatsAppTests {
    @Suite("WhatsApp rendering")
    struct WhatsAppRenderingTests {
        static func object(_ outgoing: WhatsAppOutgoing) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(outgoing.json)) as? [String: Any])
        }

        static func buttons(_ titles: [String]) -> [MessagePart] { titles.map { MessagePart(type: .button, title: $0) } }

        @Test func rendersAPlainTextAsTheAPIDocumentsIt() throws {
            let rendered = WhatsAppRendering.render(OutboundMessage(text: "Доставка 2–3 дня."), to: "79161234567")
            #expect(rendered.count == 1)
            let object = try Self.object(rendered[0])
            #expect(object["messaging_product"] as? String == "whatsapp")
            #expect(object["recipient_type"] as? String == "individual")
            #expect(object["to"] as? String == "79161234567")
            #expect(object["type"] as? String == "text")
            let text = try #require(object["text"] as? [String: Any])
            #expect(text["body"] as? String == "Доставка 2–3 дня.")
            #expect(text["preview_url"] as? Bool == true)
            #expect(object["interactive"] == nil && object["template"] == nil)
        }

        @Test func appendsLinksAsTitleAndURLLines() {
            let message = OutboundMessage(
                text: "Смотрите:",
                parts: [
                    MessagePart(type: .link, title: "Оплата", url: "https://shop.example/pay"),
                    MessagePart(type: .link, title: "", url: "https://shop.example/faq"),
                ])
            let rendered = WhatsAppRendering.render(message, to: "7")
            #expect(rendered.map(\.text?.body) == ["Смотрите:\n\nОплата: https://shop.example/pay\nhttps://shop.example/faq"])
        }

        @Test func rendersThreeQuickRepliesAsReplyButtonsCutAt20() throws {
            let message = OutboundMessage(
                text: "Что вас интересует?", parts: Self.buttons(["Доставка", "Оплата", "Возврат и обмен товара надлежащего качества"]))
            let rendered = WhatsAppRendering.render(message, to: "7")
            #expect(rendered.count == 1)
            let object = try Self.object(rendered[0])
            #expect(object["type"] as? String == "interactive")
            let interactive = try #require(object["interactive"] as? [String: Any])
            #expect(interactive["type"] as? String == "button")
            #expect((interactive["body"] as? [String: Any])?["text"] as? String == "Что вас интересует?")
            let buttons = try #require((interactive["action"] as? [String: Any])?["buttons"] as? [[String: Any]])
            #expect(buttons.map { $0["type"] as? String } == ["reply", "reply", "reply"])
            let replies = buttons.compactMap { $0["reply"] as? [String: String] }
            #expect(replies.map { $0["id"] } == ["b0", "b1", "b2"])
            #expect(replies.map { $0["title"] } == ["Доставка", "Оплата", "Возврат и обмен това"])
            #expect(replies.allSatisfy { ($0["title"] ?? "").count <= 20 })
        }

        @Test func rendersFiveQuickRepliesAsAListInTheMessagesLanguage() throws {
            let titles = ["Доставка", "Оплата", "Возврат", "Гарантия", "Размеры одежды и обуви по таблице"]
            for (language, label) in [(BotLanguage.ru, "Варианты"), (.en, "Options")] {
                let rendered = WhatsAppRendering.render(
                    OutboundMessage(text: "Выберите тему", parts: Self.buttons(titles), language: language), to: "7")
                #expect(rendered.count == 1)
                let interactive = try #require(try Self.object(rendered[0])["interactive"] as? [String: Any])
                #expect(interactive["type"] as? String == "list")
                let action = try #require(interactive["action"] as? [String: Any])
                #expect(action["button"] as? String == label)
                let sections = try #require(action["sections"] as? [[String: Any]])
                #expect(sections.count == 1)
                let rows = try #require(sections[0]["rows"] as? [[String: String]])
                #expect(rows.map { $0["id"] } == ["b0", "b1", "b2", "b3", "b4"])
                #expect(rows.last?["title"] == "Размеры одежды и обуви п")
            }
        }

        @Test func aListKeepsTenRowsAndDropsRepeatedTitles() {
            let titles = (1...12).map { "Вариант номер \($0) из длинного списка" } + ["Доставка", "Доставка"]
            let rendered = WhatsAppRendering.render(OutboundMessage(text: "Выберите", parts: Self.buttons(titles)), to: "7")
            let rows = rendered.last?.interactive?.action.sections?.first?.rows ?? []
            #expect(rows.count == 10)
            #expect(Set(rows.map(\.title)).count == 10)
            let buttons = WhatsAppRendering.render(OutboundMessage(text: "?", parts: Self.buttons(["Да", "Да", "Нет"])), to: "7")
            #expect(buttons.last?.interactive?.action.buttons?.map(\.reply.title) == ["Да", "Нет"])
        }

        @Test func splitsALongTextAt4096Characters() {
            let paragraph = Array(repeating: "Слово", count: 150).joined(separator: " ") + "\n"
            let text = String(repeating: paragraph, count: 10)
            let rendered = WhatsAppRendering.render(OutboundMessage(text: text), to: "7")
            let bodies = rendered.compactMap(\.text?.body)
            #expect(bodies.count == rendered.count)
            #expect(bodies.count == 3)
            #expect(bodies.allSatisfy { $0.utf16.count <= 4096 && !$0.isEmpty })
            // Cut at line breaks, nothing lost.
            #expect(bodies.joined(separator: "\n") == text.trimmingCharacters(in: .whitespacesAndNewlines))
        }

        @Test func aWordlessTextIsCutHard() {
            let pieces = WhatsAppRendering.split(String(repeating: "я", count: 9000))
            #expect(pieces.map(\.count) == [4096, 4096, 808])
        }

        @Test func aTextTooLongForButtonsGoesFirst() throws {
            let text = String(repeating: "Подробный ответ. ", count: 80)
            let rendered = WhatsAppRendering.render(
                OutboundMessage(text: text, parts: Self.buttons(["Да", "Нет"]), language: .en), to: "7")
            #expect(rendered.map(\.type) == ["text", "interactive"])
            #expect(rendered[0].text?.body == text.trimmingCharacters(in: .whitespaces))
            #expect(rendered[1].interactive?.body.text == "Choose an option:")
            #expect(rendered[1].interactive?.action.buttons?.count == 2)
        }

        @Test func rendersATemplateWithItsLanguage() throws {
            let template = WhatsAppTemplate(name: "order_followup", language: "ru", text: "Здравствуйте! Ваш заказ {{1}}…")
            let rendered = WhatsAppRendering.render(
                OutboundMessage(text: "ignored", parts: Self.buttons(["Да"]), template: template), to: "7")
            #expect(rendered.count == 1)
            let object = try Self.object(rendered[0])
            #expect(object["type"] as? String == "template")
            let body = try #require(object["template"] as? [String: Any])
            #expect(body["name"] as? String == "order_followup")
            #expect((body["language"] as? [String: String])?["code"] == "ru")
            #expect(object["text"] == nil)
        }

        @Test func anEmptyMessageRendersNothing() {
            #expect(WhatsAppRendering.render(OutboundMessage(text: "  \n"), to: "7").isEmpty)
            // Buttons alone get the short body.
            let buttons = WhatsAppRendering.render(OutboundMessage(text: "", parts: Self.buttons(["Да"])), to: "7")
            #expect(buttons.map(\.interactive?.body.text) == ["Выберите вариант:"])
        }
    }
}
