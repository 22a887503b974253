import Foundation
import Logging

/// The job that turns a shopper's voice note into words before the bot answers it.
public struct TranscribeVoice: JobKind {
    public static let kind = "channel.transcribe"
    public var conversation: Int
    public var message: Int
    /// The connection the note came through (its client downloads the file).
    public var connection: Int

    public init(conversation: Int, message: Int, connection: Int) {
        self.conversation = conversation
        self.message = message
        self.connection = connection
    }
}

/// Transcribes voice notes with the shop's speech-to-text (its model provider's `speech_model`), with no transaction
/// open: downloads the note through its channel, transcribes it, stores the words as the message's text and queues the
/// bot's answer. A shop without speech to text (or a note that cannot be heard) gets a polite sentence asking to write
/// instead, and people see the note in the inbox either way.
public struct VoiceTranscription: Sendable {
    let tenants: TenantDatabase
    let snapshots: BotSnapshots
    let store: ChannelConnectionStore
    let clients: ChannelClients
    let speech: SpeechClients
    let secrets: SecretBox
    let jobs: JobQueue
    /// Telegram's bots may download files up to 20 MB.
    let limit = 20 << 20

    public func run(_ job: TranscribeVoice, in tenant: TenantRecord, lastAttempt: Bool, logger: Logger) async throws {
        let found = try await tenants.withTenant(tenant, readOnly: true, logger: logger) {
            connection -> (ChannelConnection, MessagePart, Int, String?, SpeechAccess?)? in
            guard let channel = try await store.find(id: job.connection, on: connection),
                let (parts, botID, language) = try await connection.value(
                    (String, Int, String?).self,
                    """
                    SELECT m.parts::text, c.bot_id::int, c.language FROM messages m JOIN conversations c ON c.id = m.conversation_id
                    WHERE m.id = \(job.message) AND m.conversation_id = \(job.conversation) AND m.author = 'shopper'
                    """),
                let voice = ((try? JSONDecoder().decode([MessagePart].self, from: Data(parts.utf8))) ?? []).first(where: {
                    $0.attachment?.kind == .voice
                })
            else { return nil }
            let snapshot = try await snapshots.snapshot(botID: botID, schema: tenant.schema, on: connection)
            return (channel, voice, botID, language, snapshot.flatMap { speech.access(for: $0, secrets: secrets, logger: logger) })
        }
        guard let (channel, voice, _, language, access) = found, let attachment = voice.attachment else { return }
        var words: String?
        if let access, let client = clients.client(for: channel.kind) {
            do {
                let (bytes, mime) = try await client.download(attachment, over: channel, limit: limit)
                let clip = AudioClip(bytes: bytes, contentType: mime ?? attachment.mime ?? "audio/ogg", fileName: "voice.ogg")
                let transcript = try await access.client.transcribe(clip, language: language, timeout: .seconds(60), logger: logger)
                words = transcript.text.trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                logger.notice("A voice note could not be transcribed", metadata: ["error": "\(error)"])
                if !lastAttempt { throw error }
            }
        }
        try await tenants.withTenant(tenant, logger: logger) { connection in
            if let words, !words.isEmpty {
                try await connection.execute(
                    "UPDATE messages SET text = \(String(words.prefix(10000))) WHERE id = \(job.message) AND text = ''")
                guard
                    try await connection.value(Bool.self, "SELECT state = 'bot' FROM conversations WHERE id = \(job.conversation)") == true
                else { return }
                try await jobs.enqueue(
                    AnswerMessage(conversation: job.conversation, message: job.message), tenant: tenant.id, maxAttempts: 5,
                    idempotencyKey: "answer:\(tenant.id):\(job.message)", on: connection)
            } else {
                // Nothing heard (or nothing to hear with): the shopper is asked to write, once, and only by the bot.
                let text = BotTexts.voiceUnheard(BotLanguage(rawValue: language ?? "") ?? .ru)
                try await connection.execute(
                    """
                    INSERT INTO messages (conversation_id, channel, author, text, delivery, reply_to)
                    SELECT c.id, c.channel, 'bot', \(text), 'queued', \(job.message) FROM conversations c
                    WHERE c.id = \(job.conversation) AND c.state = 'bot'
                    ON CONFLICT (reply_to) WHERE author = 'bot' DO NOTHING
                    """)
            }
        }
    }
}

/// A shop's speech to text: its provider's client with the key opened.
struct SpeechAccess: Sendable {
    let client: any SpeechToText
}

/// Speech-to-text clients from the shops' model providers (`speech_model`): OpenAI-compatible providers transcribe at
/// their `/audio/transcriptions`, YandexGPT's key works with SpeechKit.
struct SpeechClients: Sendable {
    let http: HTTPClientService

    func access(for snapshot: BotSnapshot, secrets: SecretBox, logger: Logger) -> SpeechAccess? {
        guard let (provider, sealed, _) = snapshot.model, let model = provider.speechModel, !model.isEmpty else { return nil }
        let key: String
        do {
            key = try sealed.map { try secrets.open($0) } ?? ""
        } catch {
            logger.error("A sealed model key cannot be opened", metadata: ["error": "\(error)"])
            return nil
        }
        let speech: SpeechProvider
        switch provider.kind {
        case .openai: speech = SpeechProvider(kind: .openai, baseURL: provider.baseURL, model: model)
        case .yandexgpt: speech = SpeechProvider(kind: .yandex, model: model, folderID: provider.folderID, iamToken: provider.iamToken)
        case .gigachat: return nil
        }
        return SpeechAccess(client: speech.makeClient(client: http.client, key: key))
    }
}
