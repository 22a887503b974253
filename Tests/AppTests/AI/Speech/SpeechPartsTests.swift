import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

@testable import App

@Suite("Speech: multipart bodies, Ogg headers, providers")
struct SpeechPartsTests {
    @Test func aFormRoundTripsThroughAServersParserWithNamesQuotedAndBytesIntact() throws {
        let audio: [UInt8] = Array("--\r\n--form-\r\n\r\nContent-Disposition: x\r\n".utf8) + (0...255).map(UInt8.init)
        var form = MultipartForm()
        form.file("file", fileName: "a \"b\"\r\nc;d.ogg", contentType: "audio/ogg\r\nX-Injected: 1", data: ByteBuffer(bytes: audio))
        form.field("prompt", "строка 1\r\nстрока 2")
        form.field("empty", "")
        let (contentType, body) = form.encoded()
        let bytes = Array(body.readableBytesView)
        #expect(!String(decoding: bytes, as: UTF8.self).contains("\r\nX-Injected"))
        let parts = try MultipartParser.parse(bytes, contentType: contentType)
        #expect(parts.map(\.name) == ["file", "prompt", "empty"])
        #expect(parts[0].data == audio)
        #expect(parts[0].contentType == "audio/oggX-Injected: 1")
        #expect(parts[1].text == "строка 1\r\nстрока 2")
        #expect(parts[2].data.isEmpty)
        #expect(MultipartForm.escaped("a \"b\"\r\nc") == "a %22b%22%0D%0Ac")
    }

    @Test func theBoundaryIsRandomEveryTime() {
        let boundaries = Set((0..<50).map { _ in MultipartForm.randomBoundary() })
        #expect(boundaries.count == 50)
        #expect(boundaries.allSatisfy { $0.hasPrefix("form-") && $0.count == 37 })
    }

    @Test func anOggOpusClipSaysHowLongItIs() {
        let clip = ByteBuffer(bytes: OggFixture.clip(seconds: 12.5, audioPages: 5))
        #expect(OggOpus.isOggOpus(clip))
        #expect(OggOpus.duration(of: clip) == 12.5)
        // Read from where the buffer's reader stands, not from its storage's start.
        var shifted = ByteBuffer(bytes: [9, 9, 9] + OggFixture.clip(seconds: 3))
        shifted.moveReaderIndex(forwardBy: 3)
        #expect(OggOpus.duration(of: shifted) == 3)
        #expect(OggOpus.duration(of: ByteBuffer(bytes: Array("ID3 an mp3 file".utf8) + [UInt8](repeating: 0, count: 100))) == nil)
        #expect(OggOpus.duration(of: ByteBuffer(bytes: Array(OggFixture.clip(seconds: 3).prefix(40)))) == nil)
    }

    @Test func aProviderBuildsItsClient() throws {
        let http = HTTPClientService()
        defer { try? http.client.syncShutdown() }
        let openai = SpeechProvider(kind: .openai)
        #expect(openai.baseURL == "https://api.openai.com/v1")
        #expect(openai.name == "openai/whisper-1")
        let whisper = try #require(openai.makeClient(client: http.client, key: "sk-1") as? OpenAITranscription)
        #expect(whisper.baseURL == "https://api.openai.com/v1")
        #expect(whisper.model == "whisper-1")

        let yandex = SpeechProvider(kind: .yandex, folderID: "b1gfolder", iamToken: true)
        #expect(yandex.name == "yandex/general")
        let kit = try #require(yandex.makeClient(client: http.client, key: "t1.iam") as? YandexSpeechKit)
        #expect(kit.baseURL == "https://stt.api.cloud.yandex.net")
        #expect(kit.folderID == "b1gfolder")
        #expect(kit.iamToken)
        #expect(kit.name == "yandex/general")

        let local = SpeechProvider(kind: .openai, baseURL: "http://127.0.0.1:8080/v1/", model: "ggml-base")
        let decoded = try JSONDecoder().decode(SpeechProvider.self, from: JSONEncoder().encode(local))
        #expect(decoded == local)
        let client = try #require(local.makeClient(client: http.client, key: "") as? OpenAITranscription)
        #expect(client.baseURL == "http://127.0.0.1:8080/v1")
        #expect(client.key == nil)
    }

    @Test func errorsReadAsSentencesAndSayWhetherToTryAgain() {
        #expect(
            SpeechError.badKey.description == "The speech provider refused the key: check the API key (or IAM token) and its permissions.")
        #expect(SpeechError.rateLimited(retryAfter: 3).description == "The speech provider asks to slow down (retry in 3 s).")
        #expect(SpeechError.unsupportedFormat("audio/amr").description == "The speech provider cannot read audio of type “audio/amr”.")
        #expect(SpeechError.rejected("bad language").description == "The speech provider refused the request: bad language.")
        let unavailable = SpeechError.unavailable("HTTP 503: Overloaded.")
        #expect(unavailable.description == "The speech provider cannot be reached: HTTP 503: Overloaded.")
        #expect(SpeechError.unavailable("connection refused").isTransient)
        #expect(!SpeechError.quota.isTransient)
        #expect("key sk-123456 here".redacting("sk-123456") == "key [key] here")
    }
}
