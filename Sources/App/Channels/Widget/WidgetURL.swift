import Hummingbird

/// The widget's addresses on a shop's host: its script, its frame, and its API (`/widget/api/...`, described by
/// `/widget/api/openapi.json`). Routes are registered from it and the frame's configuration names the API from it.
public enum WidgetURL: String, CaseIterable, Sendable {
    case script, frame
    case visitors, identify, conversation, messages, conversations, contact, offline, csat, typing, read, events
    /// The API's OpenAPI document (`Templates/api/widget-openapi.json`).
    case openapi = "openapi.json"

    /// The API's prefix, relative to the host.
    public static let api = "/widget/api"

    public var path: String {
        switch self {
        case .script: "/widget.js"
        case .frame: "/widget/frame"
        default: Self.api + "/" + rawValue
        }
    }

    /// The pattern within its group: the host's root for the script and the frame, `/widget/api` for the rest.
    public var pattern: RouterPath {
        switch self {
        case .script, .frame: RouterPath(path)
        default: RouterPath(rawValue)
        }
    }
}
