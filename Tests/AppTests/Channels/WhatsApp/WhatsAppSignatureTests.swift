import Foundation
import Testing

@testable import App

/// WhatsApp's wire: signatures, payloads, rendering and the client against the fake, under one name that
/// `swift test --filter WhatsApp` finds.
@Suite("WhatsApp") enum WhatsAppTests {}

extension WhatsAppTests {
    @Suite("WhatsApp signature and verification")
    struct WhatsAppSignatureTests {
        static let secret = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
        static let body = Array(#"{"object":"whatsapp_business_account","entry":[]}"#.utf8)
        /// HMAC-SHA256 of `body` under `secret`, computed apart (Python's hmac).
        static let expected = "sha256=e8867a416aa2d5a87d7f4eef780346edb622562db443c7b6f4e5f97bed3c4e6a"

        @Test func signsAsMetaDoes() {
            #expect(WhatsAppSignature.sign(Self.body, appSecret: Self.secret) == Self.expected)
        }

        @Test func acceptsTheRightSignature() {
            #expect(WhatsAppSignature.isValid(header: Self.expected, body: Self.body, appSecret: Self.secret))
            #expect(
                WhatsAppSignature.isValid(
                    header: Self.expected.uppercased().replacingOccurrences(of: "SHA256=", with: "sha256="), body: Self.body,
                    appSecret: Self.secret))
        }

        @Test func refusesATamperedBody() {
            var tampered = Self.body
            tampered[tampered.count - 2] = UInt8(ascii: "1")
            #expect(!WhatsAppSignature.isValid(header: Self.expected, body: tampered, appSecret: Self.secret))
            #expect(!WhatsAppSignature.isValid(header: Self.expected, body: Self.body + [0x20], appSecret: Self.secret))
        }

        @Test func refusesAnotherSecret() {
            #expect(!WhatsAppSignature.isValid(header: Self.expected, body: Self.body, appSecret: "another-secret-0123456789"))
            #expect(!WhatsAppSignature.isValid(header: Self.expected, body: Self.body, appSecret: ""))
        }

        @Test(arguments: [
            nil, "", "sha256=", "sha1=e8867a416aa2d5a87d7f4eef780346edb622562d",
            "e8867a416aa2d5a87d7f4eef780346edb622562db443c7b6f4e5f97bed3c4e6a",
            "sha256=e8867a416aa2d5a87d7f4eef780346edb622562db443c7b6f4e5f97bed3c4e6",
            "sha256=e8867a416aa2d5a87d7f4eef780346edb622562db443c7b6f4e5f97bed3c4e6az",
            "sha256=zz867a416aa2d5a87d7f4eef780346edb622562db443c7b6f4e5f97bed3c4e6a",
        ])
        func refusesAMissingOrMalformedHeader(header: String?) {
            #expect(!WhatsAppSignature.isValid(header: header, body: Self.body, appSecret: Self.secret))
        }

        @Test func answersTheVerificationWithTheChallenge() {
            let query = ["hub.mode": "subscribe", "hub.verify_token": "verify-Token_123", "hub.challenge": "1158201444"]
            #expect(WhatsAppVerification.challenge(query: query, verifyToken: "verify-Token_123") == "1158201444")
        }

        @Test func refusesAVerificationWithAnotherTokenOrMode() {
            let query = ["hub.mode": "subscribe", "hub.verify_token": "verify-Token_123", "hub.challenge": "1158201444"]
            #expect(WhatsAppVerification.challenge(query: query, verifyToken: "verify-Token_124") == nil)
            #expect(WhatsAppVerification.challenge(query: query, verifyToken: "") == nil)
            var other = query
            other["hub.mode"] = "unsubscribe"
            #expect(WhatsAppVerification.challenge(query: other, verifyToken: "verify-Token_123") == nil)
            other = query
            other["hub.challenge"] = nil
            #expect(WhatsAppVerification.challenge(query: other, verifyToken: "verify-Token_123") == nil)
            other = query
            other["hub.verify_token"] = nil
            #expect(WhatsAppVerification.challenge(query: other, verifyToken: "verify-Token_123") == nil)
        }
    }
}
