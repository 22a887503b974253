import Foundation
import Yams

/// A tenant's bot as tenants.yml declares it: settings, FAQ entries, synonyms, templates and rules. Each list that is
/// absent is left as it is; one that is present is the whole of it (entries it does not name go with `--prune`).
public struct BotSpec: Sendable {
    /// The default bot's settings; nil when `bot:` is absent.
    public var bot: Bot?
    public var faq: [FAQEntry]?
    public var synonyms: [Synonym]?
    public var templates: [ResponseTemplate]?
    public var rules: [Rule]?
    /// `bot: {llm:}`: the bot's model settings (also in `bot.llm`) and where its key comes from.
    public var llm: LLMSpec?
    /// `bot: {channels:}`: the bot's messengers (nil: left as they are).
    public var channels: [ChannelSpec]?

    public var isEmpty: Bool { bot == nil && faq == nil && synonyms == nil && templates == nil && rules == nil }
}

extension ManifestParser {
    static let botKeys: Set<String> = ["bot", "faq", "synonyms", "templates", "rules"]

    /// The bot parts of a tenant's mapping.
    mutating func botSpec(_ map: [String: Node], path: String, articles: [HelpArticle]?) -> BotSpec {
        var spec = BotSpec()
        if let node = map["bot"] {
            spec.bot = bot(node, path: path + ".bot")
            if case .mapping(let fields) = node, let llmNode = fields[Node("llm")] {
                spec.llm = llm(llmNode, path: path + ".bot.llm", forBot: true)
                if let settings = spec.llm?.settings { spec.bot?.llm = settings }
            }
            if case .mapping(let fields) = node, let channelsNode = fields[Node("channels")] {
                spec.channels = channels(channelsNode, path: path + ".bot.channels")
            }
        }
        if let node = map["faq"], let items = sequence(node, path: path + ".faq") {
            var list: [FAQEntry] = []
            var seen = Set<String>()
            for (index, item) in items.enumerated() {
                let itemPath = "\(path).faq[\(index)]"
                guard let entry = faqEntry(item, path: itemPath, position: index) else { continue }
                if !seen.insert(entry.slug).inserted { report(item, itemPath + ".slug", "the FAQ slug '\(entry.slug)' appears twice") }
                if articles?.contains(where: { $0.slug == entry.slug }) == true {
                    report(item, itemPath + ".slug", "'\(entry.slug)' is also an article's slug; give the FAQ entry its own")
                }
                list.append(entry)
            }
            spec.faq = list
        }
        if let node = map["synonyms"], let items = sequence(node, path: path + ".synonyms") {
            var list: [Synonym] = []
            for (index, item) in items.enumerated() {
                let itemPath = "\(path).synonyms[\(index)]"
                guard let pair = mapping(item, path: itemPath, allowed: ["word", "means"]) else { continue }
                guard let word = requiredString(pair, "word", path: itemPath, node: item, maxLength: 60),
                    let means = requiredString(pair, "means", path: itemPath, node: item, maxLength: 60)
                else { continue }
                list.append(Synonym(word: word, means: means))
            }
            spec.synonyms = list
        }
        if let node = map["templates"], let items = sequence(node, path: path + ".templates") {
            var list: [ResponseTemplate] = []
            for (index, item) in items.enumerated() {
                let itemPath = "\(path).templates[\(index)]"
                guard let fields = mapping(item, path: itemPath, allowed: ["name", "text", "buttons"]) else { continue }
                guard let name = requiredString(fields, "name", path: itemPath, node: item, maxLength: 60),
                    let text = requiredString(fields, "text", path: itemPath, node: item, maxLength: 4000)
                else { continue }
                let buttons = stringList(fields["buttons"], path: itemPath + ".buttons")
                let template = ResponseTemplate(name: name, text: text.trimmingCharacters(in: .whitespacesAndNewlines), buttons: buttons)
                for (field, message) in BotConfigStore.check(template).sorted(by: { $0.key < $1.key }) {
                    report(fields[field] ?? item, itemPath + "." + field, message)
                }
                if list.contains(where: { $0.name == name }) { report(item, itemPath + ".name", "the template '\(name)' appears twice") }
                list.append(template)
            }
            spec.templates = list
        }
        if let node = map["rules"], let items = sequence(node, path: path + ".rules") {
            var list: [Rule] = []
            for (index, item) in items.enumerated() {
                let itemPath = "\(path).rules[\(index)]"
                guard let parsed = rule(item, path: itemPath, position: index) else { continue }
                if list.contains(where: { $0.name == parsed.name }) {
                    report(item, itemPath + ".name", "the rule '\(parsed.name)' appears twice")
                }
                switch parsed.action {
                case .reply(let name):
                    if let templates = spec.templates, !templates.contains(where: { $0.name == name }) {
                        report(item, itemPath + ".then.reply", "there is no template '\(name)' in this tenant's templates")
                    }
                case .show(let slug):
                    let known = (spec.faq?.map(\.slug) ?? []) + (articles?.map(\.slug) ?? [])
                    if spec.faq != nil || articles != nil, !known.contains(slug) {
                        report(item, itemPath + ".then.show", "there is no FAQ entry or article '\(slug)' in this tenant")
                    }
                default: break
                }
                list.append(parsed)
            }
            spec.rules = list
        }
        return spec
    }

