import Foundation
import Logging
import NIOCore

/// Turns a voice message into text (Telegram's and WhatsApp's voice notes), behind a provider's API: OpenAI's
/// transcriptions (and whisper.cpp servers that speak it) or Yandex SpeechKit. Implementations sit on the shared
/// `HTTPClient`; each has an in-process fake in the tests.
public protocol SpeechToText: Sendable {
    /// The provider and model, for explanations and logs (`openai/whisper-1`, `yandex/general`).
    var name: String { get }

    /// The clip's text. `language` is a hint (`ru`, `ru-RU`; nil lets the provider decide or use its default);
    /// `deadline` cuts the call short with `SpeechError.timeout`.
    func transcribe(
        _ audio: AudioClip, language: String?, deadline: ContinuousClock.Instant, logger: Logger
    ) async throws -> Transcript
}

extension SpeechToText {
    public func transcribe(_ audio: AudioClip, language: String? = nil, timeout: Duration, logger: Logger) async throws -> Transcript {
        try await transcribe(audio, language: language, deadline: .now + timeout, logger: logger)
    }
}

/// A recorded clip as a channel hands it over: its bytes, their media type and the file's name.
public struct AudioClip: Sendable, Equatable {
    public var data: ByteBuffer
    /// `audio/ogg` (Telegram's and WhatsApp's voice notes, Opus inside), `audio/mpeg`, `audio/wav`, …
    public var contentType: String
    /// `voice.ogg`: OpenAI tells the format by the name's extension.
    public var fileName: String

    public init(data: ByteBuffer, contentType: String, fileName: String) {
        self.data = data
        self.contentType = contentType
        self.fileName = fileName
    }

    public init(bytes: [UInt8], contentType: String, fileName: String) {
        self.init(data: ByteBuffer(bytes: bytes), contentType: contentType, fileName: fileName)
    }

    /// The media type without its parameters, lowercased: `audio/ogg` for `audio/ogg; codecs=opus`.
    var mediaType: String {
        contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
    }

    /// A parameter of the content type (`rate` in `audio/l16; rate=16000`), if it has it.
    func parameter(_ name: String) -> String? {
        for part in contentType.split(separator: ";").dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == name { return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        }
        return nil
    }
}

/// What was said.
public struct Transcript: Sendable, Equatable {
    public var text: String
    /// The language, as the provider reported it or as it was asked for.
    public var language: String?
    /// How long the clip is, when the provider or the clip's own headers say.
    public var durationSeconds: Double?

    public init(text: String, language: String? = nil, durationSeconds: Double? = nil) {
        self.text = text
        self.language = language
        self.durationSeconds = durationSeconds
    }
}

/// Why a clip could not be transcribed, as a person can act on it. No case ever carries the key: provider messages
/// are passed through `redacting(_:)` first.
public enum SpeechError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The key (or IAM token) is refused, or lacks the permission to recognise speech.
    case badKey
    /// The account is out of money or quota.
    case quota
    /// Too many requests now; try after this many seconds, if the provider said.
    case rateLimited(retryAfter: Int?)
    /// The provider cannot read audio of this type.
    case unsupportedFormat(String)
    /// The clip is longer or larger than the provider takes: the limit, said plainly.
    case tooLong(String)
    /// The deadline passed first.
    case timeout
    /// The provider is down or unreachable (5xx, connection refused, TLS).
    case unavailable(String)
    /// The provider answered something this client cannot read.
    case malformed(String)
    /// The provider refused the request for another reason: its message.
    case rejected(String)

    public var description: String {
        switch self {
        case .badKey: "The speech provider refused the key: check the API key (or IAM token) and its permissions."
        case .quota: "The speech provider's account has no quota or money left."
        case .rateLimited(let retry): "The speech provider asks to slow down" + (retry.map { " (retry in \($0) s)" } ?? "") + "."
        case .unsupportedFormat(let type): "The speech provider cannot read audio of type “\(type)”."
        case .tooLong(let limit): "The voice message is too long for the speech provider (\(limit))."
        case .timeout: "The speech provider did not answer in time."
        case .unavailable(let why): "The speech provider cannot be reached: \(Self.sentence(why))"
        case .malformed(let why): "The speech provider's answer could not be read: \(Self.sentence(why))"
        case .rejected(let why): "The speech provider refused the request: \(Self.sentence(why))"
        }
    }

    /// Whether the same clip may succeed later.
    public var isTransient: Bool {
        switch self {
        case .rateLimited, .unavailable, .timeout: true
        case .badKey, .quota, .unsupportedFormat, .tooLong, .malformed, .rejected: false
        }
    }

    /// The text with a full stop, unless it ends with one already.
    private static func sentence(_ text: String) -> String {
        guard let last = text.last, !".!?".contains(last) else { return text }
        return text + "."
    }
}
