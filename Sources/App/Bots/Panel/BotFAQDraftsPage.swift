import Foundation

/// The drafts' page: each draft with its source and its two actions, the article picker, and the latest runs' state.
struct BotFAQDraftsPage {
    struct Draft {
        let question: String
        let phrasings: [String]
        let hasPhrasings: Bool
        let answer: String
        let source: String
        let created: String
        let approveURL: String
        let discardURL: String
    }

    struct Run {
        let source: String
        let state: String
        let error: String?
    }

    let drafts: [Draft]
    let empty: Bool
    let articles: [SelectOption]
    let hasArticles: Bool
    let runs: [Run]
    let hasRuns: Bool
    let requestURL = PanelURL.newBotFAQDrafts.path
    let faqURL = PanelURL.botFAQ.path

    init(
        drafts: [FAQDraft], articles: [(slug: String, title: String)], jobs: [(source: String, status: String, error: String?)],
        t: [String: String], language: String
    ) {
        let titles = Dictionary(articles.map { ("article:" + $0.slug, $0.title) }, uniquingKeysWith: { first, _ in first })
        func source(_ label: String) -> String {
            if let title = titles[label] { return (t["bot_faq_draft_from_article"] ?? "%s").replacingOccurrences(of: "%s", with: title) }
            if label.hasPrefix("conversation:") {
                return (t["bot_faq_draft_from_conversation"] ?? "%n").replacingOccurrences(
                    of: "%n", with: String(label.dropFirst("conversation:".count)))
            }
            if label == "conversations" { return t["bot_faq_drafts_from_conversations"] ?? label }
            return label
        }
        self.drafts = drafts.map { draft in
            Draft(
                question: draft.question, phrasings: draft.phrasings, hasPhrasings: !draft.phrasings.isEmpty, answer: draft.answer,
                source: source(draft.source), created: DateText.dateTime(draft.createdAt, language: language),
                approveURL: PanelURL.approveBotFAQDraft(draft.id).path, discardURL: PanelURL.discardBotFAQDraft(draft.id).path)
        }
        empty = drafts.isEmpty
        self.articles = articles.map { SelectOption(value: $0.slug, label: $0.title, selected: false) }
        hasArticles = !articles.isEmpty
        runs = jobs.filter { $0.status != "done" }.map { job in
            Run(
                source: source(job.source), state: t["bot_faq_drafts_run_" + job.status] ?? job.status,
                // The job's own error is for the operator's Jobs page (it may be English or internal): the shop gets
                // a sentence in its language and what to do.
                error: job.status == "failed" ? (t["bot_faq_drafts_run_failed_why"] ?? job.error) : nil)
        }
        hasRuns = !runs.isEmpty
    }
}
