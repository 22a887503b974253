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
    /// How sure the bot is that this entry answers the message (0–1): what the threshold is compared with.
    public var score: Double
    /// What candidates are ranked by: lexical and semantic similarity fused.
    public var relevance: Double
    public var lexical: Double
    /// The best cosine between the query and one of the entry's passages, when vectors were used.
    public var semantic: Double?
    /// The passage that matched best (an article answers with it).
    public var passage: Int

    public init(entry: Int, score: Double, relevance: Double? = nil, lexical: Double, semantic: Double? = nil, passage: Int) {
        self.entry = entry
        self.score = score
        self.relevance = relevance ?? score
        self.lexical = lexical
        self.semantic = semantic
        self.passage = passage
    }
}

/// Ranks a shop's knowledge for a message: lexical coverage over stems (with typo corrections and synonyms) fused with
/// semantic similarity when vectors are at hand, then says how sure it is of each candidate. Pure: the snapshot and
/// the analysis come from the database, the query vector from the embedding model.
///
/// The lexical score asks "how much of what the shopper said does this passage explain?": each query word weighs its
/// inverse document frequency over the shop's entries (a word the knowledge lacks weighs the most), and a passage
/// scores the share of that weight it contains, slightly discounted for long passages that match by sheer size. An
/// off-topic question has most of its weight in words no entry has, so it scores low whatever it happens to share.
///
/// The semantic score of an entry is the mean cosine of its three passages closest to the query (an entry whose
/// question, phrasings and answer all speak of the thing beats one that mentions it once). The confidence is a
/// logistic model over the top candidate's relevance, its lexical score and how far its cosine stands above the
/// query's cosines with the rest of the knowledge (an off-topic question is about equally far from everything):
/// fitted on the tune question sets (`scripts/bot-eval/fit.py`), so one threshold means the same with and without
/// vectors.
public struct Retriever: Sendable {
    /// `confidence = 1 / (1 + e^-(bias + relevance·r + lexical·l + prominence·p))`.
    public struct ConfidenceModel: Sendable, Equatable {
        public var bias: Double
        public var relevance: Double
        public var lexical: Double
        public var prominence: Double

        public init(bias: Double, relevance: Double, lexical: Double = 0, prominence: Double = 0) {
            self.bias = bias
            self.relevance = relevance
            self.lexical = lexical
            self.prominence = prominence
        }

        func confidence(relevance r: Double, lexical l: Double, prominence p: Double) -> Double {
            1 / (1 + exp(-(bias + relevance * r + lexical * l + prominence * p)))
        }
    }

    public struct Tuning: Sendable, Equatable {
        /// A typo correction counts this much of an exact match (times its similarity's excess over pg_trgm's 0.3).
        public var correctionWeight = 0.85
        public var synonymWeight = 0.9
        /// How much of the lexical score the semantic one replaces when vectors exist.
        public var semanticShare = 0.55
        /// Cosines at or below `cosineFloor` count 0, at or above `cosineCeiling` 1 (e5's cosines are compressed).
        public var cosineFloor = 0.78
        public var cosineCeiling = 0.90
        /// An entry's cosine is the mean of its this many best passages' cosines.
        public var cosinePassages = 3
        /// A body passage (answer, paragraph) scores this much of a heading (question, phrasing, title).
        public var bodyDiscount = 0.9
        /// Two candidates whose relevance is closer than this (both above the threshold) ask the shopper which one.
        public var clarifyMargin = 0.01
        /// A word no entry contains weighs this much of the rarest known word: enough that a question made of such
        /// words stays out, not so much that a long on-topic question with a few of them does.
        public var unknownWeight = 0.6
        /// An unknown word from `OffTopicWords` ("погода", "joke") weighs this much of the rarest known word.
        public var offTopicWeight = 2.5
        /// The confidence models with vectors and without.
        public var semanticModel = Retriever.semanticModel
        public var lexicalModel = Retriever.lexicalModel
        /// The answer threshold on the confidence (the bot's own setting wins).
        public var threshold = Retriever.defaultThreshold

        public init() {}

        /// Sets tuning values by name (`bot eval --set name=value`, for tuning on a question set).
        public mutating func set(_ name: String, _ value: Double) throws {
            switch name {
            case "correction_weight": correctionWeight = value
            case "synonym_weight": synonymWeight = value
            case "semantic_share": semanticShare = value
            case "cosine_floor": cosineFloor = value
            case "cosine_ceiling": cosineCeiling = value
            case "cosine_passages": cosinePassages = max(1, Int(value))
            case "body_discount": bodyDiscount = value
            case "clarify_margin": clarifyMargin = value
            case "unknown_weight": unknownWeight = value
            case "off_topic_weight": offTopicWeight = value
            case "threshold": threshold = value
            case "semantic_bias": semanticModel.bias = value
            case "semantic_relevance": semanticModel.relevance = value
            case "semantic_lexical": semanticModel.lexical = value
            case "semantic_prominence": semanticModel.prominence = value
            case "lexical_bias": lexicalModel.bias = value
            case "lexical_relevance": lexicalModel.relevance = value
            default: throw BotSettingsError("“\(name)” is not a retrieval setting.")
            }
        }
    }

