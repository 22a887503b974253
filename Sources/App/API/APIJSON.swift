import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// JSON in and out of the API: snake_case keys written by the types themselves, ISO 8601 dates, bodies up to 1 MiB.
enum APIJSON {
    static let maximumBody = 1 << 20

    static func encode(_ value: some Encodable) -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        // Every value the API encodes is built from strings, numbers and dates: encoding cannot fail.
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return ByteBuffer(bytes: data)
    }

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: encode(value)))
    }

    static func noContent() -> Response {
        Response(status: .noContent, headers: [.cacheControl: "no-store"])
    }

    /// The request's JSON body as `T`: 415 for another media type, 413 past the limit, 400 for JSON that does not
    /// parse, 422 naming the field for a value of the wrong type, and 422 for a `null` anywhere but at the paths in
    /// `nullable` (where the OpenAPI document says what it means: "clear it", "the default"). Decoding alone would take
    /// `null` as "left out", which a client asking to clear a field would never notice.
    /// Paths are keys joined with dots; `*` stands for any array element or map key.
    /// With `fields`, every key must be one of them (paths as in `nullable`): an unknown one is a 422 naming it, so a
    /// misspelt field is never silently ignored.
    static func decode<T: Decodable>(
        _ type: T.Type, from request: Request, nullable: Set<String> = [], fields: Set<String>? = nil
    ) async throws -> T {
        let mediaType = (request.headers[.contentType] ?? "").lowercased()
        guard mediaType.hasPrefix("application/json") || mediaType.contains("+json") else {
            throw APIError(.unsupportedMediaType, "Send the body as application/json.")
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maximumBody)
        } catch {
            throw APIError(.payloadTooLarge, "The request body is larger than \(maximumBody) bytes.")
        }
        let data = Data(buffer: buffer)
        let value: T
        do {
            value = try JSONDecoder().decode(T.self, from: data)
        } catch DecodingError.typeMismatch(let expected, let context) {
            throw APIError.validation([FieldProblem(field: path(context), message: "Must be \(name(of: expected)).")])
        } catch DecodingError.valueNotFound(let expected, let context) {
            throw APIError.validation([FieldProblem(field: path(context), message: "Must be \(name(of: expected)), not null.")])
        } catch DecodingError.dataCorrupted(let context) where !context.codingPath.isEmpty {
            // A number too large for its field, say: the body is JSON, one value is not usable.
            throw APIError.validation([FieldProblem(field: path(context), message: "Not a usable value (out of range?).")])
        } catch DecodingError.keyNotFound(let key, let context) {
            throw APIError.validation([FieldProblem(field: path(context, key), message: "Required.")])
        } catch {
            throw APIError(.malformedRequest, "The body is not valid JSON.")
        }
        // The body parsed once already: this second look only finds the nulls and the unknown fields, so a body that
        // names no fields to check and has no null anywhere is spared it.
        guard fields != nil || data.range(of: Data("null".utf8)) != nil else { return value }
        if let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) {
            var problems: [FieldProblem] = []
            nulls(in: object, path: [], pattern: [], rules: (nullable, fields), into: &problems)
            if !problems.isEmpty { throw APIError.validation(problems) }
        }
        return value
    }

    private static func nulls(
        in value: Any, path: [String], pattern: [String], rules: (nullable: Set<String>, fields: Set<String>?),
        into problems: inout [FieldProblem]
    ) {
        switch value {
        case is NSNull where !path.isEmpty:
            // `hours.week.*` allows a null under any key of the map `hours.week`.
            let exact = pattern.joined(separator: "."), anyKey = (pattern.dropLast() + ["*"]).joined(separator: ".")
            guard !rules.nullable.contains(exact), !rules.nullable.contains(anyKey) else { return }
            problems.append(
                FieldProblem(field: path.joined(separator: "."), message: "Must not be null; leave the field out to keep its value."))
        case let object as [String: Any]:
            for (key, item) in object.sorted(by: { $0.key < $1.key }) {
                if let fields = rules.fields, !fields.contains((pattern + [key]).joined(separator: ".")),
                    !fields.contains((pattern + ["*"]).joined(separator: "."))
                {
                    problems.append(FieldProblem(field: (path + [key]).joined(separator: "."), message: "Unknown field."))
                    continue
                }
                nulls(in: item, path: path + [key], pattern: pattern + [key], rules: rules, into: &problems)
            }
        case let array as [Any]:
            for (index, item) in array.enumerated() {
                nulls(in: item, path: path + [String(index)], pattern: pattern + ["*"], rules: rules, into: &problems)
            }
        default:
            return
        }
    }

    private static func path(_ context: DecodingError.Context, _ key: (any CodingKey)? = nil) -> String {
        let keys = context.codingPath + (key.map { [$0] } ?? [])
        return keys.map { $0.intValue.map { "\($0)" } ?? $0.stringValue }.joined(separator: ".")
    }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Double.Type: "a number"
        case is [Any].Type: "an array"
        default: "an object"
        }
    }
}

