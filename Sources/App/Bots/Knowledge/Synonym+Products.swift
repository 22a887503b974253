extension Synonym {
    /// English words for what typical shops sell (tea and coffee, phone accessories, flowers, kids' clothes, outdoor
    /// gear) and for looking after it, read as a Russian shop's words.
    static let productsEnglishToRussian: [Synonym] = pairs([
        // Tea and coffee
        ("tea", "чай"), ("coffee", "кофе"), ("green", "зелёный"), ("black", "чёрный"), ("white", "белый"),
        ("oolong", "улун"), ("puer", "пуэр"), ("pu-erh", "пуэр"), ("leaf", "листовой"),
        ("brew", "заварить заваривать заварка"), ("steep", "заварить заваривать настаивать"),
        ("temperature", "температура градусов"), ("degrees", "градусов"), ("water", "вода"),
        ("boiling", "кипяток кипятком"), ("bitter", "горький горчит горечь"), ("strong", "крепкий"),
        ("caffeine", "кофеин"), ("decaf", "кофеин"), ("storage", "хранение хранить"), ("fridge", "холодильник"),
        ("shelf life", "годности"), ("expiry", "годности"), ("expiration", "годности"), ("teapot", "чайник"),
        ("kettle", "чайник"), ("tasting", "дегустация продегустировать"), ("sample", "пробный пробник"),

        // Phones and accessories
        ("charger", "зарядка зарядное блок питания"), ("fast charging", "быстрая"), ("cable", "кабель провод шнур"),
        ("cord", "кабель провод шнур"), ("headphones", "наушники"), ("earbuds", "наушники"),
        ("battery", "аккумулятор батарея"), ("powerbank", "повербанк павербанк"), ("power bank", "повербанк"),
        ("case", "чехол чехлы"), ("protector", "защитное стекло плёнка"), ("glass", "стекло"), ("screen", "экран"),
        ("wireless", "беспроводная"), ("magnetic", "магнитный"), ("holder", "держатель"),
        ("adapter", "адаптер переходник"), ("smartphone", "телефон смартфон"), ("plane", "самолёт"),
        ("flight", "самолёт перелёт"), ("luggage", "багаж ручная кладь"), ("carry-on", "кладь"), ("mah", "мАч"),
        ("watt", "ватт Вт"),

        // Flowers
        ("flowers", "цветы цветок цветков"), ("bouquet", "букет"), ("roses", "розы"), ("tulips", "тюльпаны"),
        ("peonies", "пионы"), ("chrysanthemums", "хризантемы"), ("vase", "ваза"), ("postcard", "открытка"),
        ("night", "ночь ночная"), ("wilted", "завяли увяли вянут увядшие"), ("stems", "стебли"),
        ("surprise", "сюрприз"), ("anonymous", "анонимно сюрприз"), ("recipient", "получатель"),

        // Kids' clothes
        ("kids", "ребёнок ребёнка дети детский"), ("child", "ребёнок ребёнка дети детский"),
        ("children", "дети ребёнок детский"), ("baby", "малыш ребёнок"), ("boy", "мальчик"), ("girl", "девочка"),
        ("clothes", "одежда вещи"), ("stroller", "коляска"), ("overalls", "комбинезон"), ("snowsuit", "комбинезон"),
        ("onesie", "боди слип"), ("socks", "носки"), ("shoes", "обувь"), ("boots", "ботинки ботинок сапоги"),
        ("sneakers", "кроссовки"), ("hat", "шапка"), ("gloves", "перчатки"), ("dress", "платье"),
        ("shirt", "футболка рубашка"), ("sweater", "свитер кофта"), ("pants", "брюки штаны"),
        ("trousers", "брюки штаны"), ("jacket", "куртка"), ("coat", "пальто куртка"),

        // Care
        ("wash", "стирать стирка"), ("label", "ярлык бирка"), ("membrane", "мембрана мембранный"),
        ("cotton", "хлопок хлопка хлопковый"), ("wool", "шерсть шерстяной"),

        // Outdoor gear
        ("tent", "палатка"), ("sleeping bag", "спальник"), ("backpack", "рюкзак"), ("rucksack", "рюкзак"),
        ("sleeping pad", "коврик"), ("stove", "горелка"), ("poles", "палки дуги"), ("hiking", "поход походный"),
        ("camping", "кемпинг поход"), ("waterproof", "водонепроницаемый непромокаемый"), ("zipper", "молния"),
        ("zip", "молния"), ("seam", "шов"), ("thermal", "термобельё"),
    ])

    /// The same things in Russian, read as an English shop's words.
    static let productsRussianToEnglish: [Synonym] = pairs([
        // Tea and coffee
        ("чай", "tea"), ("кофе", "coffee"), ("заварить", "brew steep"), ("чайник", "teapot kettle"),

        // Phones and accessories
        ("зарядка", "charger charging"), ("кабель", "cable cord"), ("наушники", "headphones earbuds"),
        ("повербанк", "power bank powerbank"), ("чехол", "case"),

        // Flowers
        ("цветы", "flowers"), ("букет", "bouquet"),

        // Clothes and outdoor gear
        ("одежда", "clothes clothing"), ("куртка", "jacket"), ("ботинки", "boots hiking boots"),
        ("обувь", "footwear shoes boots"), ("палатка", "tent"), ("спальник", "sleeping bag"),
        ("рюкзак", "backpack pack"), ("молния", "zipper zip"),
    ])
}
