import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

@testable import App

@Suite("Speech: OpenAI-compatible transcriptions")
struct OpenAITranscriptionSpeechTests {
    /// OpenAI's reply to `response_format=json`, as its API reference shows it.
    static let reply = #"{"text": "Здравствуйте! Где мой заказ номер 4512?"}"#

    @Test func sendsTheClipAsMultipartWithTheModelTheLanguageAndTheKey() async throws {
        try await withScriptedProvider { server, url, http in
            server.script { _ in .json(Self.reply) }
            let audio = OggFixture.clip(seconds: 2.5)
            let clip = AudioClip(bytes: audio, contentType: "audio/ogg", fileName: "голос \"1\".ogg")
            let speech = OpenAITranscription(client: http, baseURL: url + "/v1", key: "sk-test-123")
            let transcript = try await speech.transcribe(clip, language: "ru-RU", timeout: .seconds(5), logger: quietLogger)
            #expect(transcript == Transcript(text: "Здравствуйте! Где мой заказ номер 4512?", language: "ru", durationSeconds: 2.5))

            let request = try #require(server.requests.first)
            #expect(request.method == "POST")
            #expect(request.path == "/v1/audio/transcriptions")
            #expect(request.headers["authorization"] == "Bearer sk-test-123")
            let contentType = try #require(request.headers["content-type"])
            #expect(contentType.hasPrefix("multipart/form-data; boundary=form-"))
            let parts = try MultipartParser.parse(request.body, contentType: contentType)
            #expect(parts.map(\.name) == ["file", "model", "language", "response_format"])
            #expect(parts[0].fileName == "голос \"1\".ogg")
            #expect(parts[0].contentType == "audio/ogg")
            #expect(parts[0].data == audio)
            #expect(parts[1].text == "whisper-1")
            #expect(parts[2].text == "ru")
            #expect(parts[3].text == "json")
        }
    }

