import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// A field the API refused, and why (in English, from the same texts the panel shows).
public struct FieldProblem: Codable, Sendable, Equatable {
    public let field: String
    public let message: String
}

/// An error the API answers with an RFC 9457 problem document. `type` is a stable relative URI on the same host,
/// `/api/v1/problems/<kind>`: clients branch on it, never on `title` or `detail`.
public struct APIError: Error, Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case malformedRequest = "malformed-request"
        case invalidParameter = "invalid-parameter"
        case validation
        case unauthorized
        case forbidden
        case notFound = "not-found"
        case methodNotAllowed = "method-not-allowed"
        case conflict
        case payloadTooLarge = "payload-too-large"
        case unsupportedMediaType = "unsupported-media-type"
        case rateLimited = "rate-limited"
        case internalError = "internal-error"
        /// The shop's language model failed or answered something unusable.
        case modelFailed = "model-failed"
        case modelTimeout = "model-timeout"

        var status: HTTPResponse.Status {
            switch self {
            case .malformedRequest, .invalidParameter: .badRequest
            case .validation: .unprocessableContent
            case .unauthorized: .unauthorized
            case .forbidden: .forbidden
            case .notFound: .notFound
            case .methodNotAllowed: .methodNotAllowed
            case .conflict: .conflict
            case .payloadTooLarge: .contentTooLarge
            case .unsupportedMediaType: .unsupportedMediaType
            case .rateLimited: .tooManyRequests
            case .internalError: .internalServerError
            case .modelFailed: .badGateway
            case .modelTimeout: .gatewayTimeout
            }
        }

        var title: String {
            switch self {
            case .malformedRequest: "The request body is not valid JSON of the expected shape."
            case .invalidParameter: "A query parameter is not valid."
            case .validation: "Some fields are not valid."
            case .unauthorized: "A valid API key is required."
            case .forbidden: "This key may not do that."
            case .notFound: "Not found."
            case .methodNotAllowed: "This method is not allowed here."
            case .conflict: "The request conflicts with the current state."
            case .payloadTooLarge: "The request body is too large."
            case .unsupportedMediaType: "The request body must be JSON."
            case .rateLimited: "Too many requests."
            case .internalError: "Something went wrong on our side."
            case .modelFailed: "The language model did not give a usable answer."
            case .modelTimeout: "The language model did not answer in time."
            }
        }

        public var type: String { "/api/v1/problems/" + rawValue }
    }

    public var kind: Kind
    public var detail: String
    public var errors: [FieldProblem] = []
    public var headers: HTTPFields = [:]

    public init(_ kind: Kind, _ detail: String, errors: [FieldProblem] = [], headers: HTTPFields = [:]) {
        self.kind = kind
        self.detail = detail
        self.errors = errors
        self.headers = headers
    }

    static func notFound(_ detail: String = "There is nothing here.") -> APIError { APIError(.notFound, detail) }

    static func noSuchTenant(_ slug: String) -> APIError {
        APIError.notFound("There is no shop “\(slug.prefix(60))”.")
    }

    /// Throws the fields refused (interface-text keys, told in `texts`) as a 422 problem, if there are any.
    static func refuse(_ errors: [String: String], texts: [String: String]) throws {
        guard !errors.isEmpty else { return }
        throw APIError.validation(
            errors.sorted { $0.key < $1.key }.map { FieldProblem(field: $0.key, message: texts[$0.value] ?? $0.value) })
    }

    static func validation(_ errors: [FieldProblem]) -> APIError {
        APIError(.validation, errors.count == 1 ? "1 field is not valid." : "\(errors.count) fields are not valid.", errors: errors)
    }

    /// A 409 for any change to a deleted shop but bringing it back.
    static func deletedShop(_ slug: String) -> APIError {
        APIError(
            .conflict,
            "The shop “\(slug.prefix(60))” is deleted: resume it (POST /api/v1/tenants/\(slug.prefix(60))/resume) before changing it.")
    }

    /// A 409: the request is valid but collides with what exists (a slug or a name taken, a person already on the team);
    /// `errors` names the field so a client can point at it.
    static func conflict(field: String, _ message: String) -> APIError {
        APIError(.conflict, message, errors: [FieldProblem(field: field, message: message)])
    }

    static func unauthorized(_ detail: String, invalidToken: Bool) -> APIError {
        APIError(
            .unauthorized, detail,
            headers: [.wwwAuthenticate: invalidToken ? "Bearer realm=\"api\", error=\"invalid_token\"" : "Bearer realm=\"api\""])
    }

    /// The problem document as a response.
    public func response() -> Response {
        let document = ProblemDocument(
            type: kind.type, title: kind.title, status: Int(kind.status.code), detail: detail, errors: errors.isEmpty ? nil : errors)
        var fields = headers
        fields[.contentType] = "application/problem+json"
        fields[.cacheControl] = "no-store"
        return Response(status: kind.status, headers: fields, body: .init(byteBuffer: APIJSON.encode(document)))
    }

    /// Any error thrown under `/api/` as a problem: ours as they are, Hummingbird's by status, anything else as a
    /// logged 500 that shows the request id and nothing of the error.
    static func from(_ error: any Error, context: some RequestContext) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let unavailable as TenantUnavailable:
            return APIError(.conflict, unavailable.description)
        case let error as any HTTPResponseError where error.status.code < 500:
            switch error.status {
            case .notFound: return .notFound()
            case .methodNotAllowed: return APIError(.methodNotAllowed, "This method is not allowed here.")
            case .contentTooLarge: return APIError(.payloadTooLarge, "The request body is larger than \(APIJSON.maximumBody) bytes.")
            case .unsupportedMediaType: return APIError(.unsupportedMediaType, "Send the body as application/json.")
            case .unauthorized: return .unauthorized("Send an API key as `Authorization: Bearer <key>`.", invalidToken: false)
            case .forbidden: return APIError(.forbidden, "This key may not do that.")
            default: return APIError(.malformedRequest, error.status.reasonPhrase)
            }
        default:
            context.logger.error("API request failed", metadata: ["error": "\(String(reflecting: error))"])
            return APIError(.internalError, "The request failed. Quote request id \(context.id) when you report it.")
        }
    }
}

/// RFC 9457's members, plus `errors` for field problems.
struct ProblemDocument: Codable {
    let type: String
    let title: String
    let status: Int
    let detail: String
    let errors: [FieldProblem]?
}

extension HTTPField.Name {
    static let rateLimitLimit = HTTPField.Name("RateLimit-Limit")!
    static let rateLimitRemaining = HTTPField.Name("RateLimit-Remaining")!
}