    private mutating func bot(_ node: Node, path: String) -> Bot? {
        guard
            let map = mapping(
                node, path: path,
                allowed: ["name", "greeting", "fallback", "language", "threshold", "handoff", "hours", "widget", "llm", "channels"])
        else { return nil }
        var bot = Bot()
        bot.name = map["name"].flatMap { string($0, path: path + ".name") } ?? ""
        bot.greeting = map["greeting"].flatMap { string($0, path: path + ".greeting") } ?? ""
        bot.fallback = map["fallback"].flatMap { string($0, path: path + ".fallback") } ?? ""
        if bot.name.count > 80 { report(map["name"], path + ".name", "is longer than 80 characters") }
        for key in ["greeting", "fallback"] {
            let text = key == "greeting" ? bot.greeting : bot.fallback
            if text.count > 2000 { report(map[key], path + "." + key, "is longer than 2000 characters") }
            do { try ResponseTemplate.check(text) } catch { report(map[key], path + "." + key, "\(error)") }
        }
        if let node = map["language"], let text = string(node, path: path + ".language") {
            if let language = Bot.Language(rawValue: text) {
                bot.language = language
            } else {
                report(node, path + ".language", "must be ru, en or auto, not '\(text)'")
            }
        }
        if let node = map["threshold"] {
            if case .scalar(let scalar) = node, let value = Double(scalar.string), (0...1).contains(value) {
                bot.threshold = value
            } else {
                report(node, path + ".threshold", "must be a number from 0 to 1")
            }
        }
        if let node = map["handoff"],
            let handoff = mapping(node, path: path + ".handoff", allowed: ["after_fallbacks", "keywords", "on_request"])
        {
            if let count = handoff["after_fallbacks"] {
                if case .scalar(let scalar) = count, let value = Int(scalar.string), (0...20).contains(value) {
                    bot.handoffAfterFallbacks = value
                } else {
                    report(count, path + ".handoff.after_fallbacks", "must be a whole number from 0 (never) to 20")
                }
            }
            if let request = handoff["on_request"] {
                if case .scalar(let scalar) = request, let value = Bool(scalar.string) {
                    bot.handoffOnRequest = value
                } else {
                    report(request, path + ".handoff.on_request", "must be true or false")
                }
            }
            bot.handoffKeywords = stringList(handoff["keywords"], path: path + ".handoff.keywords")
        }
        if let node = map["hours"], let hours = mapping(node, path: path + ".hours", allowed: ["timezone", "week", "away"]) {
            let timezone = hours["timezone"].flatMap { string($0, path: path + ".hours.timezone") } ?? "Europe/Moscow"
            var week: [(String, String)] = []
            if let weekNode = hours["week"], case .mapping(let days) = weekNode {
                for (key, value) in days {
                    guard let day = key.string, let text = value.string else {
                        report(value, path + ".hours.week", "write days and hours as mon-fri: \"09:00-21:00\"")
                        continue
                    }
                    week.append((day, text))
                }
            } else {
                report(hours["week"] ?? node, path + ".hours.week", "is required: days and hours, e.g. {mon-fri: \"09:00-21:00\"}")
            }
            do {
                bot.hours = try BusinessHours.parse(timezone: timezone, week: week)
            } catch {
                report(hours["week"] ?? node, path + ".hours", "\(error)")
            }
            bot.awayMessage = hours["away"].flatMap { string($0, path: path + ".hours.away") } ?? ""
            do { try ResponseTemplate.check(bot.awayMessage) } catch { report(hours["away"], path + ".hours.away", "\(error)") }
        }
        if let node = map["widget"] { bot.widget = widget(node, path: path + ".widget") }
        return bot
    }

