import Foundation

/// The bot's settings form: what is stored, or what was typed with a sentence beside each refused field.
struct BotSettingsPage {
    /// Which of the shop's bots the form edits (kept in the form's address).
    var slug = ""
    var name: String
    var greeting: String
    var fallback: String
    var language: String
    var threshold: String
    var handoffOnRequest: Bool
    var handoffAfterFallbacks: String
    var handoffKeywords: String
    var timezone: String
    var hours: String
    var awayMessage: String
    /// The picture's file name among the brand assets (kept in a hidden field while the form is corrected).
    var avatar: String?
    /// The widget's allowed storefront origins (one a line), launcher side and pre-chat fields; nil: not in the form
    /// (the stored value stays).
    var widgetOrigins: String?
    var widgetPosition: String?
    var prechat: [String: String] = [:]
    var errors: [String: String] = [:]
    var showErrors = false
    var languages: [SelectOption] = []
    /// Set by `finish()`: the template sees stored properties only.
    var action = ""
    var avatarURL: String?
    let newAction = PanelURL.newBot.path
    /// The shop's bots, for switching between them, and the form that adds one.
    var bots: [BotLink] = []
    var hasSeveral = false
    var newSlug = ""
    var newName = ""
    /// "2 of 3 bots on your plan", when the plan has a limit.
    var limitNote: String?
    /// The bot's language model in a line, and the page that sets it.
    var modelSummary = ""
    var modelURL = ""

    struct BotLink {
        let name: String
        let slug: String
        let url: String
        let current: Bool
    }
    let tryURL = PanelURL.botTry.path
    /// The widget's `<script>` for the shop's pages, from the address the panel was opened at.
    var embedCode = ""
    var copyScript = ""
    var positions: [SelectOption] = []
    var prechatFields: [PrechatField] = []

    struct PrechatField {
        let name: String
        let label: String
        let options: [SelectOption]
    }

    /// The pre-chat form's fields, in order.
    static let prechatNames = ["name", "email", "phone"]
    var defaultThreshold = ""
    var variables = ResponseTemplate.variables.map { "{{" + $0 + "}}" }.joined(separator: " ")

    init(_ bot: Bot) {
        slug = bot.slug
        name = bot.name
        greeting = bot.greeting
        fallback = bot.fallback
        language = bot.language.rawValue
        threshold = bot.threshold.map { String($0) } ?? ""
        handoffOnRequest = bot.handoffOnRequest
        handoffAfterFallbacks = String(bot.handoffAfterFallbacks)
        handoffKeywords = bot.handoffKeywords.joined(separator: ", ")
        timezone = bot.hours?.timezone ?? "Europe/Moscow"
        hours = bot.hours?.week.map { $0.0 + " " + $0.1 }.joined(separator: "\n") ?? ""
        awayMessage = bot.awayMessage
        avatar = bot.avatar
        widgetOrigins = bot.widget.allowedOrigins.joined(separator: "\n")
        widgetPosition = bot.widget.position.rawValue
        prechat = ["name": bot.widget.name.rawValue, "email": bot.widget.email.rawValue, "phone": bot.widget.phone.rawValue]
    }

    /// Fills in what the template shows from the rest.
    mutating func finish() {
        action = PanelURL.bot.path(query: [("bot", slug)])
        modelURL = PanelURL.botModel.path(query: [("bot", slug)])
        avatarURL = avatar.map { SiteURL.brandAsset($0).path }
        hasSeveral = bots.count > 1
    }

    /// An asset file name a bot's picture can have.
    static func isAvatarName(_ name: String) -> Bool {
        name.wholeMatch(of: /[0-9a-f]{64}\.(png|svg)/) != nil
    }

    /// The form as typed.
    init(form: FormData) {
        name = form.text("name")
        greeting = form.raw("greeting").trimmingCharacters(in: .whitespacesAndNewlines)
        fallback = form.raw("fallback").trimmingCharacters(in: .whitespacesAndNewlines)
        language = form.text("language")
        threshold = form.text("threshold")
        handoffOnRequest = form["handoff_on_request"] != nil
        handoffAfterFallbacks = form.text("handoff_after_fallbacks")
        handoffKeywords = form.text("handoff_keywords")
        timezone = form.text("timezone")
        hours = form.raw("hours").trimmingCharacters(in: .whitespacesAndNewlines)
        awayMessage = form.raw("away_message").trimmingCharacters(in: .whitespacesAndNewlines)
        let kept = form.text("avatar")
        avatar = form["avatar_remove"] != nil || !Self.isAvatarName(kept) ? nil : kept
        widgetOrigins = form["widget_origins"].map { _ in form.raw("widget_origins").trimmingCharacters(in: .whitespacesAndNewlines) }
        widgetPosition = form["widget_position"].map { _ in form.text("widget_position") }
        for name in Self.prechatNames {
            if form["prechat_" + name] != nil { prechat[name] = form.text("prechat_" + name) }
        }
    }

    /// The widget's choices as the template shows them, from the typed or stored values.
    mutating func finishWidget(t: [String: String]) {
        positions = WidgetSettings.Position.allCases.map {
            SelectOption(
                value: $0.rawValue, label: t["bot_widget_position_" + $0.rawValue] ?? $0.rawValue, selected: $0.rawValue == widgetPosition)
        }
        prechatFields = Self.prechatNames.map { name in
            PrechatField(
                name: "prechat_" + name, label: t["bot_widget_prechat_" + name] ?? name,
                options: WidgetSettings.Field.allCases.map {
                    SelectOption(
                        value: $0.rawValue, label: t["bot_widget_field_" + $0.rawValue] ?? $0.rawValue,
                        selected: $0.rawValue == prechat[name])
                })
        }
    }

