import Foundation

extension FakeWhatsAppAPI {
    /// Webhook payloads for one business phone number, in the shapes of Meta's documentation (the `messages` field of
    /// a `whatsapp_business_account`): what `deliver` sends to a shop's webhook.
    public struct Webhooks: Sendable {
        public var phoneNumberID: String
        public var displayPhoneNumber: String
        /// The business account's id (`entry[].id`).
        public var businessAccountID: String

        public init(phoneNumberID: String, displayPhoneNumber: String = "15550783881", businessAccountID: String = "102290129340398") {
            self.phoneNumberID = phoneNumberID
            self.displayPhoneNumber = displayPhoneNumber
            self.businessAccountID = businessAccountID
        }

        /// A new message id, shaped as Meta's.
        public static func newMessageID() -> String {
            "wamid.HBgLNzk5OTAwMDAwMDAVAgASGBQz" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(20)
        }

        /// A text message, with the sender's profile name in `contacts[]`.
        public func text(_ body: String, from: String, name: String? = "Анна", id: String = newMessageID()) -> String {
            message(["type": "text", "text": ["body": body]], from: from, name: name, id: id)
        }

        /// A press of a reply button (`interactive.button_reply`).
        public func buttonReply(
            title: String, buttonID: String = "b0", from: String, name: String? = "Анна", id: String = newMessageID()
        ) -> String {
            let interactive: [String: Any] = ["type": "button_reply", "button_reply": ["id": buttonID, "title": title]]
            return message(["type": "interactive", "interactive": interactive, "context": context], from: from, name: name, id: id)
        }

        /// A choice in a list message (`interactive.list_reply`).
        public func listReply(
            title: String, rowID: String = "b0", description: String? = nil, from: String, name: String? = "Анна",
            id: String = newMessageID()
        ) -> String {
            var reply: [String: Any] = ["id": rowID, "title": title]
            if let description { reply["description"] = description }
            let interactive: [String: Any] = ["type": "list_reply", "list_reply": reply]
            return message(["type": "interactive", "interactive": interactive, "context": context], from: from, name: name, id: id)
        }

        /// A press of a template's quick-reply button (`type: button`).
        public func templateButton(
            text: String, payload: String? = nil, from: String, name: String? = "Анна", id: String = newMessageID()
        ) -> String {
            message(
                ["type": "button", "button": ["text": text, "payload": payload ?? text], "context": context], from: from, name: name, id: id
            )
        }

        /// A photo, with its caption when given.
        public func image(
            mediaID: String, caption: String? = nil, mime: String = "image/jpeg", from: String, name: String? = "Анна",
            id: String = newMessageID()
        ) -> String {
            message(["type": "image", "image": media(mediaID, mime: mime, caption: caption)], from: from, name: name, id: id)
        }

        /// A document with its file name.
        public func document(
            mediaID: String, filename: String, caption: String? = nil, mime: String = "application/pdf", from: String,
            name: String? = "Анна",
            id: String = newMessageID()
        ) -> String {
            var document = media(mediaID, mime: mime, caption: caption)
            document["filename"] = filename
            return message(["type": "document", "document": document], from: from, name: name, id: id)
        }

        /// A voice note (`audio` with `voice: true`).
        public func voice(mediaID: String, from: String, name: String? = "Анна", id: String = newMessageID()) -> String {
            var audio = media(mediaID, mime: "audio/ogg; codecs=opus", caption: nil)
            audio["voice"] = true
            return message(["type": "audio", "audio": audio], from: from, name: name, id: id)
        }

        /// A reaction: a kind of message the bot does not act on.
        public func reaction(_ emoji: String = "👍", to messageID: String, from: String, id: String = newMessageID()) -> String {
            message(["type": "reaction", "reaction": ["message_id": messageID, "emoji": emoji]], from: from, name: nil, id: id)
        }

        /// What became of one of our messages (`sent`, `delivered`, `read`, `failed`); a failure carries `errors[]`.
        public func status(
            _ status: String, messageID: String, recipient: String, error: (code: Int, title: String, details: String)? = nil
        ) -> String {
            var object: [String: Any] = [
                "id": messageID, "status": status, "timestamp": timestamp, "recipient_id": recipient,
            ]
            if status != "failed" {
                object["conversation"] = ["id": "7270432eae37498234f4444b35ffc5", "origin": ["type": "service"]]
                object["pricing"] = ["billable": true, "pricing_model": "CBP", "category": "service"]
            }
            if let error {
                object["errors"] = [
                    [
                        "code": error.code, "title": error.title, "message": error.title, "error_data": ["details": error.details],
                        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
                    ] as [String: Any]
                ]
            }
            return envelope(["statuses": [object]])
        }

        /// Several payloads as one POST, their entries one after another (Meta batches under load).
        public static func batch(_ payloads: [String]) -> String {
            let entries = payloads.flatMap { payload -> [Any] in
                let object = (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any]
                return object?["entry"] as? [Any] ?? []
            }
            return json(["object": "whatsapp_business_account", "entry": entries])
        }

        /// A message sent by `from`, wrapped in its change and entry.
        public func message(_ fields: [String: Any], from: String, name: String?, id: String) -> String {
            var message = fields
            message["from"] = from
            message["id"] = id
            message["timestamp"] = timestamp
            var value: [String: Any] = ["messages": [message]]
            if let name { value["contacts"] = [["profile": ["name": name], "wa_id": from]] }
            return envelope(value)
        }

        private func envelope(_ fields: [String: Any]) -> String {
            var value = fields
            value["messaging_product"] = "whatsapp"
            value["metadata"] = ["display_phone_number": displayPhoneNumber, "phone_number_id": phoneNumberID]
            let change: [String: Any] = ["value": value, "field": "messages"]
            return Self.json([
                "object": "whatsapp_business_account", "entry": [["id": businessAccountID, "changes": [change]] as [String: Any]],
            ])
        }

        private func media(_ id: String, mime: String, caption: String?) -> [String: Any] {
            var media: [String: Any] = ["id": id, "mime_type": mime, "sha256": "m04pFf2ERdaopTyFkGPA0+bX3i+YY2dYgVFwOgDLSDI="]
            if let caption { media["caption"] = caption }
            return media
        }

        /// The message a reply refers to (`context`).
        private var context: [String: Any] {
            ["from": displayPhoneNumber, "id": "wamid.HBgLNzk5OTAwMDAwMDAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"]
        }

        private var timestamp: String { String(Int(Date().timeIntervalSince1970)) }

        private static func json(_ object: Any) -> String {
            String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
        }
    }
}
