import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

@testable import App

@Suite("Speech: Yandex SpeechKit synchronous recognition")
struct YandexSpeechKitTests {
    /// SpeechKit v1's reply, as its “Synchronous recognition API” page shows it.
    static let reply = #"{"result": "добрый день подскажите где мой заказ"}"#

    func speech(_ http: HTTPClient, _ url: String, folder: String? = "b1gfolder0000000000", iam: Bool = false) -> YandexSpeechKit {
        YandexSpeechKit(client: http, baseURL: url, folderID: folder, key: "AQVNsecret-key-0042", iamToken: iam)
    }

    @Test func sendsTheRawClipWithTheQueryParametersAndTheAPIKey() async throws {
        try await withScriptedProvider { server, url, http in
            server.script { _ in .json(Self.reply) }
            let audio = OggFixture.clip(seconds: 4.25)
            let clip = AudioClip(bytes: audio, contentType: "audio/ogg; codecs=opus", fileName: "voice.oga")
            let transcript = try await speech(http, url).transcribe(clip, language: nil, timeout: .seconds(5), logger: quietLogger)
            #expect(transcript == Transcript(text: "добрый день подскажите где мой заказ", language: "ru-RU", durationSeconds: 4.25))

            let request = try #require(server.requests.first)
            #expect(request.method == "POST")
            #expect(request.path == "/speech/v1/stt:recognize")
            #expect(request.query == ["lang": "ru-RU", "topic": "general", "format": "oggopus", "folderId": "b1gfolder0000000000"])
            #expect(request.headers["authorization"] == "Api-Key AQVNsecret-key-0042")
            #expect(request.headers["content-type"] == "audio/ogg; codecs=opus")
            #expect(request.body == audio)
        }
    }