    /// The widget's settings the form asks for applied to `widget`, or the sentences that refuse them: each origin
    /// normalised (`shop.example` is `https://shop.example`), a line that is not one named.
    func widget(applied widget: WidgetSettings, t: [String: String]) -> (WidgetSettings, [String: String]) {
        var widget = widget
        var errors: [String: String] = [:]
        if let widgetOrigins {
            var origins: [String] = []
            for (number, line) in widgetOrigins.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let typed = line.trimmingCharacters(in: .whitespaces)
                guard !typed.isEmpty else { continue }
                guard let origin = WidgetSettings.origin(typed) else {
                    let sentence = t["bot_widget_origin_invalid"] ?? ""
                    errors["widget_origins"] = sentence.replacingOccurrences(of: "%n", with: String(number + 1))
                        .replacingOccurrences(of: "%s", with: String(typed.prefix(80)))
                    break
                }
                if !origins.contains(origin) { origins.append(origin) }
            }
            if errors.isEmpty, origins.count > 20 { errors["widget_origins"] = t["bot_widget_origins_too_many"] }
            widget.allowedOrigins = origins
        }
        if let widgetPosition {
            if let position = WidgetSettings.Position(rawValue: widgetPosition) {
                widget.position = position
            } else {
                errors["widget_position"] = t["form_invalid_choice"]
            }
        }
        for name in Self.prechatNames {
            guard let typed = prechat[name] else { continue }
            guard let field = WidgetSettings.Field(rawValue: typed) else {
                errors["prechat"] = t["form_invalid_choice"]
                continue
            }
            switch name {
            case "name": widget.name = field
            case "email": widget.email = field
            default: widget.phone = field
            }
        }
        return (widget, errors)
    }

    /// The settings the form asks for applied to `bot`, or the sentences (interface-text keys resolved in `t`) that
    /// refuse it.
    func settings(applied bot: Bot, t: [String: String]) -> (Bot, [String: String]) {
        var bot = bot
        var errors: [String: String] = [:]
        if name.count > 80 { errors["name"] = t["form_too_long"] }
        bot.name = name
        for (field, text) in [("greeting", greeting), ("fallback", fallback), ("away_message", awayMessage)] {
            if text.count > 2000 {
                errors[field] = t["form_too_long"]
            } else if let problem = Self.templateProblem(text, t: t) {
                errors[field] = problem
            }
        }
        bot.greeting = greeting
        bot.fallback = fallback
        bot.awayMessage = awayMessage
        bot.avatar = avatar
        if let chosen = Bot.Language(rawValue: language) { bot.language = chosen } else { errors["language"] = t["form_invalid_choice"] }
        if threshold.isEmpty {
            bot.threshold = nil
        } else if let value = Double(threshold.replacingOccurrences(of: ",", with: ".")), (0...1).contains(value) {
            bot.threshold = value
        } else {
            errors["threshold"] = t["bot_threshold_invalid"]
        }
        bot.handoffOnRequest = handoffOnRequest
        if let count = Int(handoffAfterFallbacks.isEmpty ? "0" : handoffAfterFallbacks), (0...20).contains(count) {
            bot.handoffAfterFallbacks = count
        } else {
            errors["handoff_after_fallbacks"] = t["bot_fallbacks_invalid"]
        }
        bot.handoffKeywords = handoffKeywords.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if bot.handoffKeywords.count > 50 || bot.handoffKeywords.contains(where: { $0.count > 60 }) {
            errors["handoff_keywords"] = t["bot_keywords_invalid"]
        }
        switch Self.hours(timezone: timezone, lines: hours) {
        case .success(let parsed): bot.hours = parsed
        case .failure(let problem):
            errors[problem.field] = (t[problem.key] ?? problem.key).replacingOccurrences(of: "%n", with: String(problem.line))
        }
        let (widget, widgetErrors) = self.widget(applied: bot.widget, t: t)
        bot.widget = widget
        errors.merge(widgetErrors) { first, _ in first }
        return (bot, errors)
    }

    struct HoursProblem: Error {
        let field: String
        let key: String
        var line = 0
    }

    /// Business hours from a time zone and lines such as `mon-fri 09:00-21:00`; none when there are no lines.
    static func hours(timezone: String, lines text: String) -> Result<BusinessHours?, HoursProblem> {
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        guard lines.contains(where: { !$0.isEmpty }) else { return .success(nil) }
        guard TimeZone(identifier: timezone) != nil else { return .failure(HoursProblem(field: "timezone", key: "bot_timezone_invalid")) }
        var week: [(String, String)] = []
        for (number, line) in lines.enumerated() where !line.isEmpty {
            let parts = line.split(separator: " ", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            let entry = (parts[0], parts.count > 1 ? parts[1] : "")
            guard parts.count == 2, (try? BusinessHours.parse(timezone: timezone, week: [entry])) != nil else {
                return .failure(HoursProblem(field: "hours", key: "bot_hours_invalid", line: number + 1))
            }
            week.append(entry)
        }
        do { return .success(try BusinessHours.parse(timezone: timezone, week: week)) } catch {
            return .failure(HoursProblem(field: "hours", key: "bot_hours_invalid", line: 1))
        }
    }

    /// Why a reply text cannot be used as a template (the engine's sentence after ours), or nil.
    static func templateProblem(_ text: String, t: [String: String]) -> String? {
        guard !text.isEmpty else { return nil }
        do {
            try ResponseTemplate.check(text)
            return nil
        } catch {
            return (t["bot_template_invalid"] ?? "") + " " + String(describing: error)
        }
    }
}
