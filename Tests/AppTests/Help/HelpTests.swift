import Testing

@testable import App

@Suite("Help article text")
struct HelpTextTests {
    @Test func paragraphsSplitOnBlankLines() {
        #expect(HelpArticle.paragraphs(of: "One.\r\n\r\nTwo.\n\n\n\nThree.\n") == ["One.", "Two.", "Three."])
    }

    @Test func prefixQueryKeepsOnlyWords() {
        #expect(HelpArticleStore.prefixQuery("Достав & возвр!") == "достав:* & возвр:*")
        #expect(HelpArticleStore.prefixQuery("'); DROP --") == "drop:*")
        #expect(HelpArticleStore.prefixQuery("  ") == "")
    }

    @Test func searchFragmentsSplitIntoMarkedRuns() {
        let view = SearchHitView(HelpSearchHit(slug: "a", title: "T", fragment: "before \u{1}match\u{2} after"))
        #expect(view.runs.map(\.text) == ["before ", "match", " after"])
        #expect(view.runs.map(\.mark) == [false, true, false])
    }
}