    /// `widget: {allowed_origins: [https://shop.example], position: right|left, prechat: {name: required, email: optional}}`.
    private mutating func widget(_ node: Node, path: String) -> WidgetSettings {
        var widget = WidgetSettings()
        guard let map = mapping(node, path: path, allowed: ["allowed_origins", "position", "prechat"]) else { return widget }
        for (index, text) in stringList(map["allowed_origins"], path: path + ".allowed_origins").enumerated() {
            if let origin = WidgetSettings.origin(text) {
                if !widget.allowedOrigins.contains(origin) { widget.allowedOrigins.append(origin) }
            } else {
                report(
                    map["allowed_origins"], path + ".allowed_origins[\(index)]",
                    "'\(text)' is not an origin; write it as https://shop.example")
            }
        }
        if widget.allowedOrigins.count > 20 { report(map["allowed_origins"], path + ".allowed_origins", "lists more than 20 origins") }
        if let position = map["position"], let text = string(position, path: path + ".position") {
            if let value = WidgetSettings.Position(rawValue: text) {
                widget.position = value
            } else {
                report(position, path + ".position", "must be right or left, not '\(text)'")
            }
        }
        if let prechat = map["prechat"], let fields = mapping(prechat, path: path + ".prechat", allowed: ["name", "email", "phone"]) {
            for (key, value) in fields {
                guard let text = string(value, path: path + ".prechat." + key) else { continue }
                guard let field = WidgetSettings.Field(rawValue: text) else {
                    report(value, path + ".prechat." + key, "must be off, optional or required, not '\(text)'")
                    continue
                }
                switch key {
                case "name": widget.name = field
                case "email": widget.email = field
                default: widget.phone = field
                }
            }
        }
        return widget
    }

    private mutating func faqEntry(_ node: Node, path: String, position: Int) -> FAQEntry? {
        guard let map = mapping(node, path: path, allowed: ["slug", "question", "phrasings", "answer", "buttons", "enabled"]) else {
            return nil
        }
        let slug = slugField(map, path: path, node: node)
        let question = requiredString(map, "question", path: path, node: node, maxLength: 300)
        let answer = requiredString(map, "answer", path: path, node: node, maxLength: 4000)
        let phrasings = stringList(map["phrasings"], path: path + ".phrasings")
        var buttons: [LinkButton] = []
        if let node = map["buttons"], let items = sequence(node, path: path + ".buttons") {
            for (index, item) in items.enumerated() {
                let itemPath = "\(path).buttons[\(index)]"
                guard let fields = mapping(item, path: itemPath, allowed: ["title", "url"]),
                    let title = requiredString(fields, "title", path: itemPath, node: item, maxLength: 80),
                    let url = requiredString(fields, "url", path: itemPath, node: item, maxLength: 500)
                else { continue }
                if !KnowledgeStore.isLink(url) { report(fields["url"], itemPath + ".url", "must start with /, https:// or http://") }
                buttons.append(LinkButton(title: title, url: url))
            }
        }
        var enabled = true
        if let node = map["enabled"] {
            if case .scalar(let scalar) = node, let value = Bool(scalar.string) {
                enabled = value
            } else {
                report(node, path + ".enabled", "must be true or false")
            }
        }
        guard let slug, let question, let answer else { return nil }
        return FAQEntry(
            slug: slug, question: question, phrasings: phrasings, answer: answer.trimmingCharacters(in: .whitespacesAndNewlines),
            buttons: buttons, enabled: enabled, position: position)
    }

