import Foundation

/// The shopper's words as PostgreSQL analysed them (one statement per message, `QueryAnalysis.statement`): each
/// word's stems, and for a word the shop's knowledge does not contain, the closest word it does (pg_trgm), if any.
public struct QueryAnalysis: Sendable, Equatable {
    public struct Word: Sendable, Equatable {
        public var word: String
        /// Empty for stop words ("и", "the").
        public var stems: [String]
        /// The knowledge's word that this one is a typo of, its stems and the trigram similarity.
        public var correction: (word: String, stems: [String], similarity: Double)?

        public init(word: String, stems: [String], correction: (word: String, stems: [String], similarity: Double)? = nil) {
            self.word = word
            self.stems = stems
            self.correction = correction
        }

        public static func == (lhs: Word, rhs: Word) -> Bool {
            lhs.word == rhs.word && lhs.stems == rhs.stems && lhs.correction?.word == rhs.correction?.word
        }
    }

    public var words: [Word]

    public init(words: [Word]) {
        self.words = words
    }

    /// Every stem of the message (corrections included), for rules' example phrases.
    public var allStems: Set<String> {
        Set(words.flatMap { $0.stems + ($0.correction?.stems ?? []) })
    }
}

/// A ranked answer candidate, with what its score is made of.
public struct Candidate: Sendable, Equatable {
    public var entry: Int
    public var score: Double
    public var lexical: Double
    /// The best cosine between the query and one of the entry's passages, when vectors were used.
    public var semantic: Double?
    /// The passage that matched best (an article answers with it).
    public var passage: Int
}

/// Ranks a shop's knowledge for a message: lexical coverage over stems (with typo corrections and synonyms) fused with
/// semantic similarity when vectors are at hand. Pure: the snapshot and the analysis come from the database, the
/// query vector from the embedding model.
///
/// The lexical score asks "how much of what the shopper said does this passage explain?": each query word weighs its
/// inverse document frequency over the shop's entries (a word the knowledge lacks weighs the most), and a passage
/// scores the share of that weight it contains, slightly discounted for long passages that match by sheer size. An
/// off-topic question has most of its weight in words no entry has, so it scores low whatever it happens to share.
public struct Retriever: Sendable {
    public struct Tuning: Sendable, Equatable {
        /// A typo correction counts this much of an exact match (times its similarity's excess over pg_trgm's 0.3).
        public var correctionWeight = 0.85
        public var synonymWeight = 0.9
        /// How much of the lexical score the semantic one replaces when vectors exist.
        public var semanticShare = 0.55
        /// Cosines at or below `cosineFloor` count 0, at or above `cosineCeiling` 1 (e5's cosines are compressed).
        public var cosineFloor = 0.78
        public var cosineCeiling = 0.90
        /// A body passage (answer, paragraph) scores this much of a heading (question, phrasing, title).
        public var bodyDiscount = 0.9
        /// Two candidates closer than this (both above the threshold) ask the shopper which one.
        public var clarifyMargin = 0.03
        /// A word no entry contains weighs this much of the rarest known word: enough that a question made of such
        /// words stays out, not so much that a long on-topic question with a few of them does.
        public var unknownWeight = 0.6
        /// The answer thresholds (the bot's own setting wins), lexical and fused.
        public var threshold = Retriever.defaultThreshold
        public var semanticThreshold = Retriever.defaultSemanticThreshold

        public init() {}

        /// Sets tuning values by name (`bot eval --set name=value`, for tuning on a question set).
        public mutating func set(_ name: String, _ value: Double) throws {
            switch name {
            case "correction_weight": correctionWeight = value
            case "synonym_weight": synonymWeight = value
            case "semantic_share": semanticShare = value
            case "cosine_floor": cosineFloor = value
            case "cosine_ceiling": cosineCeiling = value
            case "body_discount": bodyDiscount = value
            case "clarify_margin": clarifyMargin = value
            case "unknown_weight": unknownWeight = value
            case "threshold": threshold = value
            case "semantic_threshold": semanticThreshold = value
            default: throw BotSettingsError("“\(name)” is not a retrieval setting.")
            }
        }
    }

    /// The installation's answer threshold, tuned on the tune question sets (docs/BOTS.md), for lexical scores and for
    /// fused ones.
    public static let defaultThreshold = 0.3
    public static let defaultSemanticThreshold = 0.44

    public var tuning: Tuning

    public init(tuning: Tuning = Tuning()) {
        self.tuning = tuning
    }