    @Test func anIAMTokenGoesAsBearerAndALanguageGetsItsRegion() async throws {
        try await withScriptedProvider { server, url, http in
            server.script { _ in .json(#"{"result": "where is my order"}"#) }
            let clip = AudioClip(bytes: OggFixture.clip(seconds: 1), contentType: "audio/ogg", fileName: "v.ogg")
            let transcript = try await speech(http, url, folder: nil, iam: true).transcribe(
                clip, language: "en", timeout: .seconds(5), logger: quietLogger)
            #expect(transcript.text == "where is my order")
            #expect(transcript.language == "en-US")
            let request = try #require(server.requests.first)
            #expect(request.headers["authorization"] == "Bearer AQVNsecret-key-0042")
            #expect(request.query == ["lang": "en-US", "topic": "general", "format": "oggopus"])
            #expect(YandexSpeechKit.languageCode("kk") == "kk-KZ")
            #expect(YandexSpeechKit.languageCode("tr_tr") == "tr-TR")
            #expect(YandexSpeechKit.languageCode("de") == "de-DE")
        }
    }

    @Test func pcmGoesAsLPCMWithItsRateAndOtherFormatsAreRefusedBeforeSending() async throws {
        try await withScriptedProvider { server, url, http in
            server.script { _ in .json(#"{"result": ""}"#) }
            // Two seconds of 16 kHz mono 16-bit PCM (silence: an empty transcript, not an error).
            let pcm = AudioClip(bytes: [UInt8](repeating: 0, count: 64_000), contentType: "audio/l16; rate=16000", fileName: "a.pcm")
            let transcript = try await speech(http, url).transcribe(pcm, language: "ru", timeout: .seconds(5), logger: quietLogger)
            #expect(transcript == Transcript(text: "", language: "ru-RU", durationSeconds: 2))
            #expect(server.requests.first?.query["format"] == "lpcm")
            #expect(server.requests.first?.query["sampleRateHertz"] == "16000")
            for type in ["audio/mpeg", "audio/l16", "audio/l16; rate=22050", "video/mp4"] {
                let clip = AudioClip(bytes: [1, 2, 3], contentType: type, fileName: "a")
                await #expect(throws: SpeechError.unsupportedFormat(type)) {
                    try await speech(http, url).transcribe(clip, language: nil, timeout: .seconds(5), logger: quietLogger)
                }
            }
            #expect(server.requests.count == 1)
        }
    }

    @Test func aClipOverOneMegabyteOrThirtySecondsIsRefusedBeforeAnyRequest() async throws {
        try await withScriptedProvider { server, url, http in
            server.script { _ in .json(Self.reply) }
            var big = OggFixture.clip(seconds: 20)
            big += [UInt8](repeating: 0x55, count: (1 << 20) + 1 - big.count)
            let heavy = AudioClip(bytes: big, contentType: "audio/ogg", fileName: "v.ogg")
            let error = try await #require(throws: SpeechError.self) {
                try await speech(http, url).transcribe(heavy, language: nil, timeout: .seconds(5), logger: quietLogger)
            }
            #expect(error == .tooLong("at most 1 MB and 30 seconds"))
            #expect(error.description == "The voice message is too long for the speech provider (at most 1 MB and 30 seconds).")
            let long = AudioClip(bytes: OggFixture.clip(seconds: 31), contentType: "audio/ogg", fileName: "v.ogg")
            await #expect(throws: SpeechError.tooLong("at most 1 MB and 30 seconds")) {
                try await speech(http, url).transcribe(long, language: nil, timeout: .seconds(5), logger: quietLogger)
            }
            #expect(server.requests.isEmpty)
            // Exactly 1 MB and 30 seconds still go.
            var edge = OggFixture.clip(seconds: 30)
            edge += [UInt8](repeating: 0x55, count: (1 << 20) - edge.count)
            _ = try await speech(http, url).transcribe(
                AudioClip(bytes: edge, contentType: "audio/ogg", fileName: "v.ogg"), language: nil, timeout: .seconds(5),
                logger: quietLogger)
            #expect(server.requests.count == 1)
        }
    }

    @Test(arguments: [
        (
            401, #"{"error_code": "UNAUTHORIZED", "error_message": "Unknown api key 'AQVNsecret-key-0042'"}"#, [String: String](),
            SpeechError.badKey
        ),
        (403, #"{"error_code": "PERMISSION_DENIED", "error_message": "Permission denied"}"#, [:], .badKey),
        (
            429, #"{"error_code": "TOO_MANY_REQUESTS", "error_message": "Quota exceeded"}"#, ["Retry-After": "2"],
            .rateLimited(retryAfter: 2)
        ),
        (
            400, #"{"error_code": "BAD_REQUEST", "error_message": "audio duration should be less than 30s"}"#, [:],
            .tooLong("at most 1 MB and 30 seconds")
        ),
        (
            400, #"{"error_code": "BAD_REQUEST", "error_message": "Unable to decode the audio: invalid ogg header"}"#, [:],
            .unsupportedFormat("audio/ogg")
        ),
        (
            400, #"{"error_code": "BAD_REQUEST", "error_message": "Invalid lang: xx-XX for key AQVNsecret-key-0042"}"#, [:],
            .rejected("BAD_REQUEST: Invalid lang: xx-XX for key [key]")
        ),
        (
            500, #"{"error_code": "INTERNAL_SERVER_ERROR", "error_message": "Internal error"}"#, [:],
            .unavailable("HTTP 500: Internal error")
        ),
    ])
    func anErrorReplyIsMappedAndNeverCarriesTheKey(status: Int, body: String, headers: [String: String], expected: SpeechError) async throws
    {
        try await withScriptedProvider { server, url, http in
            server.script { _ in .reply(status, body, headers: headers.merging(["Content-Type": "application/json"]) { $1 }) }
            let clip = AudioClip(bytes: OggFixture.clip(seconds: 1), contentType: "audio/ogg", fileName: "v.ogg")
            let error = try await #require(throws: SpeechError.self) {
                try await speech(http, url).transcribe(clip, language: nil, timeout: .seconds(5), logger: quietLogger)
            }
            #expect(error == expected)
            #expect(!error.description.contains("AQVNsecret-key-0042"))
        }
    }

    @Test func anAnswerWithoutAResultIsMalformed() async throws {
        try await withScriptedProvider { server, url, http in
            server.script { _ in .reply(200, "<html>maintenance</html>") }
            let clip = AudioClip(bytes: OggFixture.clip(seconds: 1), contentType: "audio/ogg", fileName: "v.ogg")
            await #expect(throws: SpeechError.malformed("it has no result (<html>maintenance</html>)")) {
                try await speech(http, url).transcribe(clip, language: nil, timeout: .seconds(5), logger: quietLogger)
            }
        }
    }

    @Test func theDeadlineCutsASlowProviderShort() async throws {
        try await withScriptedProvider { server, url, http in
            server.script { _ in .after(.seconds(20), .json(Self.reply)) }
            let clip = AudioClip(bytes: OggFixture.clip(seconds: 1), contentType: "audio/ogg", fileName: "v.ogg")
            let started = ContinuousClock.now
            let error = try await #require(throws: SpeechError.self) {
                try await speech(http, url).transcribe(clip, language: nil, deadline: .now + .milliseconds(300), logger: quietLogger)
            }
            #expect(error == .timeout)
            #expect(error.isTransient)
            #expect(ContinuousClock.now - started < .seconds(8))
        }
    }
}
