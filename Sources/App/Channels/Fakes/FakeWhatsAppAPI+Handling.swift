import Foundation
import NIOCore
import NIOHTTP1

/// What the fake answers one request with.
enum FakeWhatsAppAnswer {
    case reply(Int, [UInt8], contentType: String)
    case close

    static func json(_ status: Int, _ object: [String: Any]) -> FakeWhatsAppAnswer {
        .reply(
            status, Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()),
            contentType: "application/json")
    }

    /// Graph's error shape.
    static func error(
        _ status: Int, code: Int, _ message: String, details: String? = nil, type: String = "OAuthException"
    ) -> FakeWhatsAppAnswer {
        var error: [String: Any] = ["message": message, "type": type, "code": code, "fbtrace_id": "AazTu5Xs1Vq2Np7JeBn0y3f"]
        if let details { error["error_data"] = ["messaging_product": "whatsapp", "details": details] }
        return json(status, ["error": error])
    }

    static func invalid(_ details: String) -> FakeWhatsAppAnswer {
        error(400, code: 100, "(#100) Invalid parameter", details: details)
    }
}

extension FakeWhatsAppAPI {
    /// Answers one request: faults first, then the token, then the route. The lock is held only to read and record
    /// state, never while JSON is parsed or written, so that many connections go at once.
    func answer(method: HTTPMethod, uri: String, authorization: String?, body: [UInt8]) -> FakeWhatsAppAnswer {
        let (path, query) = Self.split(uri)
        let token = authorization.flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        let (fault, known) = state.withLock { state in
            (
                state.faults.isEmpty ? nil : state.faults.removeFirst() ?? nil,
                token.map { state.tokens.contains($0) || (state.anyNumber && !$0.isEmpty) } ?? false
            )
        }
        switch fault {
        case .closeConnection: return .close
        case .rateLimited:
            return .error(400, code: 130429, "(#130429) Rate limit hit", details: "Cloud API message throughput has been reached.")
        case .serverError: return .error(500, code: 2, "An unexpected error has occurred. Please retry your request later.")
        case nil: break
        }
        guard let token, known else { return .error(401, code: 190, "Invalid OAuth access token - Cannot parse access token") }
        var segments = path.split(separator: "/").map(String.init)
        if segments.first == version { segments.removeFirst() }
        switch (method, segments.count) {
        case (.POST, 2) where segments[1] == "messages":
            return send(from: segments[0], token: token, body: body)
        case (.GET, 2) where segments == ["whatsapp_business", "attachments"]:
            guard let id = query["mid"], let media = state.withLock({ $0.media[id] }) else {
                return .error(404, code: 100, "Media not found")
            }
            return .reply(200, media.bytes, contentType: media.mime)
        case (.GET, 1):
            return object(id: segments[0], token: token, fields: query["fields"])
        default:
            return .error(400, code: 100, "Unknown path components: /\(segments.joined(separator: "/"))")
        }
    }

    private func object(id: String, token: String, fields: String?) -> FakeWhatsAppAnswer {
        adopt(id, token: token)
        let (number, media, origin) = state.withLock { ($0.numbers[id], $0.media[id], $0.origin) }
        if let number, number.token == token {
            var object: [String: Any] = ["id": id]
            let asked = fields?.split(separator: ",").map(String.init) ?? ["display_phone_number", "verified_name"]
            if asked.contains("display_phone_number") { object["display_phone_number"] = number.display }
            if asked.contains("verified_name") { object["verified_name"] = number.verifiedName }
            return .json(200, object)
        }
        if let media {
            return .json(
                200,
                [
                    "messaging_product": "whatsapp", "id": id, "mime_type": media.mime, "file_size": media.bytes.count,
                    "sha256": "f0c2d3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2",
                    "url": origin + "/whatsapp_business/attachments/?mid=\(id)&ext=1694000000&hash=ATuFakeHash",
                ])
        }
        return Self.unknownObject(id, verb: "get")
    }

    private static func unknownObject(_ id: String, verb: String) -> FakeWhatsAppAnswer {
        .error(
            400, code: 100,
            "Unsupported \(verb) request. Object with ID '\(id)' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
            type: "GraphMethodException")
    }

    /// The wamid the fake gives its `counter`th accepted message.
    static func messageID(to: String, counter: Int) -> String {
        "wamid.HBgL\(to)FQIAERgS" + String(counter, radix: 16, uppercase: true)
    }

    /// The wamid the next accepted message to `to` will get (a test posts a status that overtakes the send's answer).
    public func nextMessageID(to: String) -> String {
        Self.messageID(to: to, counter: state.withLock { $0.counter } + 1)
    }