    private mutating func rule(_ node: Node, path: String, position: Int) -> Rule? {
        guard let map = mapping(node, path: path, allowed: ["name", "when", "then", "enabled"]) else { return nil }
        var name = map["name"].flatMap { string($0, path: path + ".name") }
        if map["name"] == nil { report(node, path, "name is required") }
        if let value = name, !Slug.isValid(value) {
            report(map["name"], path + ".name", "'\(value)' is not a valid name (2–40 lower-case letters, digits and hyphens)")
            name = nil
        }
        var trigger: Rule.Trigger?
        if let when = map["when"], let fields = mapping(when, path: path + ".when", allowed: ["keywords", "regex", "examples"]) {
            if fields.count != 1 {
                report(when, path + ".when", "give one of keywords, regex or examples")
            } else if fields["keywords"] != nil {
                trigger = .keywords(stringList(fields["keywords"], path: path + ".when.keywords"))
            } else if let regex = fields["regex"], let pattern = string(regex, path: path + ".when.regex") {
                trigger = .regex(pattern)
            } else if fields["examples"] != nil {
                trigger = .examples(stringList(fields["examples"], path: path + ".when.examples"))
            }
            if let checked = trigger {
                do { try Rule.check(checked) } catch {
                    report(when, path + ".when", "\(error)")
                    trigger = nil
                }
            }
        } else if map["when"] == nil {
            report(node, path, "when is required")
        }
        var action: Rule.Action?
        if let then = map["then"], let fields = mapping(then, path: path + ".then", allowed: ["reply", "show", "handoff", "set"]) {
            if fields.count != 1 {
                report(then, path + ".then", "give one of reply, show, handoff or set")
            } else if let reply = fields["reply"], let name = string(reply, path: path + ".then.reply") {
                action = .reply(template: name)
            } else if let show = fields["show"], let slug = string(show, path: path + ".then.show") {
                action = .show(slug: slug)
            } else if let handoff = fields["handoff"] {
                if case .scalar(let scalar) = handoff, scalar.string == "true" {
                    action = .handOff
                } else {
                    report(handoff, path + ".then.handoff", "must be true")
                }
            } else if let set = fields["set"] {
                if case .mapping(let pairs) = set, pairs.count == 1, let (key, value) = pairs.first, let field = key.string,
                    let text = value.string, !field.isEmpty, field.count <= 60, text.count <= 200
                {
                    action = .setField(field, text)
                } else {
                    report(set, path + ".then.set", "must be one field and its value, e.g. {set: {wholesale: \"yes\"}}")
                }
            }
        } else if map["then"] == nil {
            report(node, path, "then is required")
        }
        var enabled = true
        if let node = map["enabled"] {
            if case .scalar(let scalar) = node, let value = Bool(scalar.string) {
                enabled = value
            } else {
                report(node, path + ".enabled", "must be true or false")
            }
        }
        guard let name, let trigger, let action else { return nil }
        return Rule(name: name, position: position, enabled: enabled, trigger: trigger, action: action)
    }

    /// A list of strings (or one string).
    mutating func stringList(_ node: Node?, path: String) -> [String] {
        guard let node else { return [] }
        if case .scalar = node { return string(node, path: path).map { [$0] } ?? [] }
        guard let items = sequence(node, path: path) else { return [] }
        return items.enumerated().compactMap { index, item in string(item, path: "\(path)[\(index)]") }
    }
}
