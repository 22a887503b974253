import AsyncHTTPClient
import Foundation

/// Where a shop's (or its agency's) speech recognition is: the provider, its endpoint, the model and how to call it.
/// The key is kept apart, sealed at rest (`SecretBox`), and handed over only when a client is built.
public struct SpeechProvider: Sendable, Equatable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// OpenAI's `audio/transcriptions` and everything that speaks it (whisper.cpp's server, vLLM, LocalAI).
        case openai
        /// Yandex SpeechKit's synchronous recognition (API v1).
        case yandex
    }

    public var kind: Kind
    /// The API's base: `https://api.openai.com/v1`, `http://127.0.0.1:8080/v1`, `https://stt.api.cloud.yandex.net`.
    public var baseURL: String
    /// OpenAI: `whisper-1`, `gpt-4o-mini-transcribe`; Yandex: the topic (`general`).
    public var model: String
    /// Yandex: the folder (catalogue) id, sent as `folderId` (needed with a user's IAM token).
    public var folderID: String?
    /// Yandex: the key is an IAM token (`Bearer`) rather than an API key (`Api-Key`).
    public var iamToken: Bool
    /// The longest one clip may take (the channel's own budget may cut it shorter).
    public var timeoutSeconds: Double

    public init(
        kind: Kind, baseURL: String? = nil, model: String? = nil, folderID: String? = nil, iamToken: Bool = false,
        timeoutSeconds: Double = 30
    ) {
        self.kind = kind
        self.baseURL = baseURL ?? Self.defaultBaseURL(kind)
        self.model = model ?? Self.defaultModel(kind)
        self.folderID = folderID
        self.iamToken = iamToken
        self.timeoutSeconds = timeoutSeconds
    }

    public static func defaultBaseURL(_ kind: Kind) -> String {
        switch kind {
        case .openai: OpenAITranscription.defaultBaseURL
        case .yandex: YandexSpeechKit.defaultBaseURL
        }
    }

    public static func defaultModel(_ kind: Kind) -> String {
        switch kind {
        case .openai: "whisper-1"
        case .yandex: "general"
        }
    }

    /// `provider/model`, as explanations name it.
    public var name: String { kind.rawValue + "/" + model }

    /// The client for this provider on the app's shared `HTTPClient`, with the key unsealed for it (nil or empty: none,
    /// for a local whisper.cpp server).
    public func makeClient(client: HTTPClient, key: String?) -> any SpeechToText {
        let key = key.flatMap { $0.isEmpty ? nil : $0 }
        switch kind {
        case .openai:
            return OpenAITranscription(client: client, baseURL: baseURL, model: model, key: key)
        case .yandex:
            return YandexSpeechKit(client: client, baseURL: baseURL, topic: model, folderID: folderID, key: key ?? "", iamToken: iamToken)
        }
    }
}
