import Foundation
import Logging

/// Each messenger's client, by kind (Alice has none: it answers in its webhook's response).
public struct ChannelClients: Sendable {
    public let telegram: any MessengerClient
    public let whatsapp: any MessengerClient

    public init(telegram: any MessengerClient, whatsapp: any MessengerClient) {
        self.telegram = telegram
        self.whatsapp = whatsapp
    }

    public func client(for kind: ChannelKind) -> (any MessengerClient)? {
        switch kind {
        case .telegram: telegram
        case .whatsapp: whatsapp
        case .alice: nil
        }
    }
}

/// The job that sets a saved connection up at its provider (`tenants.yml` saves connections without calling anyone).
public struct ConnectChannel: JobKind {
    public static let kind = "channel.connect"
    public var connection: Int

    public init(connection: Int) { self.connection = connection }
}

/// Connects bots to messengers and disconnects them: saves the connection, sets it up at the provider with no
/// transaction open (Telegram's `getMe` and `setWebhook`), and records the outcome. The panel, the API and the CLI
/// connect at once; `tenants.yml` saves and queues `channel.connect`.
public struct ChannelConnector: Sendable {
    let tenants: TenantDatabase
    let store: ChannelConnectionStore
    let clients: ChannelClients
    let directory: TenantDirectory
    /// `https` behind the proxy, else this server's own port (development): as links in e-mails.
    let origin: Origin

    init(tenants: TenantDatabase, store: ChannelConnectionStore, clients: ChannelClients, directory: TenantDirectory, origin: Origin) {
        self.tenants = tenants
        self.store = store
        self.clients = clients
        self.directory = directory
        self.origin = origin
    }

    /// What a shop asks to connect, before it is checked.
    public struct Request: Sendable {
        public var kind: ChannelKind
        /// Telegram's bot token; WhatsApp's access token. Nil keeps the stored one (a form left blank).
        public var token: String?
        public var appSecret: String?
        public var phoneNumberID: String?
        public var skillID: String?
        public var dropPendingUpdates: Bool
        public var handoffContact: String?
        public var templates: [WhatsAppTemplate]?

        public init(
            kind: ChannelKind, token: String? = nil, appSecret: String? = nil, phoneNumberID: String? = nil, skillID: String? = nil,
            dropPendingUpdates: Bool = false, handoffContact: String? = nil, templates: [WhatsAppTemplate]? = nil
        ) {
            self.kind = kind
            self.token = token
            self.appSecret = appSecret
            self.phoneNumberID = phoneNumberID
            self.skillID = skillID
            self.dropPendingUpdates = dropPendingUpdates
            self.handoffContact = handoffContact
            self.templates = templates
        }
    }

    /// The webhook's full address on the shop's primary host.
    public func webhookURL(_ connection: ChannelConnection, tenant: TenantRecord) -> String {
        origin.url(host: directory.snapshot.primaryHost(of: tenant)) + connection.webhookPath
    }

    /// Checks the request and merges it with what is stored: the settings and secrets to save.
    func merged(
        _ request: Request, existing: ChannelConnection?
    ) throws -> (ChannelSettings, ChannelSecrets) {
        var settings = existing?.settings ?? ChannelSettings()
        var secrets = existing?.secrets ?? ChannelSecrets()
        let token = request.token?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty ?? secrets.token
        if let contact = request.handoffContact {
            settings.handoffContact = String(contact.trimmingCharacters(in: .whitespaces).prefix(200)).nilIfEmpty
        }
        switch request.kind {
        case .telegram:
            guard let token, token.wholeMatch(of: /[0-9]{3,20}:[A-Za-z0-9_-]{20,80}/) != nil else {
                throw ChannelConnectionError("telegram_token", "A Telegram bot token looks like 123456789:AAE…, as @BotFather gave it.")
            }
            if token != secrets.token { settings.username = nil }
            secrets.token = token
            settings.dropPendingUpdates = request.dropPendingUpdates
            // The secret stays for the connection's life: a set-up that fails never leaves Telegram and us with two.
            if secrets.webhookSecret == nil { secrets.webhookSecret = ChannelConnection.newWebhookSecret() }
        case .whatsapp:
            let phone = request.phoneNumberID?.trimmingCharacters(in: .whitespaces).nilIfEmpty ?? settings.phoneNumberID
            guard let phone, phone.wholeMatch(of: /[0-9]{5,30}/) != nil else {
                throw ChannelConnectionError("whatsapp_phone", "The phone number ID is a number from Meta's WhatsApp settings (API Setup).")
            }
            guard let token, token.count >= 20, token.count <= 4000, !token.contains(where: \.isWhitespace) else {
                throw ChannelConnectionError("whatsapp_token", "Paste the access token of the app's system user from Meta's settings.")
            }
            let secret = request.appSecret?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty ?? secrets.appSecret
            guard let secret, secret.wholeMatch(of: /[A-Za-z0-9]{16,128}/) != nil else {
                throw ChannelConnectionError("whatsapp_secret", "The app secret is in Meta's app settings, under Basic.")
            }
            if phone != settings.phoneNumberID { settings.displayPhoneNumber = nil }
            settings.phoneNumberID = phone
            secrets.token = token
            secrets.appSecret = secret
            // The verify token is pasted once at Meta: it stays as long as the connection does.
            if secrets.webhookSecret == nil { secrets.webhookSecret = ChannelConnection.newWebhookSecret() }
            if let templates = request.templates { settings.templates = templates }
        case .alice:
            let skill = request.skillID?.trimmingCharacters(in: .whitespaces).lowercased().nilIfEmpty ?? settings.skillID
            guard let skill, UUID(uuidString: skill) != nil else {
                throw ChannelConnectionError("alice_skill", "The skill ID is the UUID in the skill's settings in Yandex Dialogs.")
            }
            settings.skillID = skill
        }
        return (settings, secrets)
    }

