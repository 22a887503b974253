import Foundation

extension BotSettingsChange {
    /// `embeddings` and `embedding_model`: set on the bot's own provider, whose embeddings then embed the shop's
    /// knowledge when the bot is the shop's first (docs/LLM.md). A bot without a provider of its own can only stay local.
    func applyEmbeddings(to bot: inout Bot, problems: inout [FieldProblem]) {
        guard embeddings != nil || embeddingModel != nil else { return }
        var source = bot.llm.provider?.embeddings ?? .local
        if let embeddings {
            guard let value = LLMProvider.EmbeddingsSource(rawValue: embeddings) else {
                problems.append(FieldProblem(field: "embeddings", message: "Must be local or provider."))
                return
            }
            source = value
        }
        guard var provider = bot.llm.provider else {
            if source == .provider || embeddingModel != nil {
                problems.append(
                    FieldProblem(
                        field: "embeddings",
                        message:
                            "Needs the bot's own model (llm.mode own with a provider); a bot that follows its agency embeds as the agency says."
                    ))
            }
            return
        }
        provider.embeddings = source
        if let embeddingModel {
            // The length as sent (the document's maxLength), before trimming.
            if let raw = embeddingModel, raw.databaseLength > 200 {
                problems.append(FieldProblem(field: "embedding_model", message: "At most 200 characters."))
                return
            }
            provider.embeddingModel = embeddingModel?.apiText
        }
        do {
            try ProviderEmbeddings.check(provider)
        } catch {
            let sentence = "\(error)"
            let field = sentence.hasPrefix("llm.embedding_model") ? "embedding_model" : "embeddings"
            let message = sentence.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? sentence
            problems.append(FieldProblem(field: field, message: message.prefix(1).uppercased() + message.dropFirst()))
            return
        }
        bot.llm.provider = provider
    }
}
