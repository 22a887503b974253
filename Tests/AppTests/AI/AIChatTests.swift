import Testing

/// The chat models' suites, under one name that `swift test --filter AI` finds.
@Suite("Chat models") enum AIChatTests {}
