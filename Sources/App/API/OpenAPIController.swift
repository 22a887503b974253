import Foundation
import Hummingbird
import NIOCore

/// `GET /api/v1/openapi.json`: the hand-written description of the API (`Templates/api/openapi.json`), read and
/// checked once at start-up; the widget's (`Templates/api/widget-openapi.json`) at `GET /widget/api/openapi.json`. A
/// test holds each and the router's routes to each other, both ways.
struct OpenAPIController: Sendable {
    let document: ByteBuffer

    /// Reads the document; a missing or unparseable file stops the start-up.
    init(file: String) throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ConfigurationError.message("The API description \(file) is missing.")
        }
        guard (try? JSONSerialization.jsonObject(with: data)) is [String: Any] else {
            throw ConfigurationError.message("The API description \(file) is not a JSON object.")
        }
        document = ByteBuffer(bytes: data)
    }

    /// `GET <group>/openapi.json` (the provisioning API's at `/api/v1`, the widget's at `/widget/api`).
    func addRoutes<Context: RequestContext>(to group: RouterGroup<Context>, path: RouterPath = "openapi.json") {
        group.get(path) { _, _ in show() }
    }

    func show() -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json", .cacheControl: "public, max-age=300"],
            body: .init(byteBuffer: document))
    }
}
