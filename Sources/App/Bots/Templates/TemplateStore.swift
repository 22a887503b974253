import Foundation
import PostgresNIO

/// Response templates and rules in a tenant's schema, inside the tenant's transaction.
public struct BotConfigStore: Sendable {
    public init() {}

    // MARK: Templates

    public func templates(on tenant: TenantConnection) async throws -> [ResponseTemplate] {
        try await tenant.all(TemplateRow.self, "SELECT id::int, name, text, buttons::text FROM response_templates ORDER BY name").map(
            \.template)
    }

    /// Checks a template's name and text (a broken tag, an unknown variable), as sentences keyed by field.
    public static func check(_ template: ResponseTemplate) -> [String: String] {
        var errors: [String: String] = [:]
        if !Slug.isValid(template.name) || template.name.count > 60 {
            errors["name"] = "Use 2–40 lower-case Latin letters, digits and single hyphens, starting with a letter."
        }
        if template.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            errors["text"] = "The text is required."
        } else if template.text.databaseLength > 4000 {
            errors["text"] = "At most 4000 characters."
        } else {
            do { try ResponseTemplate.check(template.text) } catch { errors["text"] = "\(error)" }
        }
        if template.buttons.count > 10 || template.buttons.contains(where: { $0.isEmpty || $0.databaseLength > 60 }) {
            errors["buttons"] = "Up to 10 quick replies of 1–60 characters."
        }
        return errors
    }

    @discardableResult
    public func upsert(_ template: ResponseTemplate, on tenant: TenantConnection) async throws -> KnowledgeStore.Upsert {
        if let first = Self.check(template).sorted(by: { $0.key < $1.key }).first { throw BotSettingsError("\(first.key): \(first.value)") }
        let inserted = try await tenant.value(
            Bool.self,
            """
            INSERT INTO response_templates AS t (name, text, buttons) VALUES (\(template.name), \(template.text),
                \(BotJSON.encode(template.buttons))::jsonb)
            ON CONFLICT (name) DO UPDATE SET text = EXCLUDED.text, buttons = EXCLUDED.buttons, updated_at = now()
            WHERE (t.text, t.buttons) IS DISTINCT FROM (EXCLUDED.text, EXCLUDED.buttons)
            RETURNING (xmax = 0)
            """)
        guard let inserted else { return .unchanged }
        return inserted ? .created : .updated
    }

    public func deleteTemplate(name: String, on tenant: TenantConnection) async throws -> Bool {
        try await !tenant.rows("DELETE FROM response_templates WHERE name = \(name) RETURNING id").isEmpty
    }

    public func deleteTemplates(except keep: [String], on tenant: TenantConnection) async throws -> [String] {
        try await tenant.values(String.self, "DELETE FROM response_templates WHERE NOT (name = ANY(\(keep))) RETURNING name")
    }

    // MARK: Rules

    public func rules(on tenant: TenantConnection) async throws -> [Rule] {
        try await tenant.all(
            RuleRow.self, "SELECT id::int, name, position, enabled, trigger::text, action::text FROM rules ORDER BY position, name"
        )
        .compactMap(\.rule)
    }

    @discardableResult
    public func upsert(_ rule: Rule, on tenant: TenantConnection) async throws -> KnowledgeStore.Upsert {
        guard Slug.isValid(rule.name), rule.name.count <= 60 else {
            throw BotSettingsError("name: use 1–60 lower-case letters, digits and hyphens.")
        }
        try Rule.check(rule.trigger)
        let inserted = try await tenant.value(
            Bool.self,
            """
            INSERT INTO rules AS r (name, position, enabled, trigger, action)
            VALUES (\(rule.name), \(rule.position), \(rule.enabled), \(rule.trigger.json)::jsonb, \(rule.action.json)::jsonb)
            ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, enabled = EXCLUDED.enabled, trigger = EXCLUDED.trigger,
                action = EXCLUDED.action, updated_at = now()
            WHERE (r.position, r.enabled, r.trigger, r.action) IS DISTINCT FROM
                (EXCLUDED.position, EXCLUDED.enabled, EXCLUDED.trigger, EXCLUDED.action)
            RETURNING (xmax = 0)
            """)
        guard let inserted else { return .unchanged }
        return inserted ? .created : .updated
    }

    public func deleteRule(name: String, on tenant: TenantConnection) async throws -> Bool {
        try await !tenant.rows("DELETE FROM rules WHERE name = \(name) RETURNING id").isEmpty
    }

    public func deleteRules(except keep: [String], on tenant: TenantConnection) async throws -> [String] {
        try await tenant.values(String.self, "DELETE FROM rules WHERE NOT (name = ANY(\(keep))) RETURNING name")
    }
}

struct TemplateRow: RowDecodable {
    let template: ResponseTemplate

    init(row: PostgresRow) throws {
        let (id, name, text, buttons) = try row.decode((Int, String, String, String).self)
        template = ResponseTemplate(
            id: id, name: name, text: text, buttons: (try? JSONDecoder().decode([String].self, from: Data(buttons.utf8))) ?? [])
    }
}

struct RuleRow: RowDecodable {
    let rule: Rule?

    init(row: PostgresRow) throws {
        let (id, name, position, enabled, trigger, action) = try row.decode((Int, String, Int, Bool, String, String).self)
        guard let trigger = Rule.Trigger(json: trigger), let action = Rule.Action(json: action) else {
            rule = nil
            return
        }
        rule = Rule(id: id, name: name, position: position, enabled: enabled, trigger: trigger, action: action)
    }
}
