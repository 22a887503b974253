import Foundation

/// The FAQ list with its "test a question" box.
struct BotFAQListPage {
    struct Row {
        let question: String
        let slug: String
        let phrasings: String
        let enabled: Bool
        let editURL: String
    }

    struct Test {
        let step: String
        let answer: String
        let entryTitle: String?
        let score: String?
        let threshold: String
        let candidates: [BotTryPage.Candidate]
        let hasCandidates: Bool
    }

    let rows: [Row]
    let empty: Bool
    let canEdit: Bool
    let newURL = PanelURL.newBotFAQ.path
    let testURL = PanelURL.botFAQ.path
    /// FAQ entries the model drafted, waiting for the shop.
    let draftsURL = PanelURL.botFAQDrafts.path
    let query: String
    let test: Test?
}

/// The FAQ entry form: what is stored or typed, with a sentence beside each refused field.
struct BotFAQFormPage {
    var isNew: Bool
    var action: String
    var slug: String
    var question: String
    var phrasings: String
    var answer: String
    var buttons: String
    var enabled: Bool
    var errors: [String: String] = [:]
    var showErrors = false
    var deleteURL: String?
    let cancelURL = PanelURL.botFAQ.path

    init(isNew: Bool, action: String, entry: FAQEntry) {
        self.isNew = isNew
        self.action = action
        slug = entry.slug
        question = entry.question
        phrasings = entry.phrasings.joined(separator: "\n")
        answer = entry.answer
        buttons = entry.buttons.map { $0.title + " | " + $0.url }.joined(separator: "\n")
        enabled = entry.enabled
    }

    /// The form as typed, and the entry it stands for (a slug made from the question when left empty).
    init(isNew: Bool, action: String, form: FormData) {
        self.isNew = isNew
        self.action = action
        question = form.text("question")
        let typedSlug = form.text("slug").lowercased()
        slug = typedSlug.isEmpty ? Transliteration.slug(from: question) : typedSlug
        phrasings = form.raw("phrasings").trimmingCharacters(in: .whitespacesAndNewlines)
        answer = form.raw("answer").trimmingCharacters(in: .whitespacesAndNewlines)
        buttons = form.raw("buttons").trimmingCharacters(in: .whitespacesAndNewlines)
        enabled = form["enabled"] != nil
    }

    /// The entry, or the refused fields as interface-text keys' sentences.
    func entry(t: [String: String]) -> (FAQEntry, [String: String]) {
        var links: [LinkButton] = []
        var buttonsBad = false
        for line in buttons.split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let parts = line.split(separator: "|", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2 { links.append(LinkButton(title: parts[0], url: parts[1])) } else { buttonsBad = true }
        }
        let entry = FAQEntry(
            slug: slug, question: question, phrasings: phrasings.split(separator: "\n").map(String.init), answer: answer, buttons: links,
            enabled: enabled)
        var errors = KnowledgeStore.check(entry).reduce(into: [String: String]()) { errors, item in
            errors[item.key] = t["bot_faq_invalid_" + item.key] ?? item.value
        }
        if buttonsBad { errors["buttons"] = t["bot_faq_invalid_buttons"] }
        return (entry, errors)
    }
}
