import App
import Foundation

/// W3a's shops and shoppers: every shop's bot knowledge (FAQ entries with phrasings, help articles, in Russian and
/// English, each answer marked with its shop) and a deterministic stream of shoppers' questions.
enum ShopperQuestions {
    /// The shop's FAQ: slug, question, phrasings, answer (marked `[s{i}]` so a reply shows whose knowledge it came from).
    static func faq(_ shop: Int) -> [FAQEntry] {
        let entries: [(String, String, [String], String)] = [
            (
                "delivery-time", "Сколько идёт доставка?",
                ["Когда привезут заказ?", "Сроки доставки по России", "Как долго ждать посылку"],
                "Курьер привезёт заказ за 1–3 дня, в другие города СДЭК доставляет за 2–6 рабочих дней."
            ),
            (
                "delivery-cost", "Сколько стоит доставка?", ["Цена доставки", "Бесплатная доставка есть?"],
                "Доставка бесплатна от 3000 ₽, иначе 350 ₽ по России."
            ),
            (
                "payment", "Как оплатить заказ?", ["Способы оплаты", "Можно оплатить картой?", "Оплата через СБП"],
                "Оплатить можно картой, через СБП или при получении."
            ),
            (
                "returns", "Как вернуть товар?", ["Возврат товара", "Можно ли сдать покупку обратно", "Не подошёл размер"],
                "Вернуть товар можно в течение 14 дней, если сохранены бирки и упаковка."
            ),
            (
                "order-status", "Где мой заказ?", ["Как отследить посылку", "Трек-номер заказа", "Статус заказа"],
                "Трек-номер приходит в письме после отправки; статус виден в личном кабинете."
            ),
            (
                "pickup", "Есть ли самовывоз?", ["Можно забрать самому", "Пункты выдачи"],
                "Самовывоз из пункта выдачи на Тверской, 12, ежедневно с 10 до 21."
            ),
            (
                "warranty", "Какая гарантия на товары?", ["Гарантийный срок", "Сломалось по гарантии"],
                "Гарантия 12 месяцев с даты покупки; ремонт или замена за наш счёт."
            ),
            (
                "wholesale", "Продаёте оптом?", ["Оптовые цены", "Скидка для юрлиц"],
                "Опт от 30 000 ₽: напишите на opt@example.ru, пришлём прайс."
            ),
            (
                "shipping-abroad", "Do you ship abroad?", ["international shipping", "delivery to Kazakhstan"],
                "We ship to Kazakhstan, Belarus and Armenia in 5–10 days."
            ),
            (
                "payment-en", "How can I pay?", ["payment methods", "do you accept credit cards"],
                "We accept cards, SBP and cash on delivery."
            ),
        ]
        return entries.map { slug, question, phrasings, answer in
            FAQEntry(slug: slug, question: question, phrasings: phrasings, answer: "[s\(shop)] " + answer)
        }
    }

    static func articles(_ shop: Int) -> [HelpArticle] {
        [
            HelpArticle(
                slug: "delivery", title: "Доставка",
                body: "Отправляем заказы каждый день, кроме воскресенья.\n\nПо Москве курьер привезёт заказ на следующий день."
                    + "\n\nВ другие города доставляет СДЭК и Почта России. [s\(shop)]", position: 1),
            HelpArticle(
                slug: "care", title: "Уход за изделиями",
                body: "Стирайте при 30 градусах, не отбеливайте.\n\nКожаные изделия протирайте влажной тканью. [s\(shop)]", position: 2),
            HelpArticle(
                slug: "sizes", title: "Size guide",
                body:
                    "Measure your chest and waist and pick the size from the table.\n\nIf you are between sizes, take the larger one. [s\(shop)]",
                position: 3),
        ]
    }

    /// What shoppers ask most, word for word: answerable ones (in other words than the FAQ's), English, greetings and
    /// off-topic questions. These repeat across shops and conversations, so their query vectors come from the cache.
    static let frequent = [
        "сколько дней идет доставка", "когда привезут мой заказ", "доставка платная?", "сколько стоит доставка в регионы",
        "можно оплатить картой", "оплата при получении есть?", "как вернуть товар если не подошел", "хочу сдать покупку обратно",
        "где мой заказ", "как отследить посылку", "есть самовывоз?", "где пункт выдачи", "какая гарантия",
        "сломалось по гарантии что делать",
        "продаете оптом?", "скидка для юрлиц есть", "Do you ship to Kazakhstan?", "how can I pay", "do you accept credit cards",
        "what is your return policy", "how long is delivery", "привет", "спасибо!", "добрый день", "как стирать куртку",
        "какой размер выбрать", "у вас есть подарочные сертификаты?", "можно ли курить в магазине", "какая погода завтра",
        "расскажи анекдот", "вы работаете в выходные?", "есть ли скидки для студентов", "what size should I take",
        "сроки доставки в Казань", "трек номер не пришел", "можно ли вернуть без чека", "оплата через сбп",
        "бесплатная доставка от какой суммы",
        "how do I track my order", "пункты выдачи в спб",
    ]

    static let cities = [
        "Москву", "Казань", "Новосибирск", "Екатеринбург", "Самару", "Омск", "Ростов", "Уфу", "Пермь", "Воронеж", "Тюмень", "Сочи",
        "Краснодар", "Иркутск", "Томск", "Владивосток", "Калининград", "Мурманск", "Якутск", "Тверь",
    ]
    static let cityTemplates = [
        "сколько идет доставка в %@", "доставка в %@ платная?", "есть пункт выдачи в %@?", "как быстро привезут в %@",
        "отправляете в %@?",
    ]

    /// The `n`-th question of client `client`: 60 % from `frequent`, 25 % a question about one of 20 cities (100
    /// texts, repeated over a run), 15 % about an order number (new every time: the cache never has it).
    static func question(client: Int, n: Int) -> String {
        var s = UInt64(truncatingIfNeeded: client &* 7919 &+ n &* 104_729) &+ 0x9E37_79B9
        s = (s ^ (s >> 31)) &* 0xBF58_476D_1CE4_E5B9
        s ^= s >> 29
        let pick = Int(s % 100)
        let r = Int((s >> 8) % 1_000_000)
        if pick < 60 { return frequent[r % frequent.count] }
        if pick < 85 {
            return String(format: cityTemplates[r % cityTemplates.count], cities[(r / 7) % cities.count])
        }
        return ["где мой заказ %d", "заказ %d еще не пришел", "когда доставят заказ номер %d"][r % 3].replacingOccurrences(
            of: "%d", with: String(100_000 + r % 900_000))
    }
}
