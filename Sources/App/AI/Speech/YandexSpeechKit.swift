import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// Yandex SpeechKit's synchronous recognition, API v1: `POST {base}/speech/v1/stt:recognize?lang=…&topic=…&format=…`
/// with the raw audio as the body, `{"result": "…"}` back. It takes OggOpus (Telegram's and WhatsApp's voice notes as
/// they come) or 16-bit PCM, up to 1 MB and 30 seconds, one channel; longer clips are refused here, before anything is
/// sent. Errors come as `{"error_code", "error_message"}`.
///
/// What rests on one source: the path, query parameters, formats, rates and limits on SpeechKit's “Synchronous
/// recognition API” page; the statuses on its “Response status codes” page; the error body's shape on Yandex Cloud's
/// v1 “Response format” (shared by its v1 APIs, not seen from SpeechKit itself). The words matched in a 400's
/// message and the regions of bare languages rest on no page: a miss only makes the error a plain `.rejected`.
public struct YandexSpeechKit: SpeechToText {
    public static let defaultBaseURL = "https://stt.api.cloud.yandex.net"
    /// The documented limits of synchronous recognition (SpeechKit's “Synchronous recognition API” page).
    public static let maxBytes = 1 << 20
    public static let maxSeconds = 30.0

    let client: HTTPClient
    public let baseURL: String
    /// The language model (`general`, `general:rc`, `general:deprecated`).
    public let topic: String
    /// Sent as `folderId`: required with a user account's IAM token; with a service account's API key it is left out
    /// (SpeechKit's page says so), or must be the account's own folder.
    public let folderID: String?
    let key: String
    /// The key is an IAM token (`Bearer`) rather than an API key (`Api-Key`).
    public let iamToken: Bool
    /// Used when the caller gives no language.
    public let defaultLanguage: String

    public var name: String { "yandex/" + topic }

    /// `client` is the app's shared one (`HTTPClientService`).
    public init(
        client: HTTPClient, baseURL: String = defaultBaseURL, topic: String = "general", folderID: String? = nil, key: String,
        iamToken: Bool = false, defaultLanguage: String = "ru-RU"
    ) {
        self.client = client
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.topic = topic
        self.folderID = folderID.flatMap { $0.isEmpty ? nil : $0 }
        self.key = key
        self.iamToken = iamToken
        self.defaultLanguage = defaultLanguage
    }

    public func transcribe(
        _ audio: AudioClip, language: String?, deadline: ContinuousClock.Instant, logger: Logger
    ) async throws -> Transcript {
        guard audio.data.readableBytes > 0 else { throw SpeechError.rejected("the voice message is empty") }
        let format = try Self.format(of: audio)
        let limit = "at most 1 MB and 30 seconds"
        guard audio.data.readableBytes <= Self.maxBytes else { throw SpeechError.tooLong(limit) }
        let duration = format.name == "oggopus" ? OggOpus.duration(of: audio.data) : format.pcmSeconds(audio.data.readableBytes)
        if let duration, duration > Self.maxSeconds { throw SpeechError.tooLong(limit) }
        let lang = Self.languageCode(language ?? defaultLanguage)

        var query = [("lang", lang), ("topic", topic), ("format", format.name)]
        if let rate = format.sampleRate { query.append(("sampleRateHertz", String(rate))) }
        if let folderID { query.append(("folderId", folderID)) }
        var request = HTTPClientRequest(url: baseURL + "/speech/v1/stt:recognize?" + Self.queryString(query))
        request.method = .POST
        request.headers.add(name: "Authorization", value: (iamToken ? "Bearer " : "Api-Key ") + key)
        request.headers.add(name: "Content-Type", value: MultipartForm.headerValue(audio.contentType))
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(audio.data)

        let started = ContinuousClock.now
        let reply: ProviderReply
        do {
            reply = try await client.exchange(request, deadline: deadline)
        } catch let error as ProviderTransportError {
            throw error == .deadline ? SpeechError.timeout : SpeechError.unavailable(OpenAITranscription.reason(error))
        }
        guard reply.isSuccess else { throw error(for: reply, audio: audio) }
        // Silence is an empty result: an empty transcript, for the caller to decide about, not an error.
        guard let text = reply.json?["result"] as? String else {
            throw SpeechError.malformed("it has no result (\(reply.excerpt.redacting(key)))")
        }
        logger.debug(
            "Transcribed a voice message",
            metadata: [
                "provider": "\(name)", "bytes": "\(audio.data.readableBytes)", "elapsed": "\(ContinuousClock.now - started)",
            ])
        return Transcript(text: text.trimmingCharacters(in: .whitespacesAndNewlines), language: lang, durationSeconds: duration)
    }

