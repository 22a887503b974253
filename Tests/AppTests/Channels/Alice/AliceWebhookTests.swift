import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import App

@Suite("Alice's webhook: verification, answers in the response, hand-offs, redeliveries, isolation")
struct AliceWebhookTests {
    @Test func aQuestionGetsTheShopsAnswerWithSpeechAndButtons() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "tea", answerSuffix: " Стоимость 1 500 ₽.")
            let connection = try await connectAlice(env, tenant)
            try await env.withApp { client in
                let alice = AliceClient(client: client, host: "tea.vitrina.test", path: connection.webhookPath)
                let answer = try await alice.say("Сколько идёт доставка?", messageID: 1)
                #expect(answer["text"] as? String == "Доставка занимает от 2 до 6 дней. Стоимость 1 500 ₽.")
                #expect(answer["tts"] as? String == "Доставка занимает от 2 до 6 дней. Стоимость 1500 рублей.")
                #expect(answer["end_session"] as? Bool == false)
                let buttons = try #require(answer["buttons"] as? [[String: Any]])
                #expect(buttons.first?["url"] as? String == "https://tea.vitrina.test/help/delivery")
                #expect(buttons.first?["hide"] as? Bool == false)
                // Stored as the engine stores every turn; the answer is marked sent once a response carried it.
                let messages = try await aliceMessages(env, tenant)
                #expect(messages.map(\.0) == ["shopper", "bot"] && messages.last?.2 == "sent")
            }
        }
    }

    @Test func pingGreetingHelpAndGoodbyeStoreNothing() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "tea")
            let connection = try await connectAlice(env, tenant)
            try await env.withApp { client in
                let alice = AliceClient(client: client, host: "tea.vitrina.test", path: connection.webhookPath)
                let ping = try await alice.post(aliceJSON(command: "ping", utterance: "ping", messageID: 0))
                #expect(ping.status == .ok && (ping.object["response"] as? [String: Any])?["text"] as? String == "Навык на связи.")
                let greeting = try await alice.say("", messageID: 0, new: true)
                #expect((greeting["text"] as? String)?.hasPrefix("Здравствуйте! Я Ассистент магазина Tea.") == true)
                #expect(greeting["end_session"] as? Bool == false)
                for phrase in ["Помощь", "Что ты умеешь?"] {
                    let help = try await alice.say(phrase, messageID: 1)
                    let text = try #require(help["text"] as? String)
                    #expect(text.hasPrefix("Здравствуйте!") && text.contains("«Сколько идёт доставка?»") && text.contains("«хватит»"))
                    #expect((help["buttons"] as? [[String: Any]])?.first?["title"] as? String == "Сколько идёт доставка?")
                }
                let english = try await alice.say("What can you do?", messageID: 2)
                #expect((english["text"] as? String)?.contains("“Do you ship abroad?”") == true)
                let goodbye = try await alice.say("Хватит", messageID: 3)
                #expect(goodbye["text"] as? String == "До свидания! Будем рады помочь снова." && goodbye["end_session"] as? Bool == true)
                #expect(try await aliceMessages(env, tenant).isEmpty)
            }
        }
    }

    @Test func aForeignSkillAnUnknownKeyAndABadBodyAreRefusedBeforeAnythingIsStored() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "tea")
            let connection = try await connectAlice(env, tenant)
            try await env.withApp { client in
                let alice = AliceClient(client: client, host: "tea.vitrina.test", path: connection.webhookPath)
                let foreign = try await alice.post(aliceJSON(command: "доставка", utterance: "доставка", skill: "another-skill"))
                #expect(foreign.status == .forbidden && foreign.object["error"] as? String == "skill")
                let unknown = try await AliceClient(
                    client: client, host: "tea.vitrina.test", path: "/hooks/alice/" + String(repeating: "a", count: 32)
                )
                .post(aliceJSON(command: "доставка", utterance: "доставка"))
                #expect(unknown.status == .notFound && unknown.object["error"] as? String == "not_found")
                #expect(try await alice.post("{\"session\": 1}").status == .badRequest)
                #expect(try await alice.post(String(repeating: " ", count: 70_000)).status == .contentTooLarge)
                #expect(try await aliceMessages(env, tenant).isEmpty)
            }
        }
    }

    @Test func aRedeliveredTurnIsStoredOnceAndAnsweredTheSame() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "tea")
            let connection = try await connectAlice(env, tenant)
            try await env.withApp { client in
                let alice = AliceClient(client: client, host: "tea.vitrina.test", path: connection.webhookPath)
                let first = try await alice.say("Как вернуть товар?", messageID: 5)
                let again = try await alice.say("Как вернуть товар?", messageID: 5)
                #expect(first["text"] as? String == "Вернуть товар можно в течение 14 дней.")
                #expect(again["text"] as? String == first["text"] as? String && again["tts"] as? String == first["tts"] as? String)
                #expect(try await aliceMessages(env, tenant).map(\.0) == ["shopper", "bot"])
            }
        }
    }

    @Test func aHandOffSaysTheShopsContactAndEndsTheSession() async throws {
        try await TestEnvironment.with { env in
            let tenant = try await makeBotShop(env, "tea")
            let connection = try await connectAlice(env, tenant, contact: "+7 495 123-45-67")
            try await env.withApp { client in
                let alice = AliceClient(client: client, host: "tea.vitrina.test", path: connection.webhookPath)
                let answer = try await alice.say("Где мой заказ № 1234567?", messageID: 1)
                #expect(answer["text"] as? String == "Чтобы поговорить с человеком, позвоните нам: +7 495 123-45-67.")
                #expect(answer["tts"] as? String == "Чтобы поговорить с человеком, позвоните нам: +7 495 123 45 67.")
                #expect(answer["end_session"] as? Bool == true)
                // While people have the conversation the bot keeps quiet, and Alice says the contact again.
                let later = try await alice.say("Алло?", messageID: 2)
                #expect((later["text"] as? String)?.contains("+7 495 123-45-67") == true && later["end_session"] as? Bool == true)
                let state = try await env.services.tenants.withTenant(tenant) {
                    try await $0.value(String.self, "SELECT state FROM conversations")
                }
                #expect(state == "waiting")
            }
        }
    }

    @Test func aShopsKeyIsUnknownOnAnotherShopsHost() async throws {
        try await TestEnvironment.with { env in
            let tea = try await makeBotShop(env, "tea")
            _ = try await makeBotShop(env, "coffee")
            let connection = try await connectAlice(env, tea)
            try await env.withApp { client in
                let elsewhere = AliceClient(client: client, host: "coffee.vitrina.test", path: connection.webhookPath)
                let refused = try await elsewhere.post(aliceJSON(command: "доставка", utterance: "доставка"))
                #expect(refused.status == .notFound)
                let own = AliceClient(client: client, host: "tea.vitrina.test", path: connection.webhookPath)
                #expect(try await own.post(aliceJSON(command: "доставка", utterance: "доставка")).status == .ok)
            }
        }
    }
}