    /// The candidates, best first (at most `limit`, one per entry).
    public func rank(
        _ analysis: QueryAnalysis, in knowledge: KnowledgeIndex, queryVector: [Float]? = nil, limit: Int = 5
    ) -> [Candidate] {
        let groups = termGroups(analysis, knowledge)
        let total = groups.reduce(0) { $0 + $1.weight }
        let useVectors = queryVector != nil && knowledge.hasVectors
        guard total > 0 || useVectors else { return [] }
        var best: [Int: Candidate] = [:]
        for (index, passage) in knowledge.passages.enumerated() {
            var matched = 0.0
            for group in groups {
                var strength = 0.0
                for (stem, weight) in group.stems where weight > strength && passage.stems.contains(stem) {
                    strength = weight
                }
                matched += strength * group.weight
            }
            var lexical = total > 0 ? matched / total : 0
            if lexical > 0 {
                let size = passage.stems.reduce(0.0) { $0 + knowledge.idf($1) }
                let precision = size > 0 ? min(1, matched / size) : 0
                lexical *= 0.8 + 0.2 * precision
                if !passage.part.isHeading { lexical *= tuning.bodyDiscount }
            }
            var semantic: Double?
            var score = lexical
            if useVectors, let queryVector, let vector = passage.vector, vector.count == queryVector.count {
                let cosine = Self.dot(queryVector, vector)
                semantic = cosine
                let scaled = min(1, max(0, (cosine - tuning.cosineFloor) / (tuning.cosineCeiling - tuning.cosineFloor)))
                score = (1 - tuning.semanticShare) * lexical + tuning.semanticShare * scaled
            }
            guard score > 0 else { continue }
            let candidate = Candidate(entry: passage.entry, score: score, lexical: lexical, semantic: semantic, passage: index)
            if let current = best[passage.entry] {
                // The entry keeps its best passage's score, and the best of each part for the explanation.
                var merged = candidate.score > current.score ? candidate : current
                merged.lexical = max(candidate.lexical, current.lexical)
                merged.semantic = [candidate.semantic, current.semantic].compactMap { $0 }.max()
                best[passage.entry] = merged
            } else {
                best[passage.entry] = candidate
            }
        }
        return best.values.sorted { $0.score != $1.score ? $0.score > $1.score : $0.entry < $1.entry }.prefix(limit).map { $0 }
    }

    struct TermGroup {
        /// Stem → how strongly it stands for the word (1 for the word's own stems).
        var stems: [String: Double]
        var weight: Double
    }

    /// One group per content word: its stems, its correction's, and their synonyms'.
    func termGroups(_ analysis: QueryAnalysis, _ knowledge: KnowledgeIndex) -> [TermGroup] {
        var groups: [TermGroup] = []
        var seen = Set<String>()
        for word in analysis.words {
            var stems: [String: Double] = [:]
            for stem in word.stems { stems[stem] = 1 }
            // A word the knowledge knows (in any form) is taken as typed; only unknown words are read as typos.
            let isKnown = word.stems.contains { knowledge.documentFrequency[$0] != nil }
            if !isKnown, let correction = word.correction {
                let strength = tuning.correctionWeight * min(1, 0.6 + correction.similarity)
                for stem in correction.stems where stems[stem] == nil { stems[stem] = strength }
            }
            guard !stems.isEmpty else { continue }
            // A word already counted (the same stem twice in a message) does not weigh twice.
            let key = stems.keys.sorted().joined(separator: " ")
            guard seen.insert(key).inserted else { continue }
            for (stem, strength) in stems {
                for meaning in knowledge.synonyms[stem] ?? [] where (stems[meaning] ?? 0) < strength * tuning.synonymWeight {
                    stems[meaning] = strength * tuning.synonymWeight
                }
            }
            let known = word.stems.filter { knowledge.documentFrequency[$0] != nil }
            let weight: Double
            if let best = known.map({ knowledge.idf($0) }).max() {
                weight = best
            } else if let correction = word.correction, let best = correction.stems.map({ knowledge.idf($0) }).max() {
                weight = best
            } else {
                // A word no entry has: none of it is matched.
                weight = knowledge.unknownIDF * tuning.unknownWeight
            }
            groups.append(TermGroup(stems: stems, weight: weight))
        }
        return groups
    }

    static func dot(_ a: [Float], _ b: [Float]) -> Double {
        var sum: Float = 0
        for index in a.indices { sum += a[index] * b[index] }
        return Double(sum)
    }
}

/// A shop's knowledge ready for ranking: entries, passages with stems and vectors, document frequencies, synonyms.
public struct KnowledgeIndex: Sendable {
    public var entries: [KnowledgeEntry]
    public var passages: [Passage]
    /// Stem → how many entries contain it.
    public var documentFrequency: [String: Int]
    /// Stem → the stems it means (synonyms, both the shop's and the built-in list).
    public var synonyms: [String: [String]]
    /// The model the vectors come from, if every passage has one from the same model.
    public var model: String?

    public init(entries: [KnowledgeEntry], passages: [Passage], synonyms: [String: [String]] = [:], model: String? = nil) {
        self.entries = entries
        self.passages = passages
        self.synonyms = synonyms
        self.model = model
        var frequency: [String: Int] = [:]
        var stemsByEntry: [Int: Set<String>] = [:]
        for passage in passages { stemsByEntry[passage.entry, default: []].formUnion(passage.stems) }
        for stems in stemsByEntry.values {
            for stem in stems { frequency[stem, default: 0] += 1 }
        }
        documentFrequency = frequency
    }

    public var hasVectors: Bool { passages.contains { $0.vector != nil } }

    var entryCount: Double { Double(max(1, entries.count)) }

    /// BM25's inverse document frequency over entries.
    func idf(_ stem: String) -> Double {
        let frequency = Double(documentFrequency[stem] ?? 0)
        return log(1 + (entryCount - frequency + 0.5) / (frequency + 0.5))
    }

    /// The weight of a word no entry contains: above the rarest known word's.
    var unknownIDF: Double { log(1 + (entryCount + 0.5) / 0.5) * 1.15 }

    /// The entry with this slug (FAQ entries first, as a FAQ entry answers more directly than an article).
    public func entry(slug: String) -> Int? {
        entries.firstIndex { $0.slug == slug && $0.source == .faq } ?? entries.firstIndex { $0.slug == slug }
    }
}
