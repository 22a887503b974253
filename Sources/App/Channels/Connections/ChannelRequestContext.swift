import Foundation
import Hummingbird

/// A request to a messenger's webhook on a shop's host: the shop is known (an unknown host never gets here).
public struct ChannelRequestContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let tenant: TenantRecord

    public init(context: AppRequestContext) throws {
        guard case .tenant(let tenant) = context.site else { throw HTTPError(.notFound) }
        coreContext = context.coreContext
        self.tenant = tenant
    }
}
