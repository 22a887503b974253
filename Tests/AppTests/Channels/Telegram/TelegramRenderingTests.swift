import Foundation
import Testing

@testable import App

extension TelegramTests {
    @Suite("Telegram rendering")
    struct RenderingTests {
        @Test func textIsEscapedForHTMLAndParsesBackToItself() throws {
            let text = "Скидка <20%> для R&D & \"друзей\" — a<b>c</b>"
            let rendered = TelegramRendering.render(OutboundMessage(text: text))
            #expect(rendered == [TelegramOutgoing(html: "Скидка &lt;20%&gt; для R&amp;D &amp; \"друзей\" — a&lt;b&gt;c&lt;/b&gt;")])
            #expect(try TelegramHTMLCheck.plainText(rendered[0].html) == text)
        }

        @Test func linksBecomeURLButtonsAndQuickRepliesCallbackButtons() {
            let parts = [
                MessagePart(type: .button, title: "Да"), MessagePart(type: .button, title: "Нет"),
                MessagePart(type: .button, title: "Позвать оператора, пожалуйста"),
                MessagePart(type: .link, title: "Условия доставки", url: "https://shop.example/delivery"),
                MessagePart(type: .link, title: "Без адреса"), MessagePart(type: .link, title: "Плохой", url: "javascript:alert(1)"),
                MessagePart(type: .button, title: "  "),
            ]
            let keyboard = TelegramRendering.keyboard(for: parts)
            #expect(
                keyboard?.rows == [
                    [.init(text: "Да", callbackData: "Да"), .init(text: "Нет", callbackData: "Нет")],
                    [.init(text: "Позвать оператора, пожалуйста", callbackData: "Позвать оператора, пожалуйста")],
                    [.init(text: "Условия доставки", url: "https://shop.example/delivery")],
                ])
            #expect(TelegramRendering.keyboard(for: []) == nil)
            #expect(TelegramRendering.keyboard(for: [MessagePart(type: .link, title: "x")]) == nil)
        }

        @Test func theKeyboardEncodesAsTheBotAPIsInlineKeyboard() throws {
            let keyboard = TelegramKeyboard(rows: [[.init(text: "A", callbackData: "a")], [.init(text: "B", url: "https://b.example")]])
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let json = String(decoding: try encoder.encode(keyboard), as: UTF8.self)
            #expect(json == #"{"inline_keyboard":[[{"callback_data":"a","text":"A"}],[{"text":"B","url":"https:\/\/b.example"}]]}"#)
        }

        @Test func callbackDataIsCutTo64BytesBetweenCharacters() {
            let russian = String(repeating: "ж", count: 40)  // 80 bytes
            let data = TelegramRendering.callbackData(russian)
            #expect(data == String(repeating: "ж", count: 32) && data.utf8.count == 64)
            let emoji = String(repeating: "👍🏽", count: 10)  // 8 bytes each
            #expect(TelegramRendering.callbackData(emoji) == String(repeating: "👍🏽", count: 8))
            #expect(TelegramRendering.callbackData("Да") == "Да")
            #expect(TelegramRendering.callbackData("a" + russian).utf8.count == 63)
        }

        @Test func aLongTextSplitsAtParagraphsWithTheKeyboardOnTheLast() {
            let paragraph = String(repeating: "Слово ", count: 400).trimmingCharacters(in: .whitespaces) + "."  // 2,400 characters
            let text = [paragraph, paragraph, paragraph].joined(separator: "\n\n")
            let rendered = TelegramRendering.render(OutboundMessage(text: text, parts: [MessagePart(type: .button, title: "Ещё")]))
            #expect(rendered.count == 3)
            #expect(rendered.allSatisfy { $0.html == paragraph })
            #expect(rendered.map { $0.keyboard == nil } == [true, true, false])
        }

        @Test func splittingFallsBackToLinesSentencesWordsAndCharacters() {
            let lines = (1...300).map { "Строка номер \($0)" }.joined(separator: "\n")
            let byLines = TelegramRendering.split(lines, limit: 1000)
            #expect(byLines.count > 1 && byLines.allSatisfy { $0.utf16.count <= 1000 })
            #expect(byLines.joined(separator: "\n") == lines)

            let sentences = String(repeating: "Это предложение. ", count: 100).trimmingCharacters(in: .whitespaces)
            let bySentences = TelegramRendering.split(sentences, limit: 500)
            #expect(bySentences.allSatisfy { $0.hasSuffix(".") && $0.utf16.count <= 500 })
            #expect(bySentences.joined(separator: " ") == sentences)

            let words = String(repeating: "слово ", count: 300).trimmingCharacters(in: .whitespaces)
            let byWords = TelegramRendering.split(words, limit: 100)
            #expect(
                byWords.allSatisfy { !$0.hasPrefix(" ") && !$0.hasSuffix(" ") && $0.split(separator: " ").allSatisfy { $0 == "слово" } })
            #expect(byWords.joined(separator: " ") == words)

            let solid = String(repeating: "😀", count: 3000)  // two UTF-16 units each
            let bySize = TelegramRendering.split(solid)
            #expect(bySize.map(\.utf16.count) == [4096, 1904] && bySize.joined() == solid)
        }

        @Test func aFiveThousandCharacterTextBecomesTwoMessagesWithinTheLimit() {
            let text = (1...100).map { "Предложение номер \($0) о доставке и возврате товара, оно длинное." }.joined(separator: " ")
            #expect(text.count > 5000 && text.count < 8000)
            let pieces = TelegramRendering.split(text)
            #expect(pieces.count == 2 && pieces.allSatisfy { $0.utf16.count <= 4096 })
            #expect(pieces[0].hasSuffix("."))
        }

        @Test func emptyMessagesRenderToNothingAndButtonsOnlyGetAPlaceholder() {
            #expect(TelegramRendering.render(OutboundMessage(text: "  \n")) == [])
            let buttons = TelegramRendering.render(OutboundMessage(text: "", parts: [MessagePart(type: .button, title: "OK")]))
            #expect(buttons.count == 1 && buttons[0].html == "…" && buttons[0].keyboard != nil)
        }

        @Test func theHTMLCheckRefusesWhatTelegramRefuses() throws {
            #expect(throws: FakeTelegramRefusal.self) { try TelegramHTMLCheck.plainText("a < b") }
            #expect(throws: FakeTelegramRefusal.self) { try TelegramHTMLCheck.plainText("R&D") }
            #expect(throws: FakeTelegramRefusal.self) { try TelegramHTMLCheck.plainText("<b>bold") }
            #expect(throws: FakeTelegramRefusal.self) { try TelegramHTMLCheck.plainText("<b><i>x</b></i>") }
            #expect(throws: FakeTelegramRefusal.self) { try TelegramHTMLCheck.plainText("<div>x</div>") }
            #expect(throws: FakeTelegramRefusal.self) { try TelegramHTMLCheck.plainText("&nbsp;") }
            #expect(
                try TelegramHTMLCheck.plainText(#"<b>a</b> <a href="https://x.example">&lt;x&gt;</a> &#128077; &quot;q&quot;"#)
                    == "a <x> 👍 \"q\"")
            #expect(try TelegramHTMLCheck.plainText("<tg-spoiler>s</tg-spoiler><pre><code>c</code></pre>") == "sc")
        }
    }
}
