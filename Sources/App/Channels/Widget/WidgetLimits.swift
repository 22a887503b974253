import Foundation
import HTTPTypes

/// The widget API's limits, per process (as the API's are): new visitors and writes per address, 20 messages a minute
/// per visitor and the configured number per address, typing notices per visitor. Refusals are 429 problems with `Retry-After` and a sentence
/// in the shopper's language, which the widget shows.
struct WidgetLimits: Sendable {
    /// The longest message a shopper may send from the widget.
    static let maximumLength = 2000

    let newVisitors: RateLimiter<String>
    let messagesByVisitor = RateLimiter<String>(perMinute: 20)
    let messagesByAddress: RateLimiter<String>
    let writes: RateLimiter<String>
    let typing = RateLimiter<String>(perMinute: 30)
    let localizer: Localizer

    /// `perAddress`: messages and writes a minute from one address (`VITRINA_WIDGET_ADDRESS_LIMIT`).
    init(perAddress: Int = 300, localizer: Localizer) {
        newVisitors = RateLimiter(perMinute: max(10, perAddress / 10))
        messagesByAddress = RateLimiter(perMinute: perAddress)
        writes = RateLimiter(perMinute: perAddress)
        self.localizer = localizer
    }

    /// Takes one request from `key`'s bucket (per shop), or throws the 429.
    func check(_ limiter: RateLimiter<String>, _ key: String, _ context: WidgetRequestContext) throws {
        let decision = limiter.take(context.tenant.id.uuidString + "/" + key)
        guard decision.allowed else {
            throw APIError(
                .rateLimited, localizer.text("widget_error_rate", context.language), headers: [.retryAfter: String(decision.retryAfter)])
        }
    }

    /// Whether `key` may do this now (typing notices beyond the limit are dropped quietly).
    func allows(_ limiter: RateLimiter<String>, _ key: String, _ context: WidgetRequestContext) -> Bool {
        limiter.take(context.tenant.id.uuidString + "/" + key).allowed
    }
}
