extension Synonym {
    /// English shoppers' words for ordering, delivery, payment, returns and the shop, read as a Russian shop's words
    /// (its texts' forms that stem apart are listed together: "доставка доставлять отправка отправлять").
    static let englishToRussian: [Synonym] = pairs([
        // Delivery
        ("shipping", "доставка доставлять отправка отправлять"), ("shipment", "доставка отправка посылка"),
        ("delivery", "доставка доставлять"), ("deliver", "доставка доставлять"), ("parcel", "посылка доставка"),
        ("package", "посылка упаковка"), ("courier", "курьер курьерская"), ("pickup", "самовывоз забрать пункт выдачи"),
        ("collect", "забрать самовывоз"), ("post", "почта"), ("tracking", "отследить отслеживание трек"),
        ("arrive", "доставка придёт пришёл приехал"), ("express", "экспресс срочная"), ("door", "до двери"),
        ("free", "бесплатно"), ("abroad", "за границу страны"), ("international", "за границу страны"),
        ("overseas", "за границу"), ("country", "страна"), ("suburbs", "пригород"),

        // Payment
        ("pay", "оплата оплатить платить заплатить"), ("payment", "оплата оплатить платёж"), ("cash", "наличные"),
        ("card", "карта"), ("cash on delivery", "при получении"), ("pay on delivery", "при получении"),
        ("installments", "рассрочка частями"), ("invoice", "счёт реквизиты"), ("bill", "счёт"), ("receipt", "чек"),
        ("company", "компания юридическое лицо"), ("legal entity", "юридическое"),
        ("corporate", "корпоративный компания"), ("wholesale", "опт оптом оптовый"), ("money", "деньги"),

        // Prices, discounts, bonuses, gifts
        ("price", "цена стоимость стоит"), ("cost", "стоимость стоит цена"), ("fee", "стоимость платная"),
        ("discount", "скидка промокод"), ("promo", "промокод скидка"), ("coupon", "промокод купон скидка"),
        ("sale", "распродажа скидки"), ("bonus", "бонусы баллы"), ("loyalty", "бонусы баллы бонусная программа"),
        ("cashback", "кешбэк бонусы"), ("gift", "подарок подарки подарочный сертификат"),
        ("present", "подарок подарки"), ("certificate", "сертификат"), ("voucher", "сертификат промокод"),
        ("birthday", "рождения"),

        // Orders, returns, exchanges
        ("order", "заказ заказать"), ("cancel", "отменить отмена"), ("change", "изменить поменять"),
        ("account", "личный кабинет"), ("return", "возврат вернуть вернём"), ("refund", "возврат вернуть вернём"),
        ("exchange", "обмен обменять"), ("replace", "заменить замена"), ("unopened", "невскрытый нераспечатанный"),

        // Defects, warranty, repair
        ("warranty", "гарантия гарантийный"), ("guarantee", "гарантия"), ("broken", "сломался брак разбит разбитый"),
        ("broke", "сломался брак разбит разбитый"), ("damaged", "повреждён повреждение разбит разбитый"),
        ("defective", "брак бракованный дефект"), ("faulty", "брак неисправный"), ("cracked", "трещина треснул"),
        ("repair", "ремонт починить"),

        // The shop and its contacts
        ("phone", "телефон"), ("call", "позвонить звонок"), ("email", "e-mail"), ("contact", "контакты связаться"),
        ("address", "адрес улица ул."), ("location", "адрес"), ("store", "магазин хранить хранение"),
        ("shop", "магазин"), ("open", "открыт"), ("hours", "часы"), ("daily", "ежедневно"),

        // Sizes and fit
        ("size", "размер"), ("height", "рост"), ("age", "возраст"), ("foot", "стопа"), ("measure", "измерить измерьте"),
        ("fit", "подойдёт подходит"), ("compatible", "совместимый подойдёт"), ("model", "модель"),

        // Cities and countries
        ("moscow", "Москва московскому"), ("petersburg", "Санкт-Петербург Петербург"),
        ("spb", "Санкт-Петербург Петербург"), ("novosibirsk", "Новосибирск"), ("yekaterinburg", "Екатеринбург"),
        ("ekaterinburg", "Екатеринбург"), ("kazan", "Казань"), ("novgorod", "Новгород"), ("chelyabinsk", "Челябинск"),
        ("samara", "Самара"), ("omsk", "Омск"),
        // "Ростов" stems as "рост" (height); its other forms do not.
        ("rostov", "Ростове Ростова"), ("ufa", "Уфа"), ("krasnoyarsk", "Красноярск"), ("voronezh", "Воронеж"),
        ("perm", "Пермь"), ("volgograd", "Волгоград"), ("krasnodar", "Краснодар"), ("vladivostok", "Владивосток"),
        ("sochi", "Сочи"), ("russia", "Россия"), ("kazakhstan", "Казахстан"), ("belarus", "Беларусь Белоруссия"),
        ("europe", "Европа"), ("china", "Китай"), ("usa", "США"), ("america", "США Америка"),
    ])

    /// Russian shoppers' words for the same things, read as an English shop's words.
    static let russianToEnglish: [Synonym] = pairs([
        // Delivery
        ("доставка", "shipping delivery"), ("доставить", "shipping delivery deliver"), ("отправка", "shipping ship"),
        ("посылка", "package parcel shipping"), ("курьер", "courier delivery"), ("самовывоз", "pickup pick up"),
        ("трек", "tracking track"), ("бесплатно", "free"), ("заграница", "international outside abroad"),

        // Payment and prices
        ("оплата", "payment pay"), ("наличные", "cash"), ("карта", "card"), ("рассрочка", "installments"),
        ("счёт", "invoice bill"), ("цена", "price cost"), ("скидка", "discount promo code"), ("подарок", "gift"),
        ("сертификат", "gift card certificate"),

        // Orders, returns, warranty
        ("заказ", "order"), ("отменить", "cancel"), ("возврат", "return refund"), ("вернуть", "return refund"),
        ("обмен", "exchange"), ("гарантия", "warranty"), ("сломался", "broken defective"), ("ремонт", "repair"),

        // The shop and its contacts
        ("телефон", "phone"), ("адрес", "address location"), ("магазин", "store shop"),

        // Sizes
        ("размер", "size"),
    ])
}
