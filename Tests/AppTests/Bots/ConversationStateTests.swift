import Foundation
import Testing

@testable import App

@Suite("The conversation state machine")
struct ConversationStateTests {
    static let someone = UUID()
    static let events: [ConversationEvent] = [
        .handOff(.shopperRequest), .take(operator: someone), .release, .resolve, .handBack, .shopperReturned,
    ]

    /// Every (state, event) pair: the legal ones and where they lead; everything else is refused.
    static let legal: [String: ConversationState] = [
        "bot handoff": .waiting, "bot take": .assigned,
        "waiting take": .assigned, "waiting resolve": .resolved, "waiting handback": .bot,
        "assigned release": .waiting, "assigned resolve": .resolved, "assigned handback": .bot, "assigned take": .assigned,
        "resolved returned": .bot, "resolved take": .assigned,
    ]

    static func name(_ event: ConversationEvent) -> String {
        switch event {
        case .handOff: "handoff"
        case .take: "take"
        case .release: "release"
        case .resolve: "resolve"
        case .handBack: "handback"
        case .shopperReturned: "returned"
        }
    }

    @Test func everyTransitionLegalAndIllegal() throws {
        var checked = 0
        for state in ConversationState.allCases {
            for event in Self.events {
                let key = "\(state.rawValue) \(Self.name(event))"
                if let next = Self.legal[key] {
                    #expect(try state.applying(event) == next, "\(key)")
                } else {
                    #expect(throws: IllegalTransition(from: state, event: event), "\(key) must be refused") {
                        try state.applying(event)
                    }
                }
                checked += 1
            }
        }
        #expect(checked == 24)
    }

    @Test func onlyTheBotStateLetsTheBotAnswer() {
        #expect(ConversationState.allCases.filter(\.botAnswers) == [.bot])
    }

    @Test func illegalMovesSaySoInASentence() {
        let error = IllegalTransition(from: .resolved, event: .release)
        #expect(error.description == "A conversation in state resolved cannot be released.")
    }
}
