import Foundation
import HTTPTypes
import Hummingbird

/// Thrown to send the browser elsewhere (303 See Other), e.g. to the sign-in page from deep inside a handler.
public struct RedirectError: HTTPResponseError {
    public let location: String

    public init(to location: String) {
        self.location = location
    }

    public var status: HTTPResponse.Status { .seeOther }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }
}

/// A page refused with a reason the user should read (403 with a message, 429 with a time to retry).
public struct RefusalError: HTTPResponseError {
    public let status: HTTPResponse.Status
    /// Interface text key of the message.
    public let messageKey: String
    /// Extra text appended to the message (e.g. when to retry).
    public let detail: String?
    public let retryAfter: Int?

    public init(_ status: HTTPResponse.Status, messageKey: String, detail: String? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.messageKey = messageKey
        self.detail = detail
        self.retryAfter = retryAfter
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: status)
    }
}
