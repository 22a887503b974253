import App
import ArgumentParser
import Foundation

/// `vitrina bot …`: talk to a shop's bot and measure it, through the same pipeline shoppers get.
struct BotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bot", abstract: "Ask a shop's bot a question, or measure it on a question set.", subcommands: [Ask.self, Eval.self])

    struct Ask: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send TEXT as a shopper and print the answer (a new `test` conversation unless --conversation is given).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The shop's slug.") var shop: String
        @Argument(help: "What the shopper writes.") var text: String
        @Option(help: "Continue this conversation.") var conversation: Int?
        @Flag(help: "Print one JSON object.") var json = false

        func run() async throws {
            try await Runtime.run {
                guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw CLIError.usage("TEXT is empty.") }
                let reply = try await Runtime.withServices(options, embeddings: true) { services in
                    let tenant = try await BotCommand.tenant(shop, services)
                    try await BotCommand.embedKnowledge(tenant, services)
                    do {
                        return try await services.botEngine.reply(
                            to: ShopperMessage(text: text, channel: .test, conversationID: conversation), in: tenant)
                    } catch let error as ConversationNotFound {
                        throw CLIError.usage(error.description)
                    }
                }
                if json {
                    say(BotCommand.json(reply))
                    return
                }
                guard let answer = reply.answer else {
                    say("(the bot is silent: conversation \(reply.conversationID) is \(reply.state.rawValue))")
                    return
                }
                say(answer.text)
                for part in answer.parts { say("  [\(part.title)]" + (part.url.map { " " + $0 } ?? "")) }
                var why = "— \(answer.step.rawValue)"
                if let entry = answer.entry { why += " · \(entry.source.rawValue) \(entry.slug)" }
                if let rule = answer.rule { why += " · rule \(rule)" }
                if let score = answer.score { why += " · score \(score)" }
                why += " · conversation \(reply.conversationID) (\(reply.state.rawValue))"
                say(why)
                if let model = answer.model {
                    let tokens = model.tokens.map { " · \($0.total)\($0.estimated ? " (estimated)" : "") tokens" } ?? ""
                    say("  model \(model.model) · \(model.milliseconds) ms\(tokens) · cited: \(model.citations.joined(separator: ", "))")
                    if let refused = model.refused { say("  its reply was not used: \(refused)") }
                }
                for candidate in answer.candidates.prefix(3) {
                    say("    \(candidate.score)  \(candidate.source.rawValue) \(candidate.entry)")
                }
            }
        }
    }

    struct Eval: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a question set and print accuracy, off-topic questions kept out, hand-offs, and the misses.",
            discussion: "Each item: {q: \"...\", expect: [entry-slug, ...] | none | handoff}. See Tests/Fixtures/bot-eval/README.md.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The shop's slug.") var shop: String
        @Argument(help: "The question set (YAML).") var file: String
        @Flag(help: "Print one JSON object (with every question's outcome and top candidates).") var json = false
        @Option(name: .customLong("set"), help: "Override a retrieval setting for this run, e.g. --set threshold=0.4 (tuning).")
        var settings: [String] = []
        @Flag(help: "With --json: add each question's per-entry lexical scores and cosines (for tuning the fusion).")
        var features = false
        @Option(help: "Ask the bot's language model: auto (when the bot has one), on, or off (retrieval alone).")
        var llm: EvaluationModelUse = .auto

        func run() async throws {
            try await Runtime.run {
                var tuning: Retriever.Tuning?
                for setting in settings {
                    let parts = setting.split(separator: "=", maxSplits: 1).map(String.init)
                    guard parts.count == 2, let value = Double(parts[1]) else {
                        throw CLIError.usage("--set takes name=number, not \(setting).")
                    }
                    var changed = tuning ?? Retriever.Tuning()
                    do { try changed.set(parts[0], value) } catch let error as BotSettingsError { throw CLIError.usage(error.description) }
                    tuning = changed
                }
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw CLIError.usage("Cannot read \(file).") }
                let set: QuestionSet
                do { set = try QuestionSet.parse(text, file: file) } catch let error as BotSettingsError {
                    throw CLIError.usage(error.description)
                }
                let chosen = tuning
                let withFeatures = features
                let model = llm
                let report = try await Runtime.withServices(options, embeddings: true) { services in
                    let tenant = try await BotCommand.tenant(shop, services)
                    try await BotCommand.embedKnowledge(tenant, services)
                    do {
                        return try await services.botEngine.evaluate(set, in: tenant, tuning: chosen, features: withFeatures, llm: model)
                    } catch let error as NoModelToEvaluate {
                        throw CLIError.usage(error.description)
                    }
                }
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                    say(String(decoding: try encoder.encode(report), as: UTF8.self))
                    return
                }
                func percent(_ value: Double) -> String { String(format: "%.1f %%", value * 100) }
                say("\(report.shop) (\(report.retrieval)):")
                say(
                    "  right entry first: \(report.rightFirst) / \(report.answerable) (\(percent(report.accuracy)))"
                        + (report.clarifiedRight > 0 ? ", \(report.clarifiedRight) more asked back with the right entry offered" : ""))
                say("  off-topic kept out: \(report.keptOut) / \(report.offTopic) (\(percent(report.keptOutShare)))")
                say("  hand-off requests handed off: \(report.handedOff) / \(report.handoffRequests)")
                if let model = report.llm { BotCommand.describe(model) }
                for miss in report.misses {
                    let got = miss.step + (miss.entry.map { " " + $0 } ?? "") + (miss.score.map { " (\($0))" } ?? "")
                    let top = miss.candidates.map { "\($0.entry) \($0.score)" }.joined(separator: ", ")
                    say("  miss: “\(miss.question)” expected \(miss.expected), got \(got)" + (top.isEmpty ? "" : "; top: \(top)"))
                    if let refused = miss.model?.refused { say("    the model's reply was not used: \(refused)") }
                }
            }
        }
    }

    /// The language model's lines of `bot eval`: its answers, refused replies, tokens and time.
    static func describe(_ model: ModelEvaluation) {
        func share(_ part: Int, _ whole: Int) -> String { String(format: "%.1f %%", whole == 0 ? 0 : Double(part) * 100 / Double(whole)) }
        say("  language model \(model.model): \(model.calls) question(s) asked")
        say(
            "    answered by the model: \(model.answers) (\(share(model.answers, model.calls))), "
                + "\(model.rightAnswers) of them with an expected entry first; asked back: \(model.clarified)")
        say("    replies refused (uncited or invalid → retrieval, fallback or a person): \(model.refused); no reply: \(model.failed)")
        let estimated = model.estimatedTokens ? " (partly estimated)" : ""
        say(
            String(format: "    per question asked: %.0f tokens", model.meanTokens) + estimated
                + String(format: ", %.0f ms", model.meanMilliseconds)
                + " (\(model.promptTokens) prompt + \(model.completionTokens) completion tokens, "
                + String(format: "%.1f s in all)", Double(model.milliseconds) / 1000))
    }

    /// Embeds what of the shop's knowledge is not embedded yet, so the answers are the ones a shopper would get. When
    /// the embeddings endpoint fails, answers are lexical (as a shopper's would be) and a warning says so.
    static func embedKnowledge(_ tenant: TenantRecord, _ services: AppServices) async throws {
        let embedder = services.knowledgeEmbedder
        guard let pending = try? await embedder.pending(tenant), pending > 0 else { return }
        FileHandle.standardError.write(Data("Embedding \(pending) passage(s) of \(tenant.slug)'s knowledge…\n".utf8))
        do {
            try await embedder.embedMissing(tenant, logger: services.logger)
        } catch {
            FileHandle.standardError.write(Data("warning: embedding failed (\(error)); answering from lexical retrieval\n".utf8))
        }
    }

    static func tenant(_ slug: String, _ services: AppServices) async throws -> TenantRecord {
        try await services.directory.reload()
        guard let tenant = try await services.directory.tenant(slug: slug) else { throw TenancyError.unknownTenant(slug) }
        return tenant
    }

    /// The shape the issue names: conversation, text, step, entry, score, state, candidates; with a language model,
    /// `citations`, `tokens` and `model`.
    static func json(_ reply: BotReply) -> String {
        let answer = reply.answer
        var object: [String: Any] = [
            "conversation": reply.conversationID, "text": answer?.text ?? NSNull(), "step": answer?.step.rawValue ?? NSNull(),
            "entry": answer?.entry?.slug ?? NSNull(), "score": answer?.score ?? NSNull(), "state": reply.state.rawValue,
            "candidates": (answer?.candidates ?? []).map { ["entry": $0.entry, "score": $0.score, "source": $0.source.rawValue] },
        ]
        if let rule = answer?.rule { object["rule"] = rule }
        if let handoff = answer?.handoff { object["handoff"] = handoff.rawValue }
        if let model = answer?.model {
            // The entries the model's answer rests on (the first is `entry`), what it cost and how long it took.
            object["citations"] = model.citations.map { String($0.split(separator: ":", maxSplits: 1).last ?? "") }
            object["tokens"] =
                model.tokens.map { ["prompt": $0.prompt, "completion": $0.completion, "total": $0.total, "estimated": $0.estimated] }
                ?? NSNull()
            var report: [String: Any] = ["name": model.model, "milliseconds": model.milliseconds, "passages": model.passages]
            if let refused = model.refused { report["refused"] = refused }
            object["model"] = report
        }
        if let notes = answer?.notes, !notes.isEmpty { object["notes"] = notes }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

extension EvaluationModelUse: ExpressibleByArgument {}
