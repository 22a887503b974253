extension Synonym {
    /// English shoppers' words (colloquial, British or American, brand-named) read as the words a shop's own texts
    /// use. Words that share a stem need no pair ("tracking" is "track", "sizing" is "size").
    static let english: [Synonym] = pairs([
        // Delivery
        ("parcel", "delivery"), ("parcel", "package"), ("package", "delivery"), ("shipping", "delivery"),
        ("shipment", "delivery"), ("shipment", "shipping"), ("delivery", "shipping"), ("deliver", "delivery shipping"),
        ("postage", "shipping"), ("dispatch", "shipping"), ("courier", "delivery carrier"), ("arrive", "delivery"),
        ("eta", "arrive delivery"), ("pickup", "delivery"), ("pickup", "pick up"), ("collect", "pickup pick up"),
        ("locker", "pickup point"), ("express", "expedited"), ("abroad", "international outside"),
        ("overseas", "international abroad"),

        // Payment
        ("pay", "payment"), ("payment", "pay"), ("card", "payment"), ("klarna", "installments"),
        ("bnpl", "installments"), ("chunks", "installments"), ("payment plan", "installments"), ("invoice", "bill"),
        ("bill", "invoice"), ("bulk", "wholesale"), ("bucks", "money"),

        // Prices, discounts, gifts
        ("cost", "price"), ("price", "cost"), ("fee", "cost price"), ("discount", "promo code"),
        ("coupon", "promo code"), ("promo", "promo code discount"), ("voucher", "gift certificate coupon"),
        ("giftcard", "gift card"), ("gift certificate", "gift card"), ("present", "gift"),
        ("rewards", "loyalty points"),

        // Returns, exchanges, cancellations
        ("refund", "return"), ("return", "refund"), ("money back", "refund"), ("send back", "return"),
        ("ship back", "return"), ("rma", "return"), ("exchange", "return"), ("swap", "exchange"),

        // Defects, warranty, repair
        ("broken", "warranty"), ("defective", "warranty"), ("broke", "broken"), ("faulty", "defective"),
        ("stopped working", "broken"), ("ripped", "torn broken"), ("torn", "broken"), ("guarantee", "warranty"),

        // The shop and its contacts
        ("phone", "contact"), ("email", "contact"), ("call", "phone"), ("location", "address store"), ("shop", "store"),

        // Sizes
        ("fit", "size"),

        // Clothes and gear
        ("rucksack", "backpack"), ("coat", "jacket"), ("windbreaker", "jacket"), ("zip", "zipper"),

        // Phones and accessories
        ("cellphone", "phone"), ("smartphone", "phone"), ("mobile", "phone"), ("earbuds", "headphones"),
        ("earphones", "headphones"), ("headphones", "earbuds"), ("airpods", "earbuds headphones"), ("cord", "cable"),
        ("wire", "cable"), ("powerbank", "power bank"), ("portable charger", "powerbank"), ("brick", "charger"),
        ("tempered glass", "screen protector"), ("phone cover", "phone case"),

        // Tea
        ("steep", "brew"), ("decaf", "caffeine"),
    ])
}
