import Foundation

extension ManifestApplier {
    /// Brings a tenant's bot, FAQ, synonyms, templates and rules in line with the file, inside its transaction.
    func applyBot(
        _ spec: BotSpec, tenant slug: String, scope: TenantScope, isNewTenant: Bool, prune: Bool, modelKeys: [String: String] = [:],
        on connection: Transaction, into changes: inout [ManifestChange]
    ) async throws {
        guard !spec.isEmpty else { return }
        let found = try await TenantDatabase.scoped(connection, scope) { tenant -> [ManifestChange] in
            var changes: [ManifestChange] = []
            func note(_ outcome: KnowledgeStore.Upsert, _ what: String) {
                guard outcome != .unchanged else { return }
                changes.append(.init(kind: outcome == .created ? .create : .update, text: "\(what)"))
            }
            do {
                if var bot = spec.bot, let current = try await BotStore.find(id: nil, on: tenant) {
                    bot.id = current.id
                    bot.slug = current.slug
                    bot.avatar = current.avatar
                    bot.handoffKeywords = BotStore.keywords(bot.handoffKeywords)
                    if bot != current {
                        try await BotStore().update(bot, on: tenant)
                        changes.append(.init(kind: .update, text: "bot \(slug): settings"))
                    }
                    if let llm = spec.llm, try await applyBotModelKey(llm, botID: current.id, keys: modelKeys, on: tenant) {
                        changes.append(.init(kind: .update, text: "bot \(slug): the language model's key"))
                    }
                }
                let store = KnowledgeStore()
                if let faq = spec.faq {
                    for entry in faq { note(try await store.upsert(entry, on: tenant), "faq \(slug)/\(entry.slug)") }
                    if prune {
                        for gone in try await store.deleteFAQ(except: faq.map(\.slug), on: tenant) {
                            changes.append(.init(kind: .remove, text: "faq \(slug)/\(gone)"))
                        }
                    }
                }
                if let synonyms = spec.synonyms, try await store.replaceSynonyms(synonyms, on: tenant) {
                    changes.append(.init(kind: .update, text: "synonyms \(slug): \(synonyms.count)"))
                }
                let config = BotConfigStore()
                if let templates = spec.templates {
                    for template in templates { note(try await config.upsert(template, on: tenant), "template \(slug)/\(template.name)") }
                    if prune {
                        for gone in try await config.deleteTemplates(except: templates.map(\.name), on: tenant) {
                            changes.append(.init(kind: .remove, text: "template \(slug)/\(gone)"))
                        }
                    }
                }
                if let rules = spec.rules {
                    for rule in rules { note(try await config.upsert(rule, on: tenant), "rule \(slug)/\(rule.name)") }
                    if prune {
                        for gone in try await config.deleteRules(except: rules.map(\.name), on: tenant) {
                            changes.append(.init(kind: .remove, text: "rule \(slug)/\(gone)"))
                        }
                    }
                }
            } catch let error as BotSettingsError {
                throw ManifestError(issues: [ManifestIssue(file: file, line: nil, path: "tenant \(slug)", message: error.description)])
            }
            return changes
        }
        if isNewTenant, !found.isEmpty, let index = changes.indices.last {
            let faq = found.filter { $0.text.hasPrefix("faq ") }.count
            changes[index].text += ", a bot" + (faq > 0 ? " with \(faq) FAQ entries" : "")
        } else {
            changes += found
        }
    }
}
