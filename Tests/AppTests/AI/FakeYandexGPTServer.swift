import Foundation

/// YandexGPT's native completion on loopback, answering in the shape of Yandex's documentation: one alternative, its
/// status, and the usage with its counts as strings.
enum FakeYandexGPTServer {
    static let answer = "Заказ можно вернуть в течение 14 дней."

    static func make() -> FakeChatServer {
        FakeChatServer { _ in .reply(200, completion(answer)) }
    }

    static func completion(
        _ text: String, status: String = "ALTERNATIVE_STATUS_FINAL",
        usage: [String: Any]? = ["inputTextTokens": "19", "completionTokens": "6", "totalTokens": "25"]
    ) -> String {
        var result: [String: Any] = [
            "alternatives": [["message": ["role": "assistant", "text": text], "status": status] as [String: Any]],
            "modelVersion": "23.10.2024",
        ]
        if let usage { result["usage"] = usage }
        return chatJSON(["result": result])
    }

    /// An error answer as Yandex's gateway gives it.
    static func error(_ message: String, grpcCode: Int, httpCode: Int, httpStatus: String) -> String {
        chatJSON([
            "error": ["grpcCode": grpcCode, "httpCode": httpCode, "message": message, "httpStatus": httpStatus, "details": [Any]()]
                as [String: Any]
        ])
    }
}
