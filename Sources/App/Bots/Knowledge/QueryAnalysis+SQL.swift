import Foundation
import PostgresNIO

extension QueryAnalysis {
    /// The least trigram similarity a correction needs (pg_trgm's own `%` threshold, 0.3, lets too much through).
    static let minimumSimilarity = 0.4

    /// Stems every word of the message with PostgreSQL's Russian and English stemmers, and corrects the words the
    /// shop's knowledge does not contain to the most similar one it does (pg_trgm), in one statement.
    static func analyse(
        _ message: NormalizedText, phraseSynonyms: [(phrase: String, means: String)], on tenant: TenantConnection
    ) async throws -> QueryAnalysis {
        var words = Array(message.words.prefix(40))
        let padded = " " + message.text + " "
        for (phrase, means) in phraseSynonyms where padded.contains(" " + phrase + " ") {
            words += NormalizedText(means).words
        }
        guard !words.isEmpty else { return QueryAnalysis(words: []) }
        let rows = try await tenant.values(
            (String, [String], String?, [String]?, Double?).self,
            """
            SELECT w.word, tsvector_to_array(to_tsvector('pg_catalog.russian', w.word)), fix.word,
                CASE WHEN fix.word IS NOT NULL THEN tsvector_to_array(to_tsvector('pg_catalog.russian', fix.word)) END, fix.sim
            FROM unnest(\(words)::text[]) WITH ORDINALITY AS w(word, n)
            LEFT JOIN LATERAL (
                SELECT v.word, platform.similarity(v.word, w.word)::float8 AS sim FROM knowledge_words v
                WHERE length(w.word) >= 4 AND w.word !~ '^[0-9]+$' AND v.word OPERATOR(platform.%) w.word
                    AND NOT EXISTS (SELECT 1 FROM knowledge_words k WHERE k.word = w.word)
                ORDER BY 2 DESC, 1 LIMIT 1
            ) fix ON true
            ORDER BY w.n
            """)
        return QueryAnalysis(
            words: rows.map { word, stems, fixed, fixedStems, similarity in
                var correction: (word: String, stems: [String], similarity: Double)?
                if let fixed, let fixedStems, let similarity, similarity >= minimumSimilarity {
                    correction = (fixed, fixedStems, similarity)
                }
                return Word(word: word, stems: stems, correction: correction)
            })
    }
}
