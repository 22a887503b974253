import Logging

/// What a text is embedded as: e5 scores are meaningful only between a shopper's query and a knowledge passage.
public enum EmbeddingKind: String, Sendable {
    case query, passage
}

/// Turns texts into vectors for semantic retrieval.
public protocol EmbeddingModel: Sendable {
    /// Identifies the model (stored beside each vector: a change of model re-embeds everything).
    var modelID: String { get }
    /// One vector per text, in order, L2-normalised.
    func embed(_ texts: [String], as kind: EmbeddingKind, logger: Logger) async throws -> [[Float]]
}

/// Why texts could not be embedded. Each case reads as a sentence a log or an operator can use.
public enum EmbeddingError: Error, CustomStringConvertible, Equatable {
    /// The endpoint could not be reached: the address and what went wrong.
    case unreachable(String, String)
    /// The endpoint did not answer in time: the address and the time allowed.
    case timedOut(String, Duration)
    /// The endpoint answered with an HTTP error: the status and the message in its body.
    case status(Int, String)
    /// The answer could not be used: what was wrong with it.
    case malformedReply(String)
    /// Embeddings are paused after a failure, to spare callers a timeout each: why they failed.
    case unavailable(String)

    public var description: String {
        switch self {
        case .unreachable(let url, let reason): "The embeddings server at \(url) could not be reached: \(reason)."
        case .timedOut(let url, let limit): "The embeddings server at \(url) did not answer within \(Self.seconds(limit))."
        case .status(let code, let message):
            message.isEmpty
                ? "The embeddings server answered HTTP \(code)." : "The embeddings server answered HTTP \(code): \(Self.sentence(message))"
        case .malformedReply(let reason): "The embeddings server's answer could not be used: \(reason)."
        case .unavailable(let reason): "Embeddings are paused after a failure. \(reason)"
        }
    }

    /// The text with a full stop, unless it ends with one already.
    private static func sentence(_ text: String) -> String {
        guard let last = text.last, !".!?".contains(last) else { return text }
        return text + "."
    }

    private static func seconds(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if milliseconds % 1000 == 0 { return milliseconds == 1000 ? "1 second" : "\(milliseconds / 1000) seconds" }
        return "\(milliseconds) ms"
    }
}

extension Array where Element == Float {
    /// The vector scaled to length 1, or nil for the zero vector (or one holding infinities or NaNs).
    var l2Normalized: [Float]? {
        var sum: Double = 0
        for value in self { sum += Double(value) * Double(value) }
        let norm = sum.squareRoot()
        guard norm > 0, norm.isFinite else { return nil }
        return map { Float(Double($0) / norm) }
    }
}