    /// The error an HTTP error answer stands for. The statuses are SpeechKit's table of response codes; the words
    /// matched in a 400's message rest on that message alone (SpeechKit says they may change), so anything else is
    /// passed on as it came.
    func error(for reply: ProviderReply, audio: AudioClip) -> SpeechError {
        let message = reply.message(hiding: key)
        let code = (reply.json?["error_code"] as? String) ?? ""
        let lowered = message.lowercased()
        switch reply.status {
        case 401, 403: return .badKey
        case 402: return .quota
        case 429: return lowered.contains("billing") ? .quota : .rateLimited(retryAfter: reply.retryAfter)
        case 413: return .tooLong("at most 1 MB and 30 seconds")
        case 400 where lowered.contains("too long") || lowered.contains("duration") || lowered.contains("size"):
            return .tooLong("at most 1 MB and 30 seconds")
        case 400 where lowered.contains("format") || lowered.contains("decode") || lowered.contains("ogg"):
            return .unsupportedFormat(audio.contentType)
        case 500...: return .unavailable("HTTP \(reply.status)" + (message.isEmpty ? "" : ": \(message)"))
        default: return .rejected([code, message].filter { !$0.isEmpty }.joined(separator: ": "))
        }
    }

    /// SpeechKit's `format` for a clip's content type: `oggopus` for Ogg (Opus inside, as voice notes are), `lpcm`
    /// with its sample rate for raw 16-bit PCM (`audio/l16; rate=16000`). Anything else is refused before sending.
    static func format(of audio: AudioClip) throws -> Format {
        switch audio.mediaType {
        case "audio/ogg", "audio/opus", "application/ogg", "audio/oga":
            return Format(name: "oggopus", sampleRate: nil)
        case "audio/l16", "audio/pcm", "audio/x-pcm", "audio/lpcm":
            // The three rates v1 documents; PCM is mono, 16 bits a sample.
            guard let rate = audio.parameter("rate").flatMap(Int.init), [8000, 16000, 48000].contains(rate) else {
                throw SpeechError.unsupportedFormat(audio.contentType)
            }
            return Format(name: "lpcm", sampleRate: rate)
        default:
            throw SpeechError.unsupportedFormat(audio.contentType)
        }
    }

    struct Format: Equatable {
        var name: String
        var sampleRate: Int?

        /// How long `bytes` of mono 16-bit PCM last at this rate.
        func pcmSeconds(_ bytes: Int) -> Double? { sampleRate.map { Double(bytes) / Double(2 * $0) } }
    }

    /// SpeechKit names languages with their region (`ru-RU`); a bare language gets its usual one. The exceptions to
    /// `xx-XX` rest on SpeechKit's list of languages as of writing.
    static func languageCode(_ language: String) -> String {
        let parts = language.replacingOccurrences(of: "_", with: "-").split(separator: "-").map(String.init)
        guard let first = parts.first?.lowercased(), !first.isEmpty else { return "ru-RU" }
        if parts.count > 1 { return first + "-" + parts[1].uppercased() }
        let regions = ["en": "US", "kk": "KZ", "sv": "SE", "he": "IL"]
        return first + "-" + (regions[first] ?? first.uppercased())
    }

    /// `name=value&…`, each value percent-encoded for a query (a folder id or topic never breaks the URL).
    static func queryString(_ items: [(String, String)]) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:")
        return items.map { name, value in
            name + "=" + (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)
        }.joined(separator: "&")
    }
}