    /// Connects the bot (or changes its connection): saved as pending, set up at the provider, then active or failed
    /// with the provider's sentence. Bad input throws `ChannelConnectionError` before anything is saved.
    public func connect(
        _ request: Request, botID: Int, in tenant: TenantRecord, logger: Logger
    ) async throws -> ChannelConnection {
        let saved = try await tenants.withTenant(tenant, logger: logger) { connection in
            guard try await connection.value(Int.self, "SELECT id::int FROM bots WHERE id = \(botID)") != nil else { throw NoBot() }
            let existing = try await store.find(botID: botID, kind: request.kind, on: connection)
            let (settings, secrets) = try merged(request, existing: existing)
            return try await store.save(
                botID: botID, kind: request.kind, settings: settings, secrets: secrets,
                status: request.kind == .alice ? .active : .pending, on: connection)
        }
        guard saved.kind != .alice else { return saved }
        return try await setUp(saved, in: tenant, logger: logger)
    }

    /// Saves a connection without calling the provider and queues its set-up (`tenants.yml`), in the caller's transaction.
    public func schedule(
        _ request: Request, botID: Int, jobs: JobQueue, tenant: TenantRecord, on connection: TenantConnection
    ) async throws -> ChannelConnection {
        let existing = try await store.find(botID: botID, kind: request.kind, on: connection)
        let (settings, secrets) = try merged(request, existing: existing)
        if let existing, existing.settings == settings, existing.secrets.token == secrets.token,
            existing.secrets.appSecret == secrets.appSecret, existing.status != .failed
        {
            return existing
        }
        let saved = try await store.save(
            botID: botID, kind: request.kind, settings: settings, secrets: secrets,
            status: request.kind == .alice ? .active : .pending, on: connection)
        if saved.kind != .alice {
            try await jobs.enqueue(
                ConnectChannel(connection: saved.id), tenant: tenant.id, maxAttempts: 8,
                idempotencyKey: "connect:\(tenant.id):\(saved.id):\(saved.updatedAt.timeIntervalSince1970)", on: connection)
        }
        return saved
    }

    /// The job `channel.connect`: sets a pending connection up; a network failure is tried again, a refusal recorded,
    /// and on the last attempt a provider still out of reach marks the connection failed with its sentence.
    public func run(_ job: ConnectChannel, in tenant: TenantRecord, lastAttempt: Bool = false, logger: Logger) async throws {
        let found = try await tenants.withTenant(tenant, readOnly: true, logger: logger) {
            try await store.find(id: job.connection, on: $0)
        }
        guard let found, found.status == .pending else { return }
        _ = try await setUp(found, in: tenant, logger: logger, rethrowTransient: !lastAttempt)
    }

    private func setUp(
        _ saved: ChannelConnection, in tenant: TenantRecord, logger: Logger, rethrowTransient: Bool = false
    ) async throws -> ChannelConnection {
        guard let client = clients.client(for: saved.kind) else { return saved }
        var result = saved
        do {
            result.settings = try await client.setUp(saved, webhookURL: webhookURL(saved, tenant: tenant))
            result.status = .active
            result.statusDetail = nil
            result.statusKey = nil
        } catch let refused as ChannelConnectionError {
            result.status = .failed
            result.statusDetail = refused.description
            result.statusKey = refused.key
        } catch {
            logger.notice("A channel could not be set up", metadata: ["kind": "\(saved.kind.rawValue)", "error": "\(error)"])
            if rethrowTransient { throw error }
            result.status = .failed
            result.statusDetail = "The provider could not be reached; try again in a minute."
            result.statusKey = "unreachable"
        }
        let final = result
        try await tenants.withTenant(tenant, logger: logger) { connection in
            try await store.setStatus(
                final.id, final.status, detail: final.statusDetail, key: final.statusKey, settings: final.settings, on: connection)
        }
        return final
    }

    /// Disconnects the bot from a messenger: the connection is deleted, then the provider told (Telegram's
    /// `deleteWebhook`); a provider that cannot be reached only stops mattering. Returns what was removed.
    @discardableResult
    public func disconnect(botID: Int, kind: ChannelKind, in tenant: TenantRecord, logger: Logger) async throws -> ChannelConnection? {
        let removed = try await tenants.withTenant(tenant, logger: logger) { try await store.delete(botID: botID, kind: kind, on: $0) }
        if let removed, let client = clients.client(for: kind) {
            do { try await client.tearDown(removed) } catch {
                logger.notice(
                    "The provider was not told of the disconnection", metadata: ["kind": "\(kind.rawValue)", "error": "\(error)"])
            }
        }
        return removed
    }
}