extension String {
    /// A text value from a JSON body as the forms take theirs: without control characters (PostgreSQL refuses NUL in
    /// text: that would be a 500), trimmed.
    var apiText: String { withoutControlCharacters.trimmingCharacters(in: .whitespacesAndNewlines) }
}

/// One page of a list: `{"data": [...], "next_cursor": "..." | null}`.
struct Page<Item: Encodable>: Encodable {
    let data: [Item]
    let nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case data
        case nextCursor = "next_cursor"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(data, forKey: .data)
        // Always present: `null` says "this was the last page".
        try container.encode(nextCursor, forKey: .nextCursor)
    }
}

/// `?limit=` (1–200, default 50) and `?cursor=` (opaque to clients: base64url of the last row's sort key).
struct PageRequest: Sendable {
    let limit: Int
    /// The decoded sort key after which the page starts.
    let after: String?

    static let defaultLimit = 50
    static let maximumLimit = 200

    init(limit: Int = defaultLimit, after: String? = nil) {
        self.limit = limit
        self.after = after
    }

    init(_ request: Request) throws {
        let query = request.uri.queryParameters
        if let text = query.get("limit") {
            guard let value = Int(text), (1...Self.maximumLimit).contains(value) else {
                throw APIError(.invalidParameter, "`limit` must be a whole number from 1 to \(Self.maximumLimit).")
            }
            limit = value
        } else {
            limit = Self.defaultLimit
        }
        if let cursor = query.get("cursor"), !cursor.isEmpty {
            guard let key = Self.decode(cursor) else { throw Self.badCursor }
            after = key
        } else {
            after = nil
        }
    }

    static let badCursor = APIError(.invalidParameter, "`cursor` is not a cursor this list gave out.")

    static func encode(_ key: String) -> String { SecretToken.base64URL(Array(key.utf8)) }

    static func decode(_ cursor: String) -> String? {
        guard cursor.count <= 400, cursor.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            return nil
        }
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let key = String(data: data, encoding: .utf8), !key.isEmpty else { return nil }
        return key
    }

    /// A page from rows fetched with `LIMIT limit + 1`: the extra row only says there is more.
    func page<Row, Item: Encodable>(_ rows: [Row], key: (Row) -> String, item: (Row) -> Item) -> Page<Item> {
        let shown = rows.prefix(limit)
        let next = rows.count > limit ? shown.last.map { Self.encode(key($0)) } : nil
        return Page(data: shown.map(item), nextCursor: next)
    }

    /// A page of a short list held in memory, sorted by `key`.
    func page<Row, Item: Encodable>(all rows: [Row], key: (Row) -> String, item: (Row) -> Item) -> Page<Item> {
        let sorted = rows.sorted { key($0) < key($1) }
        let rest = after.map { after in sorted.filter { key($0) > after } } ?? sorted
        return page(Array(rest.prefix(limit + 1)), key: key, item: item)
    }
}
