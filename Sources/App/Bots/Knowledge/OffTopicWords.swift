/// Words that mark a question as being about something other than shopping (the weather, jokes, poems, politics,
/// homework, health): when the shop's knowledge does not use the word, it weighs `Retriever.Tuning.offTopicWeight`
/// times an unknown word, so a question built around it stays out even when it names a city the shop delivers to
/// ("погода в Новосибирске"). A shop whose knowledge uses the word (a bookshop's poems, a pharmacy's colds) reads it
/// as its own.
public enum OffTopicWords {
    public static let words: [String] = russian + english

    static let russian = [
        "погода", "погоду", "погоде", "прогноз", "гороскоп", "анекдот", "анекдоты", "шутка", "шутку", "пошути", "стих", "стихи",
        "стихотворение", "поэма", "песня", "песню", "сказка", "сказку", "рецепт", "рецепты", "сварить", "пожарить", "выборы",
        "выборах", "президент", "президенту", "политика", "политике", "партия", "депутат", "война", "войне", "футбол", "хоккей",
        "матч", "чемпионат", "умножить", "поделить", "разделить", "корень", "уравнение", "интеграл", "столица", "переведи",
        "биткоин", "криптовалюта", "фильм", "сериал", "кино", "адвокат", "развод", "врач", "лекарство", "таблетки",
        "болит", "простуда", "простуды", "домашка", "домашнее", "сочинение", "реферат", "python",
    ]

    static let english = [
        "weather", "forecast", "horoscope", "joke", "jokes", "poem", "poems", "poetry", "haiku", "song", "lyrics",
        "recipe", "recipes", "bake", "election", "vote", "president", "politics", "war", "football", "soccer", "baseball",
        "basketball", "nba", "nfl", "multiply", "divided", "equation", "integral", "capital", "translate", "bitcoin", "crypto",
        "stocks", "movie", "lawyer", "divorce", "doctor", "medicine", "pills", "symptoms", "flu", "homework", "essay",
        "javascript", "python",
    ]
}
