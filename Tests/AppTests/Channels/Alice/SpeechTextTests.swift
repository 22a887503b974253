import Foundation
import Testing

@testable import App

@Suite("Speech text: what Alice says and shows")
struct SpeechTextTests {
    @Test(arguments: [
        ("Доставка стоит 1 500 ₽.", "Доставка стоит 1500 рублей."),
        ("От 1500 руб. бесплатно.", "От 1500 рублей бесплатно."),
        ("1 рубль, 2 руб., 5 р., 21 ₽, 11 ₽, 1,5 ₽", "1 рубль, 2 рубля, 5 рублей, 21 рубль, 11 рублей, 1,5 рубля."),
        ("Скидка 1%, 3%, 10% и 1,5%.", "Скидка 1 процент, 3 процента, 10 процентов и 1,5 процента."),
        ("В упаковке 5 шт., цена за шт. указана.", "В упаковке 5 штук, цена за штук указана."),
        ("Возврат, т.е. обмен, упаковка и т.д.", "Возврат, то есть обмен, упаковка и так далее."),
        ("Магазин открыт с 2015 г. Акция до 2025 г.", "Магазин открыт с 2015 года. Акция до 2025 года."),
        ("Работаем с 2019 г., а в 2024 г. переехали.", "Работаем с 2019 года, а в 2024 году переехали."),
        ("Курьер приедет через 2 ч. или 30 мин.", "Курьер приедет через 2 часа или 30 минут."),
        ("Ждать 1 ч и 21 мин.", "Ждать 1 час и 21 минута."),
        ("Работаем пн–пт 10:00–20:00.", "Работаем с понедельника по пятницу с 10:00 до 20:00."),
        ("Сб: 11:00-18:00, вс выходной.", "Суббота: с 11:00 до 18:00, воскресенье выходной."),
        ("Звоните +7 (495) 123-45-67 или 8 800 555-35-35.", "Звоните +7 495 123 45 67 или 8 800 555 35 35."),
        ("Заказ № 123 готов 🎉🚚!", "Заказ номер 123 готов!"),
        ("Подробнее: https://tea.example/help/delivery", "Подробнее."),
        ("**Важно**: _быстро_ и `точно`", "Важно: быстро и точно."),
        ("[Условия доставки](https://tea.example/d) на сайте", "Условия доставки на сайте."),
    ])
    func russianIsSpokenRight(input: String, spoken: String) {
        #expect(SpeechText.speech(input, language: .ru) == spoken)
    }

    @Test(arguments: [
        ("It costs $15 or 1 500 ₽, 10% off.", "It costs 15 dollars or 1500 rubles, 10 percent off."),
        ("Open Mon-Fri 10:00-20:00, i.e. every weekday.", "Open Monday to Friday from 10:00 to 20:00, that is every weekday."),
        ("Ready in 1 h or 30 min 😀 https://x.example", "Ready in 1 hour or 30 minutes."),
        ("Call +7 495 123 45 67, item № 5", "Call +7 495 123 45 67, item number 5."),
    ])
    func englishIsSpokenRight(input: String, spoken: String) {
        #expect(SpeechText.speech(input, language: .en) == spoken)
    }

    @Test func paragraphsArePausedAndMarkupNeverShown() {
        let answer = "<p>Доставка <b>2–6</b> дней.</p><p>Самовывоз&nbsp;бесплатно.</p>\n\n## Оплата\n- картой\n- при получении"
        #expect(
            SpeechText.speech(answer, language: .ru)
                == "Доставка 2–6 дней. sil <[300]> Самовывоз бесплатно. sil <[300]> Оплата. картой. при получении.")
        let shown = SpeechText.display(answer + " д+ома sil <[500]>")
        #expect(shown == "Доставка 2–6 дней.\n\nСамовывоз бесплатно.\n\nОплата\nкартой\nпри получении дома")
        #expect(!shown.contains("sil") && !shown.contains("<") && !shown.contains("+"))
        // Links stay on the screen; only speech drops them.
        #expect(SpeechText.display("Подробнее: https://tea.example/x") == "Подробнее: https://tea.example/x")
    }

    @Test(arguments: [
        (1, "рубль"), (2, "рубля"), (4, "рубля"), (5, "рублей"), (11, "рублей"), (14, "рублей"), (21, "рубль"), (112, "рублей"),
        (1001, "рубль"),
    ])
    func russianPluralAgrees(number: Int, word: String) {
        #expect(RussianPlural.form(String(number), "рубль", "рубля", "рублей") == word)
    }
}
