import Foundation
import Testing

@testable import App

@Suite("Alice's rendering and the turns' intents")
struct AliceRenderingTests {
    let localizer = try! Localizer(folder: TestDatabase.packageRoot + "/Templates/locales")

    @Test func aLongAnswerIsCutAtASentenceEnd() {
        let sentence = "Доставка по Москве занимает два дня. "
        let long = String(repeating: sentence, count: 40)
        let response = AliceRendering.response(AliceSpeech([long]), language: .ru, linkBase: nil)
        #expect(response.response.text.count <= 1024 && response.response.text.hasSuffix("дня."))
        #expect(response.response.tts.count <= 1024 && response.response.tts.hasSuffix("дня."))
        // No sentence end within reach: cut at a space, with an ellipsis.
        let words = AliceRendering.cut(String(repeating: "слово ", count: 300), limit: 100)
        #expect(words.count <= 100 && words.hasSuffix("слово…"))
        #expect(AliceRendering.cut("Коротко.", limit: 100) == "Коротко.")
    }

    @Test func buttonsAreAtMostFiveWithQuickRepliesHiddenAndLinksKept() {
        let parts =
            (1...4).map { MessagePart(type: .button, title: "Вопрос \($0)") } + [
                MessagePart(type: .link, title: "О доставке", url: "/help/delivery"),
                MessagePart(type: .link, title: "Ещё", url: "https://tea.example/more"),
            ]
        let buttons = AliceRendering.buttons(parts, linkBase: "https://tea.vitrina.test")
        #expect(buttons.count == 5)
        #expect(
            buttons[0] == AliceResponse.Button(title: "Вопрос 1", payload: .object(["text": .string("Вопрос 1")]), url: nil, hide: true))
        #expect(
            buttons[4]
                == AliceResponse.Button(title: "О доставке", payload: nil, url: "https://tea.vitrina.test/help/delivery", hide: false))
        let long = AliceRendering.buttons(
            [
                MessagePart(type: .button, title: String(repeating: "а", count: 100)),
                MessagePart(type: .link, title: "Длинная", url: "https://tea.example/" + String(repeating: "x", count: 1100)),
                MessagePart(type: .link, title: "Чужая", url: "javascript:alert(1)"),
            ], linkBase: nil)
        #expect(long.count == 1 && long[0].title.count == 64 && long[0].title.hasSuffix("…"))
    }

    @Test func theResponseIsShapedAsAliceDocumentsIt() throws {
        let speech = AliceSpeech(
            ["Доставка 1 500 ₽.", "Звоните!"], parts: [MessagePart(type: .button, title: "Спасибо")], state: ["pending": .bool(true)])
        let data = try JSONEncoder().encode(AliceRendering.response(speech, language: .ru, linkBase: nil))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let response = try #require(json["response"] as? [String: Any])
        #expect(json["version"] as? String == "1.0")
        #expect((json["session_state"] as? [String: Any])?["pending"] as? Bool == true)
        #expect(response["text"] as? String == "Доставка 1 500 ₽.\n\nЗвоните!")
        #expect(response["tts"] as? String == "Доставка 1500 рублей. sil <[300]> Звоните!")
        #expect(response["end_session"] as? Bool == false)
        #expect((response["buttons"] as? [[String: Any]])?.first?["hide"] as? Bool == true)
    }

    @Test func aHandOffSaysHowToReachAPersonAndEndsTheSession() {
        let phone = AliceRendering.handoff(contact: "+7 495 123-45-67", language: .ru, localizer: localizer)
        #expect(phone.endSession && phone.paragraphs == ["Чтобы поговорить с человеком, позвоните нам: +7 495 123-45-67."])
        let spoken = AliceRendering.response(phone, language: .ru, linkBase: nil).response.tts
        #expect(spoken.contains("+7 495 123 45 67"))
        let chat = AliceRendering.handoff(contact: "https://t.me/tea_shop", language: .en, localizer: localizer)
        #expect(chat.endSession && chat.paragraphs == ["To talk to a person, write to us in the chat: https://t.me/tea_shop"])
        #expect(chat.parts == [MessagePart(type: .link, title: "Open the chat", url: "https://t.me/tea_shop")])
        let none = AliceRendering.handoff(contact: nil, language: .ru, localizer: localizer)
        #expect(none.endSession && none.paragraphs == ["Оператор ответит вам в чате магазина."])
    }

    @Test(arguments: [
        ("ping", "ping", "SimpleUtterance", AliceIntent.ping),
        ("", "", "SimpleUtterance", .greeting),
        ("помощь", "Помощь", "SimpleUtterance", .help(.ru)),
        ("что ты умеешь", "Что ты умеешь?", "SimpleUtterance", .help(.ru)),
        ("what can you do", "What can you do?", "SimpleUtterance", .help(.en)),
        ("хватит", "Хватит!", "SimpleUtterance", .goodbye(.ru)),
        ("алиса стоп", "Алиса, стоп", "SimpleUtterance", .goodbye(.ru)),
        ("exit", "exit", "SimpleUtterance", .goodbye(.en)),
        ("что там", "Что там?", "SimpleUtterance", .followUp),
        ("whats up", "What's up?", "SimpleUtterance", .followUp),
        ("сколько идет доставка", "Сколько идёт доставка?", "SimpleUtterance", .ask("Сколько идёт доставка?")),
    ])
    func theTurnsIntentIsRecognised(command: String, utterance: String, type: String, intent: AliceIntent) throws {
        let request = try aliceRequest(command: command, utterance: utterance, type: type)
        #expect(AliceIntent.classify(request) == intent)
    }

    @Test func aPressedButtonSaysItsPayloadsText() throws {
        let json = aliceJSON(command: "", utterance: nil, type: "ButtonPressed", payload: #"{"text": "Как вернуть товар?"}"#)
        let request = try JSONDecoder().decode(AliceRequest.self, from: Data(json.utf8))
        #expect(request.words == "Как вернуть товар?" && AliceIntent.classify(request) == .ask("Как вернуть товар?"))
        #expect(
            request.dedupeKey == "2eac4854-fce721f3-b845abba-20d60:3"
                && request.shopper == "AC9WC3DF6FCE052E45A4566A48E6B7193774B84814CE49A922E163B8B29881DC")
    }

    private func aliceRequest(command: String, utterance: String, type: String) throws -> AliceRequest {
        try JSONDecoder().decode(AliceRequest.self, from: Data(aliceJSON(command: command, utterance: utterance, type: type).utf8))
    }
}