    @Test func leavesOutTheLanguageAndTheKeyWhenThereAreNoneAndNamesTheFileByItsType() async throws {
        try await withScriptedProvider { server, url, http in
            server.script { _ in .json(#"{"text": " hello \n"}"#) }
            let speech = OpenAITranscription(client: http, baseURL: url, model: "ggml-small", key: nil)
            let clip = AudioClip(bytes: Array("RIFF....WAVE".utf8), contentType: "audio/wav", fileName: "file_17")
            let transcript = try await speech.transcribe(clip, language: nil, timeout: .seconds(5), logger: quietLogger)
            #expect(transcript == Transcript(text: "hello"))
            let request = try #require(server.requests.first)
            #expect(request.path == "/audio/transcriptions")
            #expect(request.headers["authorization"] == nil)
            let parts = try MultipartParser.parse(request.body, contentType: request.headers["content-type"] ?? "")
            #expect(parts.map(\.name) == ["file", "model", "response_format"])
            #expect(parts[0].fileName == "file_17.wav")
            #expect(parts[1].text == "ggml-small")
            #expect(speech.name == "openai/ggml-small")
        }
    }

    @Test(arguments: [
        (
            401,
            #"{"error": {"message": "Incorrect API key provided: sk-leak-9876. You can find your API key at https://platform.openai.com/account/api-keys.", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}"#,
            [String: String](), SpeechError.badKey
        ),
        (
            429,
            #"{"error": {"message": "You exceeded your current quota, please check your plan and billing details.", "type": "insufficient_quota", "param": null, "code": "insufficient_quota"}}"#,
            [:], .quota
        ),
        (
            429,
            #"{"error": {"message": "Rate limit reached for whisper-1 on requests per min (RPM): Limit 50.", "type": "requests", "param": null, "code": "rate_limit_exceeded"}}"#,
            ["Retry-After": "7"], .rateLimited(retryAfter: 7)
        ),
        (
            400,
            #"{"error": {"message": "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']", "type": "invalid_request_error", "param": null, "code": null}}"#,
            [:], .unsupportedFormat("audio/ogg")
        ),
        (
            413,
            #"{"error": {"message": "Maximum content size limit (26214400) exceeded (26411583 bytes read)", "type": "server_error", "param": null, "code": null}}"#,
            [:], .tooLong("at most 25 MB")
        ),
        (
            503,
            #"{"error": {"message": "The server is overloaded or not ready yet.", "type": "server_error", "param": null, "code": null}}"#,
            [:], .unavailable("HTTP 503: The server is overloaded or not ready yet.")
        ),
        (
            404,
            #"{"error": {"message": "The model `whisper-2` does not exist or you do not have access to it.", "type": "invalid_request_error", "param": null, "code": "model_not_found"}}"#,
            [:], .rejected("The model `whisper-2` does not exist or you do not have access to it.")
        ),
        (400, #"{"error": "failed to read audio data sk-leak-9876"}"#, [:], .rejected("failed to read audio data [key]")),
        (502, "<html>Bad gateway</html>\n", [:], .unavailable("HTTP 502: <html>Bad gateway</html>")),
    ])
    func anErrorReplyIsMappedAndNeverCarriesTheKey(status: Int, body: String, headers: [String: String], expected: SpeechError) async throws
    {
        try await withScriptedProvider { server, url, http in
            server.script { _ in .reply(status, body, headers: headers.merging(["Content-Type": "application/json"]) { $1 }) }
            let speech = OpenAITranscription(client: http, baseURL: url, key: "sk-leak-9876")
            let clip = AudioClip(bytes: OggFixture.clip(seconds: 1), contentType: "audio/ogg", fileName: "voice.ogg")
            let error = try await #require(throws: SpeechError.self) {
                try await speech.transcribe(clip, language: "ru", timeout: .seconds(5), logger: quietLogger)
            }
            #expect(error == expected)
            #expect(!error.description.contains("sk-leak-9876"))
        }
    }

    @Test func aReplyWithoutTextIsMalformed() async throws {
        try await withScriptedProvider { server, url, http in
            server.script { _ in .json(#"{"transcript": "hi"}"#) }
            let speech = OpenAITranscription(client: http, baseURL: url, key: "k")
            let clip = AudioClip(bytes: [1, 2, 3], contentType: "audio/mpeg", fileName: "a.mp3")
            let error = try await #require(throws: SpeechError.self) {
                try await speech.transcribe(clip, timeout: .seconds(5), logger: quietLogger)
            }
            #expect(error == .malformed(#"it has no text ({"transcript": "hi"})"#))
            #expect(error.description == #"The speech provider's answer could not be read: it has no text ({"transcript": "hi"})."#)
        }
    }

    @Test func aClipOverTheLimitIsRefusedBeforeAnyRequest() async throws {
        try await withScriptedProvider { server, url, http in
            let speech = OpenAITranscription(client: http, baseURL: url, key: "k", maxBytes: 1 << 20)
            let clip = AudioClip(bytes: [UInt8](repeating: 7, count: (1 << 20) + 1), contentType: "audio/ogg", fileName: "v.ogg")
            let error = try await #require(throws: SpeechError.self) {
                try await speech.transcribe(clip, timeout: .seconds(5), logger: quietLogger)
            }
            #expect(error == .tooLong("at most 1 MB"))
            #expect(error.description == "The voice message is too long for the speech provider (at most 1 MB).")
            let empty = AudioClip(bytes: [], contentType: "audio/ogg", fileName: "v.ogg")
            await #expect(throws: SpeechError.rejected("the voice message is empty")) {
                try await speech.transcribe(empty, timeout: .seconds(5), logger: quietLogger)
            }
            #expect(server.requests.isEmpty)
        }
    }

    @Test func theDeadlineCutsASlowProviderShort() async throws {
        try await withScriptedProvider { server, url, http in
            server.script { _ in .after(.seconds(20), .json(Self.reply)) }
            let speech = OpenAITranscription(client: http, baseURL: url, key: "k")
            let clip = AudioClip(bytes: OggFixture.clip(seconds: 1), contentType: "audio/ogg", fileName: "v.ogg")
            let started = ContinuousClock.now
            await #expect(throws: SpeechError.timeout) {
                try await speech.transcribe(clip, language: nil, deadline: .now + .milliseconds(300), logger: quietLogger)
            }
            // Ended by the deadline, not by the answer (the margin is for a machine busy with the whole suite).
            #expect(ContinuousClock.now - started < .seconds(8))
            // A deadline already past sends nothing.
            let before = server.requests.count
            await #expect(throws: SpeechError.timeout) {
                try await speech.transcribe(clip, language: nil, deadline: .now - .seconds(1), logger: quietLogger)
            }
            #expect(server.requests.count == before)
        }
    }

    @Test func aProviderThatIsNotThereIsUnavailable() async throws {
        let http = HTTPClientService()
        // Port 1: privileged, so no test's server takes it.
        let speech = OpenAITranscription(client: http.client, baseURL: "http://127.0.0.1:1", key: "k")
        let clip = AudioClip(bytes: [1], contentType: "audio/ogg", fileName: "v.ogg")
        let error = await #expect(throws: SpeechError.self) {
            try await speech.transcribe(clip, timeout: .milliseconds(500), logger: quietLogger)
        }
        try await http.client.shutdown()
        // On a loaded machine the deadline can come before the refusal is reported.
        #expect(error == .unavailable("connection refused") || error == .timeout, "\(String(describing: error))")
    }
}