    private func send(from phone: String, token: String, body: [UInt8]) -> FakeWhatsAppAnswer {
        adopt(phone, token: token)
        guard state.withLock({ $0.numbers[phone]?.token == token }) else { return Self.unknownObject(phone, verb: "post") }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            return .invalid("The request body is not a JSON object.")
        }
        let type = object["type"] as? String ?? "text"
        if let problem = Self.problem(in: object, type: type) { return .invalid(problem) }
        let to = object["to"] as? String ?? ""
        let json = String(decoding: body, as: UTF8.self)
        let id = state.withLock { state -> String? in
            if type != "template", state.closedWindows.contains(to) { return nil }
            state.counter += 1
            let id = Self.messageID(to: to, counter: state.counter)
            state.sent.append(Sent(phoneNumberID: phone, to: to, type: type, json: json, id: id, at: Date()))
            return id
        }
        guard let id else {
            return .error(
                400, code: 131047, "(#131047) Re-engagement message",
                details: "Message failed to send because more than 24 hours have passed since the customer last replied to this number.")
        }
        var reply: [String: Any] = ["messaging_product": "whatsapp", "contacts": [["input": to, "wa_id": to]]]
        reply["messages"] = type == "template" ? [["id": id, "message_status": "accepted"]] : [["id": id]]
        return .json(200, reply)
    }

    /// What the real API would refuse in a message, as its `error_data.details` says it; nil when it is valid.
    static func problem(in object: [String: Any], type: String) -> String? {
        guard object["messaging_product"] as? String == "whatsapp" else { return "The parameter messaging_product is required." }
        guard let to = object["to"] as? String, !to.isEmpty, to.allSatisfy({ $0.isNumber || $0 == "+" }) else {
            return "The parameter to is required."
        }
        switch type {
        case "text":
            let body = (object["text"] as? [String: Any])?["body"] as? String ?? ""
            return (1...4096).contains(body.utf16.count) ? nil : "text.body must be 1 to 4096 characters long."
        case "interactive":
            return interactiveProblem(object["interactive"] as? [String: Any] ?? [:])
        case "template":
            let template = object["template"] as? [String: Any] ?? [:]
            guard let name = template["name"] as? String, !name.isEmpty else { return "The parameter template['name'] is required." }
            guard let code = (template["language"] as? [String: Any])?["code"] as? String, !code.isEmpty else {
                return "The parameter template['language']['code'] is required."
            }
            return nil
        case "image", "audio", "document", "video", "sticker":
            let media = object[type] as? [String: Any] ?? [:]
            return media["id"] is String || media["link"] is String ? nil : "The parameter \(type)['id'] or \(type)['link'] is required."
        case "location", "contacts", "reaction":
            return object[type] == nil ? "The parameter \(type) is required." : nil
        default:
            return "The parameter type is invalid: \(type)."
        }
    }

    private static func interactiveProblem(_ interactive: [String: Any]) -> String? {
        let body = (interactive["body"] as? [String: Any])?["text"] as? String ?? ""
        let action = interactive["action"] as? [String: Any] ?? [:]
        switch interactive["type"] as? String {
        case "button":
            guard (1...1024).contains(body.utf16.count) else { return "interactive.body.text must be 1 to 1024 characters long." }
            let buttons = action["buttons"] as? [[String: Any]] ?? []
            guard (1...3).contains(buttons.count) else { return "interactive.action.buttons must have 1 to 3 buttons." }
            let replies = buttons.map { $0["reply"] as? [String: Any] ?? [:] }
            guard buttons.allSatisfy({ $0["type"] as? String == "reply" }) else { return "A button's type must be reply." }
            let ids = replies.map { $0["id"] as? String ?? "" }
            let titles = replies.map { $0["title"] as? String ?? "" }
            guard ids.allSatisfy({ (1...256).contains($0.utf16.count) }), Set(ids).count == ids.count else {
                return "Button ids must be unique."
            }
            guard titles.allSatisfy({ (1...20).contains($0.utf16.count) }) else {
                return "A button's title must be 1 to 20 characters long."
            }
            guard Set(titles).count == titles.count else { return "Button titles must be unique." }
            return nil
        case "list":
            guard (1...4096).contains(body.utf16.count) else { return "interactive.body.text must be 1 to 4096 characters long." }
            guard let label = action["button"] as? String, (1...20).contains(label.utf16.count) else {
                return "interactive.action.button must be 1 to 20 characters long."
            }
            let sections = action["sections"] as? [[String: Any]] ?? []
            guard (1...10).contains(sections.count) else { return "interactive.action.sections must have 1 to 10 sections." }
            if sections.count > 1, !sections.allSatisfy({ ($0["title"] as? String)?.isEmpty == false }) {
                return "Each section needs a title when there are several."
            }
            let rows = sections.flatMap { $0["rows"] as? [[String: Any]] ?? [] }
            guard (1...10).contains(rows.count) else { return "A list must have 1 to 10 rows in all." }
            let ids = rows.map { $0["id"] as? String ?? "" }
            guard ids.allSatisfy({ (1...200).contains($0.utf16.count) }), Set(ids).count == ids.count else {
                return "Row ids must be unique."
            }
            guard rows.allSatisfy({ (1...24).contains(($0["title"] as? String ?? "").utf16.count) }) else {
                return "A row's title must be 1 to 24 characters long."
            }
            return nil
        default:
            return "interactive.type must be button or list."
        }
    }

    /// A request target's path and its query's parameters.
    static func split(_ uri: String) -> (String, [String: String]) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri, [:]) }
        var query: [String: String] = [:]
        for pair in uri[uri.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            if let name = parts.first { query[name] = parts.count > 1 ? parts[1] : "" }
        }
        return (String(uri[..<mark]), query)
    }
}

/// One connection to the fake: collects a request (at most 4 MB), then answers it.
final class FakeWhatsAppHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let api: FakeWhatsAppAPI
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(api: FakeWhatsAppAPI) {
        self.api = api
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.removeAll(keepingCapacity: true)
        case .body(let part):
            if body.count + part.readableBytes <= 4 << 20 { body += part.readableBytesView }
        case .end:
            guard let head else { return }
            self.head = nil
            let answer = api.answer(
                method: head.method, uri: head.uri, authorization: head.headers.first(name: "Authorization"), body: body)
            switch answer {
            case .close:
                context.close(promise: nil)
            case .reply(let status, let bytes, let contentType):
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: contentType)
                headers.add(name: "Content-Length", value: "\(bytes.count)")
                let response = HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: status), headers: headers)
                context.write(wrapOutboundOut(.head(response)), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: bytes)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
