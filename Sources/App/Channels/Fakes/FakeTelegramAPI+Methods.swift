import Foundation

/// What the fake answers one request with.
enum FakeTelegramAnswer: Sendable {
    case json(Int, String)
    case file([UInt8])
    case close
}

extension FakeTelegramAPI {
    /// One request to the fake: `/bot<token>/<method>` or `/file/bot<token>/<path>`.
    func answer(method httpMethod: String, uri: String, contentType: String?, body: [UInt8]) -> FakeTelegramAnswer {
        let path = uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? uri
        if path.hasPrefix("/file/bot") {
            let rest = path.dropFirst("/file/bot".count)
            guard let slash = rest.firstIndex(of: "/") else { return Self.notFound }
            return file(token: String(rest[..<slash]), path: String(rest[rest.index(after: slash)...]))
        }
        guard path.hasPrefix("/bot"), let slash = path.dropFirst(4).firstIndex(of: "/") else { return Self.notFound }
        let token = String(path[path.index(path.startIndex, offsetBy: 4)..<slash])
        let method = String(path[path.index(after: slash)...])
        let query = uri.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
        let parameters = Self.parameters(body: body, contentType: contentType, query: query)
        return call(method, token: token, parameters)
    }

    /// A Bot API method on `token`'s bot, as the real API answers it.
    func call(_ method: String, token: String, _ parameters: [String: Any]) -> FakeTelegramAnswer {
        let name = method.lowercased()
        let (bot, fault) = state.withLock { state -> (Bot?, Fault?) in
            state.calls[name, default: 0] += 1
            if state.bots[token] == nil, state.anyToken, let colon = token.firstIndex(of: ":"), let id = Int64(token[..<colon]) {
                state.bots[token] = Bot(username: "demo_\(id)_bot", id: id)
            }
            guard let bot = state.bots[token] else { return (nil, nil) }
            guard let index = state.faults.firstIndex(where: { $0.method == nil || $0.method == name }) else { return (bot, nil) }
            return (bot, state.faults.remove(at: index).fault)
        }
        guard let bot else { return Self.error(401, "Unauthorized") }
        switch fault {
        case .tooManyRequests(let seconds):
            return Self.error(429, "Too Many Requests: retry after \(seconds)", extra: ["parameters": ["retry_after": seconds]])
        case .serverError: return Self.error(500, "Internal Server Error")
        case .closeConnection: return .close
        case nil: break
        }
        switch name {
        case "getme":
            return Self.ok([
                "id": bot.id, "is_bot": true, "first_name": bot.username, "username": bot.username, "can_join_groups": true,
                "can_read_all_group_messages": false, "supports_inline_queries": false,
            ])
        case "setwebhook": return setWebhook(token: token, parameters)
        case "deletewebhook":
            state.withLock { $0.bots[token]?.webhook = nil }
            return Self.ok(true, description: "Webhook was deleted")
        case "getwebhookinfo":
            let hook = bot.webhook
            var info: [String: Any] = ["url": hook?.url ?? "", "has_custom_certificate": false, "pending_update_count": 0]
            if let hook {
                info["max_connections"] = hook.maxConnections ?? 40
                if let updates = hook.allowedUpdates { info["allowed_updates"] = updates }
            }
            return Self.ok(info)
        case "sendmessage": return sendMessage(token: token, bot: bot, parameters)
        case "answercallbackquery":
            guard let id = Self.string(parameters["callback_query_id"]), !id.isEmpty else {
                return Self.error(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
            }
            state.withLock { $0.answers.append(CallbackAnswer(token: token, queryID: id, text: Self.string(parameters["text"]))) }
            return Self.ok(true)
        case "getfile":
            let id = Self.string(parameters["file_id"]) ?? ""
            guard let file = state.withLock({ $0.files[id] }) else { return Self.error(400, "Bad Request: invalid file_id") }
            return Self.ok(["file_id": id, "file_unique_id": "u" + id, "file_size": file.bytes.count, "file_path": file.path])
        default:
            return Self.notFound
        }
    }

    private func setWebhook(token: String, _ parameters: [String: Any]) -> FakeTelegramAnswer {
        let url = Self.string(parameters["url"]) ?? ""
        if url.isEmpty {
            state.withLock { $0.bots[token]?.webhook = nil }
            return Self.ok(true, description: "Webhook was deleted")
        }
        guard let scheme = URL(string: url)?.scheme?.lowercased(), ["http", "https"].contains(scheme), URL(string: url)?.host != nil
        else { return Self.error(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook") }
        let secret = Self.string(parameters["secret_token"])
        if let secret,
            secret.isEmpty || secret.count > 256 || !secret.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-".contains($0)) })
        {
            return Self.error(400, "Bad Request: secret token contains unallowed characters")
        }
        let connections = Self.int(parameters["max_connections"])
        if let connections, !(1...100).contains(connections) { return Self.error(400, "Bad Request: bad max_connections") }
        let hook = Webhook(
            url: url, secretToken: secret, allowedUpdates: Self.strings(parameters["allowed_updates"]),
            dropPendingUpdates: Self.bool(parameters["drop_pending_updates"]) ?? false,
            maxConnections: connections)
        state.withLock { $0.bots[token]?.webhook = hook }
        return Self.ok(true, description: "Webhook was set")
    }

    private func sendMessage(token: String, bot: Bot, _ parameters: [String: Any]) -> FakeTelegramAnswer {
        guard let chat = Self.string(parameters["chat_id"]), !chat.isEmpty else { return Self.error(400, "Bad Request: chat_id is empty") }
        let text = Self.string(parameters["text"]) ?? ""
        let parseMode = Self.string(parameters["parse_mode"])
        var plain = text
        switch parseMode?.lowercased() {
        case nil, "": break
        case "html":
            do { plain = try TelegramHTMLCheck.plainText(text) } catch {
                return Self.error(400, "Bad Request: can't parse entities: \(error.description)")
            }
        case "markdown", "markdownv2": break
        default: return Self.error(400, "Bad Request: unsupported parse_mode")
        }
        plain = plain.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !plain.isEmpty else { return Self.error(400, "Bad Request: message text is empty") }
        guard plain.unicodeScalars.count <= TelegramRendering.maxLength else { return Self.error(400, "Bad Request: message is too long") }
        var markup: String?
        if let raw = parameters["reply_markup"] {
            switch Self.checkMarkup(raw) {
            case .success(let json): markup = json
            case .failure(let refusal): return Self.error(400, refusal.description)
            }
        }
        let refusal = state.withLock { state -> FakeTelegramAnswer? in
            if state.blocked.contains(chat) { return Self.error(403, "Forbidden: bot was blocked by the user") }
            if state.missing.contains(chat) || (state.knownChatsOnly && !state.known.contains(chat)) {
                return Self.error(400, "Bad Request: chat not found")
            }
            return nil
        }
        if let refusal { return refusal }
        let now = Date()
        let id = state.withLock { state -> Int64 in
            let key = token + "|" + chat
            let id = (state.lastMessageID[key] ?? 0) + 1
            state.lastMessageID[key] = id
            state.sent.append(
                SentMessage(
                    token: token, chat: chat, messageID: id, text: text, plainText: plain, parseMode: parseMode, replyMarkup: markup,
                    at: now,
                    instant: .now))
            return id
        }
        var message: [String: Any] = [
            "message_id": id, "from": ["id": bot.id, "is_bot": true, "first_name": bot.username, "username": bot.username],
            "chat": ["id": Int64(chat) as Any? ?? chat, "type": "private"], "date": Int(now.timeIntervalSince1970), "text": plain,
        ]
        if let markup, let object = try? JSONSerialization.jsonObject(with: Data(markup.utf8)) { message["reply_markup"] = object }
        return Self.ok(message)
    }

    /// Checks `reply_markup` (an object, or JSON in a string) as Telegram does; returns it as JSON.
    static func checkMarkup(_ raw: Any) -> Result<String, FakeTelegramRefusal> {
        let object = (raw as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } ?? raw
        guard let markup = object as? [String: Any] else {
            return .failure(.init("Bad Request: can't parse reply keyboard markup JSON object"))
        }
        if let rows = markup["inline_keyboard"] {
            guard let rows = rows as? [[Any]] else {
                return .failure(.init("Bad Request: field \"inline_keyboard\" must be an Array of Arrays"))
            }
            for button in rows.joined() {
                guard let button = button as? [String: Any], let text = button["text"] as? String, !text.isEmpty else {
                    return .failure(.init("Bad Request: BUTTON_TEXT_INVALID"))
                }
                if let data = button["callback_data"] {
                    guard let data = data as? String, (1...TelegramRendering.maxCallbackBytes).contains(data.utf8.count) else {
                        return .failure(.init("Bad Request: BUTTON_DATA_INVALID"))
                    }
                } else if let url = button["url"] {
                    guard let url = url as? String, let scheme = URL(string: url)?.scheme?.lowercased(),
                        ["http", "https", "tg"].contains(scheme)
                    else { return .failure(.init("Bad Request: BUTTON_URL_INVALID")) }
                } else {
                    return .failure(.init("Bad Request: can't find field \"callback_data\""))
                }
            }
        }
        guard let data = try? JSONSerialization.data(withJSONObject: markup, options: [.sortedKeys]) else {
            return .failure(.init("Bad Request: can't parse reply keyboard markup JSON object"))
        }
        return .success(String(decoding: data, as: UTF8.self))
    }

    private func file(token: String, path: String) -> FakeTelegramAnswer {
        let bytes = state.withLock { state -> [UInt8]? in
            guard state.bots[token] != nil else { return nil }
            return state.files.values.first { $0.path == path }?.bytes
        }
        return bytes.map { .file($0) } ?? Self.notFound
    }

    // MARK: Answers and parameters

    static let notFound = FakeTelegramAnswer.json(404, #"{"ok":false,"error_code":404,"description":"Not Found"}"#)

    static func ok(_ result: Any, description: String? = nil) -> FakeTelegramAnswer {
        var object: [String: Any] = ["ok": true, "result": result]
        if let description { object["description"] = description }
        return .json(200, json(object))
    }

    static func error(_ code: Int, _ description: String, extra: [String: Any] = [:]) -> FakeTelegramAnswer {
        let object: [String: Any] = ["ok": false, "error_code": code, "description": description].merging(extra) { a, _ in a }
        return .json(code, json(object))
    }

    static func json(_ object: Any) -> String {
        (try? JSONSerialization.data(withJSONObject: object)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// A method's parameters from a JSON body, a form or the query string, as the Bot API takes them.
    static func parameters(body: [UInt8], contentType: String?, query: String) -> [String: Any] {
        if body.first == UInt8(ascii: "{"), let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] {
            return object
        }
        var parameters: [String: Any] = [:]
        let form =
            contentType?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true ? String(decoding: body, as: UTF8.self) : ""
        for pair in (query + "&" + form).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            if let name = parts.first, !name.isEmpty { parameters[name] = parts.count > 1 ? parts[1] : "" }
        }
        return parameters
    }

    static func string(_ value: Any?) -> String? {
        switch value {
        case let text as String: text
        case let number as Int: String(number)
        case let number as Int64: String(number)
        case let number as NSNumber: number.stringValue
        default: nil
        }
    }

    static func int(_ value: Any?) -> Int? {
        switch value {
        case let number as Int: number
        case let number as NSNumber: number.intValue
        case let text as String: Int(text)
        default: nil
        }
    }

    static func bool(_ value: Any?) -> Bool? {
        switch value {
        case let flag as Bool: flag
        case let number as NSNumber: number.boolValue
        case let text as String: text == "true" ? true : text == "false" ? false : nil
        default: nil
        }
    }

    static func strings(_ value: Any?) -> [String]? {
        if let list = value as? [String] { return list }
        if let text = value as? String, let list = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String] { return list }
        return nil
    }
}

/// A Bot API refusal's description.
struct FakeTelegramRefusal: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