    /// The installation's answer threshold on the confidence: answer when the bot is at least this sure.
    public static let defaultThreshold = 0.5
    /// Fitted on the tune question sets (docs/BOTS.md, `scripts/bot-eval/fit.py`).
    public static let semanticModel = ConfidenceModel(bias: -4.95, relevance: 7.89, lexical: 3.44, prominence: 48.06)
    public static let lexicalModel = ConfidenceModel(bias: -1.34, relevance: 5.71)

    public var tuning: Tuning

    public init(tuning: Tuning = Tuning()) {
        self.tuning = tuning
    }

    /// How one passage matches a message: its lexical score and, when vectors were used, its cosine.
    public struct PassageScore: Sendable {
        public var passage: Int
        public var lexical: Double
        public var cosine: Double?
    }

    /// The candidates, best first (at most `limit`, one per entry).
    public func rank(
        _ analysis: QueryAnalysis, in knowledge: KnowledgeIndex, queryVector: [Float]? = nil, limit: Int = 5
    ) -> [Candidate] {
        struct Entry {
            var lexical = 0.0
            var cosines: [Double] = []
            var passage = -1
            var passageScore = -Double.infinity
        }
        var entries = [Entry](repeating: Entry(), count: knowledge.entries.count)
        for scored in passageScores(analysis, in: knowledge, queryVector: queryVector) {
            let index = knowledge.passages[scored.passage].entry
            entries[index].lexical = max(entries[index].lexical, scored.lexical)
            if let cosine = scored.cosine { entries[index].cosines.append(cosine) }
            // The passage an article answers with: the best by the same fusion, passage by passage.
            let own = fused(lexical: scored.lexical, cosine: scored.cosine)
            if own > entries[index].passageScore {
                entries[index].passageScore = own
                entries[index].passage = scored.passage
            }
        }
        let cosines: [Double?] = entries.map { entry in
            guard !entry.cosines.isEmpty else { return nil }
            let best = entry.cosines.sorted(by: >).prefix(tuning.cosinePassages)
            return best.reduce(0, +) / Double(best.count)
        }
        let present = cosines.compactMap { $0 }
        let semantic = !present.isEmpty
        let meanCosine = semantic ? present.reduce(0, +) / Double(present.count) : 0
        var candidates: [Candidate] = []
        for (index, entry) in entries.enumerated() where entry.passage >= 0 {
            let relevance = fused(lexical: entry.lexical, cosine: cosines[index])
            guard relevance > 0 else { continue }
            let confidence =
                semantic
                ? tuning.semanticModel.confidence(
                    relevance: relevance, lexical: entry.lexical, prominence: (cosines[index] ?? meanCosine) - meanCosine)
                : tuning.lexicalModel.confidence(relevance: relevance, lexical: entry.lexical, prominence: 0)
            candidates.append(
                Candidate(
                    entry: index, score: confidence, relevance: relevance, lexical: entry.lexical, semantic: entry.cosines.max(),
                    passage: entry.passage))
        }
        return candidates.sorted { $0.relevance != $1.relevance ? $0.relevance > $1.relevance : $0.entry < $1.entry }
            .prefix(limit).map { $0 }
    }

    /// Lexical and semantic similarity as one number (the lexical score alone without a cosine).
    func fused(lexical: Double, cosine: Double?) -> Double {
        guard let cosine else { return lexical }
        let scaled = min(1, max(0, (cosine - tuning.cosineFloor) / (tuning.cosineCeiling - tuning.cosineFloor)))
        return (1 - tuning.semanticShare) * lexical + tuning.semanticShare * scaled
    }

    /// Every passage's lexical score and cosine (the parts `rank` fuses; `bot eval --features` prints them for tuning).
    public func passageScores(_ analysis: QueryAnalysis, in knowledge: KnowledgeIndex, queryVector: [Float]? = nil) -> [PassageScore] {
        let groups = termGroups(analysis, knowledge)
        let total = groups.reduce(0) { $0 + $1.weight }
        let useVectors = queryVector != nil && knowledge.hasVectors
        guard total > 0 || useVectors else { return [] }
        var scores: [PassageScore] = []
        scores.reserveCapacity(knowledge.passages.count)
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
            var cosine: Double?
            if useVectors, let queryVector, let vector = passage.vector, vector.count == queryVector.count {
                cosine = Self.dot(queryVector, vector)
            }
            scores.append(PassageScore(passage: index, lexical: lexical, cosine: cosine))
        }
        return scores
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
            // A word that takes the question away from shopping ("погода") is not anybody's typo.
            let isOffTopic = !isKnown && word.stems.contains(where: knowledge.offTopicStems.contains)
            if !isKnown, !isOffTopic, let correction = word.correction {
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
            } else if isOffTopic {
                weight = knowledge.unknownIDF * tuning.offTopicWeight
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
    /// Stems of `OffTopicWords` that no entry contains.
    public var offTopicStems: Set<String>

    public init(
        entries: [KnowledgeEntry], passages: [Passage], synonyms: [String: [String]] = [:], offTopicStems: Set<String> = [],
        model: String? = nil
    ) {
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
        self.offTopicStems = offTopicStems.filter { frequency[$0] == nil }
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
