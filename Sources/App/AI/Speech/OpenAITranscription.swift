import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// `POST {base}/audio/transcriptions` on the app's shared `HTTPClient`: OpenAI's Whisper and everything that speaks
/// its API (a whisper.cpp server started with `--inference-path /v1/audio/transcriptions`, vLLM, LocalAI). The clip
/// goes as `multipart/form-data` with the model, the language hint and `response_format=json`; the reply is `{"text"}`.
public struct OpenAITranscription: SpeechToText {
    public static let defaultBaseURL = "https://api.openai.com/v1"
    /// OpenAI's limit on an uploaded file (its API reference: 25 MB).
    public static let openAIMaxBytes = 25 << 20

    let client: HTTPClient
    /// `https://api.openai.com/v1`, `http://127.0.0.1:8080/v1`: the path's `/audio/transcriptions` is added.
    public let baseURL: String
    /// `whisper-1`, `gpt-4o-mini-transcribe`; a whisper.cpp server ignores it.
    public let model: String
    /// Sent as `Authorization: Bearer …` when set (a local server may need none).
    let key: String?
    /// Larger clips are refused before anything is sent.
    public let maxBytes: Int

    public var name: String { "openai/" + model }

    /// `client` is the app's shared one (`HTTPClientService`).
    public init(
        client: HTTPClient, baseURL: String = defaultBaseURL, model: String = "whisper-1", key: String?, maxBytes: Int = openAIMaxBytes
    ) {
        self.client = client
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.model = model
        self.key = key
        self.maxBytes = maxBytes
    }

    public func transcribe(
        _ audio: AudioClip, language: String?, deadline: ContinuousClock.Instant, logger: Logger
    ) async throws -> Transcript {
        guard audio.data.readableBytes > 0 else { throw SpeechError.rejected("the voice message is empty") }
        guard audio.data.readableBytes <= maxBytes else { throw SpeechError.tooLong("at most \(Self.megabytes(maxBytes))") }
        // Whisper takes ISO 639-1 (`ru`); a channel may know the shopper's locale (`ru-RU`).
        let language = language.flatMap { $0.split(separator: "-").first.map { $0.lowercased() } }.flatMap { $0.isEmpty ? nil : $0 }
        var form = MultipartForm()
        form.file("file", fileName: Self.fileName(for: audio), contentType: audio.contentType, data: audio.data)
        form.field("model", model)
        if let language { form.field("language", language) }
        form.field("response_format", "json")
        let (contentType, body) = form.encoded()

        var request = HTTPClientRequest(url: baseURL + "/audio/transcriptions")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        request.headers.add(name: "Accept", value: "application/json")
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        request.body = .bytes(body)

        let started = ContinuousClock.now
        let reply: ProviderReply
        do {
            reply = try await client.exchange(request, deadline: deadline)
        } catch let error as ProviderTransportError {
            throw error == .deadline ? SpeechError.timeout : SpeechError.unavailable(Self.reason(error))
        }
        guard reply.isSuccess else { throw error(for: reply, audio: audio) }
        guard let text = reply.json?["text"] as? String else {
            throw SpeechError.malformed("it has no text (\(reply.excerpt.redacting(key)))")
        }
        logger.debug(
            "Transcribed a voice message",
            metadata: [
                "provider": "\(name)", "bytes": "\(audio.data.readableBytes)", "elapsed": "\(ContinuousClock.now - started)",
            ])
        let duration = (reply.json?["duration"] as? Double) ?? OggOpus.duration(of: audio.data)
        return Transcript(text: text.trimmingCharacters(in: .whitespacesAndNewlines), language: language, durationSeconds: duration)
    }

    /// The error an HTTP error answer stands for. OpenAI's body is `{"error": {"message", "type", "code"}}`; a
    /// whisper.cpp server's `{"error": "…"}`. The codes and messages matched (`insufficient_quota`, “Invalid file
    /// format”) rest on OpenAI's answers as users quote them, not on a reference page.
    func error(for reply: ProviderReply, audio: AudioClip) -> SpeechError {
        let message = reply.message(hiding: key)
        let code = ((reply.json?["error"] as? [String: Any])?["code"] as? String) ?? ""
        let lowered = message.lowercased()
        switch reply.status {
        case 401: return .badKey
        case 403 where code == "invalid_api_key": return .badKey
        case 429:
            // OpenAI says 429 both for a spent account (`insufficient_quota`) and for too many requests.
            return code == "insufficient_quota" || lowered.contains("quota") ? .quota : .rateLimited(retryAfter: reply.retryAfter)
        case 413: return .tooLong("at most \(Self.megabytes(maxBytes))")
        case 400 where code == "unsupported_format" || lowered.contains("file format") || lowered.contains("could not be decoded"):
            return .unsupportedFormat(audio.contentType)
        case 400 where lowered.contains("too long") || lowered.contains("maximum content size"):
            return .tooLong(message)
        case 500...: return .unavailable("HTTP \(reply.status)" + (message.isEmpty ? "" : ": \(message)"))
        default: return .rejected(message.isEmpty ? "HTTP \(reply.status)" : message)
        }
    }

    /// The name the file goes under: OpenAI tells the format by its extension, so a name without one it knows (a
    /// channel's `file_12` or `voice.bin`) gets the content type's.
    static func fileName(for audio: AudioClip) -> String {
        let known = ["flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm"]
        let name = audio.fileName.isEmpty ? "voice" : audio.fileName
        let parts = name.split(separator: ".")
        if parts.count > 1, let ext = parts.last, known.contains(ext.lowercased()) { return name }
        let byType = [
            "audio/ogg": "ogg", "audio/opus": "ogg", "application/ogg": "ogg", "audio/mpeg": "mp3", "audio/mp3": "mp3",
            "audio/mp4": "m4a", "audio/x-m4a": "m4a", "audio/m4a": "m4a", "audio/aac": "m4a", "audio/wav": "wav",
            "audio/x-wav": "wav", "audio/wave": "wav", "audio/webm": "webm", "audio/flac": "flac", "video/mp4": "mp4",
        ]
        guard let ext = byType[audio.mediaType] else { return name }
        return name + "." + ext
    }

    static func reason(_ error: ProviderTransportError) -> String {
        if case .unreachable(let why) = error { return why }
        return "no answer in time"
    }

    static func megabytes(_ bytes: Int) -> String {
        bytes % (1 << 20) == 0 ? "\(bytes >> 20) MB" : "\(bytes) bytes"
    }
}
