import Foundation
import Logging

/// Whether a text is embedded as a shopper's query or as a knowledge passage (e5 models score only that way round).
public enum EmbeddingKind: String, Sendable {
    case query, passage
}

/// A model that turns texts into vectors.
public protocol EmbeddingModel: Sendable {
    /// Identifies the model (stored beside each vector: a change of model re-embeds everything).
    var modelID: String { get }
    /// One vector per text, in order, L2-normalised.
    func embed(_ texts: [String], as kind: EmbeddingKind, logger: Logger) async throws -> [[Float]]
}
