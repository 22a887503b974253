import Foundation

/// The model's reply, read and checked against what it was given: a typed action (never a magic string in the text),
/// the text, and the passages it used, every one of which must be among those sent; links only from the passages or
/// the shop's own; the conversation's language. Anything else is refused, and the bot answers as if the model had
/// not been asked.
public struct GroundedReply: Sendable, Equatable {
    public enum Action: String, Sendable, Codable {
        case answer, clarify, handoff
    }

    public var action: Action
    public var text: String
    /// The cited passages, in the order cited, without repeats.
    public var citations: [GroundingPassage]

    /// Why a reply was refused (the explanation's note).
    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        case notJSON
        case missingText
        case unknownAction(String)
        case unknownCitation(String)
        case foreignLink(String)
        case wrongLanguage(expected: BotLanguage)
        case tooLong
        /// The answer quotes the prompt's rules or the passages' block: a shopper asked for the instructions.
        case leak
        /// The answer only repeats the shopper's question or a passage's title (a small model's way of not answering).
        case echo
        /// The answer shares almost no wording with the passages it cites: it rests on something else.
        case unsupported

        public var description: String {
            switch self {
            case .notJSON: "the model's reply was not the JSON object it was asked for"
            case .missingText: "the model's reply had no text"
            case .unknownAction(let action): "the model's action \"\(action.prefix(40))\" is not answer, clarify or handoff"
            case .unknownCitation(let id): "the model cited \"\(id.prefix(40))\", which it was not given"
            case .foreignLink(let link): "the model's answer links to \(link.prefix(80)), which no passage gave"
            case .wrongLanguage(let expected): "the model did not answer in \(expected == .ru ? "Russian" : "English")"
            case .tooLong: "the model's answer was too long"
            case .leak: "the model's answer repeats its instructions"
            case .echo: "the model's answer only repeats the question or a passage's title"
            case .unsupported: "the model's answer shares almost no wording with the passages it cites"
            }
        }
    }

    struct Raw: Decodable {
        var action: String?
        var text: String?
        var citations: [String]?
    }

    /// Reads and checks `output` against the passages sent. `shopHosts` are the shop's own hosts (links to them are
    /// always allowed, as are relative links).
    public static func read(
        _ output: String, passages: [GroundingPassage], language: BotLanguage, shopHosts: [String], question: String = ""
    ) throws
        -> GroundedReply
    {
        guard let raw = Self.json(in: output) else { throw Refusal.notJSON }
        let actionName = (raw.action ?? "answer").trimmingCharacters(in: .whitespaces).lowercased()
        guard let action = Action(rawValue: actionName) else { throw Refusal.unknownAction(actionName) }
        let text = (raw.text ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty || action == .handoff else { throw Refusal.missingText }
        guard text.count <= 2000 else { throw Refusal.tooLong }
        guard !Self.leaks(text) else { throw Refusal.leak }
        if action == .answer, Self.echoes(text, question: question, titles: passages.map(\.title)) { throw Refusal.echo }
        var cited: [GroundingPassage] = []
        for id in raw.citations ?? [] {
            guard let passage = passages.first(where: { $0.id == id.trimmingCharacters(in: .whitespaces) }) else {
                throw Refusal.unknownCitation(id)
            }
            if !cited.contains(passage) { cited.append(passage) }
        }
        let allowed = Set(passages.flatMap(\.links) + passages.flatMap { Self.links(in: $0.text) })
        for link in Self.links(in: text) where !allowed.contains(link) && !Self.isShops(link, hosts: shopHosts) {
            throw Refusal.foreignLink(link)
        }
        if !text.isEmpty, let written = BotLanguage.detect(Self.withoutLinks(text)), written != language {
            throw Refusal.wrongLanguage(expected: language)
        }
        if action == .answer, !cited.isEmpty, !Self.rests(text, on: cited) { throw Refusal.unsupported }
        return GroundedReply(action: action, text: text, citations: cited)
    }

    /// Phrases of the grounded prompt's rules that no answer to a shopper contains.
    static let promptMarkers = ["PASSAGES (JSON)", "Rules, which nothing", "nothing in the conversation can change", "PASSAGES below"]

    /// Whether every word of `text` is a word of the question, or the text is a passage's title: nothing answered.
    static func echoes(_ text: String, question: String, titles: [String]) -> Bool {
        let words = Self.words(text)
        guard !words.isEmpty else { return true }
        if words.isSubset(of: Self.words(question)) { return true }
        return titles.contains { Self.words($0) == words }
    }

    /// Whether an answer of some length shares at least two stems (a word's first five letters, enough for Russian
    /// endings) of four letters or more with the passages it cites. A model that cites a passage and writes about
    /// something else ("Yes, we sell roses" citing the tent warranty) is not grounded, whatever it cites.
    static func rests(_ text: String, on cited: [GroundingPassage]) -> Bool {
        func stems(_ text: String) -> Set<String> { Set(words(text).filter { $0.count >= 4 }.map { String($0.prefix(5)) }) }
        let answer = stems(withoutLinks(text))
        guard answer.count >= 4 else { return true }
        let passages = cited.reduce(into: Set<String>()) { $0.formUnion(stems($1.title + " " + $1.text)) }
        return answer.intersection(passages).count >= 2
    }

    static func words(_ text: String) -> Set<String> {
        Set(text.lowercased().split { !$0.isLetter && !$0.isNumber }.map { String($0).replacingOccurrences(of: "ё", with: "е") })
    }

    static func leaks(_ text: String) -> Bool {
        promptMarkers.contains { text.range(of: $0, options: .caseInsensitive) != nil }
    }

    /// The JSON object in a reply: the whole reply, or the first `{…}` in it (small models wrap it in prose or fences).
    static func json(in output: String) -> Raw? {
        let decoder = JSONDecoder()
        if let raw = try? decoder.decode(Raw.self, from: Data(output.utf8)) { return raw }
        guard let start = output.firstIndex(of: "{"), let end = output.lastIndex(of: "}"), start < end else { return nil }
        return try? decoder.decode(Raw.self, from: Data(output[start...end].utf8))
    }

    /// Web addresses and site-relative paths in a text (`https://…`, `http://…`, `/help/…`).
    static func links(in text: String) -> [String] {
        var found: [String] = []
        for word in text.split(whereSeparator: { $0.isWhitespace || $0 == "(" || $0 == ")" || $0 == "<" || $0 == ">" || $0 == "\"" }) {
            var token = String(word)
            while let last = token.last, ".,;:!?»”'".contains(last) { token.removeLast() }
            if token.hasPrefix("http://") || token.hasPrefix("https://") || token.hasPrefix("www.") { found.append(token) }
        }
        return found
    }

    static func withoutLinks(_ text: String) -> String {
        links(in: text).reduce(text) { $0.replacingOccurrences(of: $1, with: " ") }
    }

    static func isShops(_ link: String, hosts: [String]) -> Bool {
        guard let url = URL(string: link.hasPrefix("www.") ? "https://" + link : link), let host = url.host?.lowercased() else {
            return false
        }
        return hosts.contains { host == $0 || host.hasSuffix("." + $0) }
    }
}
