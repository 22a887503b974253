import Foundation
import Testing

@testable import App

/// The template engine: Mustache as Vitrina's templates use it, compiled once and rendered from memory.
@Suite("Templates")
struct TemplateTests {
    private func render(_ text: String, _ value: Any, partials: [String: String] = [:]) throws -> String {
        let library = try TemplateLibrary(templates: partials.merging(["main": text]) { _, main in main })
        return try #require(library.render(value, withTemplate: "main"))
    }

    private struct Shop {
        let name: String
        let logo: String?
        let tags: [String]
    }

    private struct Card: TemplateParent {
        let title: String
        func child(named name: String) -> Any? { name == "title" ? title : nil }
    }

    @Test func variablesAreEscapedUnlessTripleOrAmpersandOrText() throws {
        let value = ["name": "Tom & <Jerry> \"quoted\" 'single'"]
        #expect(try render("{{name}}", value) == "Tom &amp; &lt;Jerry&gt; &quot;quoted&quot; &#39;single&#39;")
        #expect(try render("{{{name}}}|{{& name}}", value) == "Tom & <Jerry> \"quoted\" 'single'|Tom & <Jerry> \"quoted\" 'single'")
        #expect(try render("{{% CONTENT_TYPE: TEXT}}\n{{name}}", value) == "Tom & <Jerry> \"quoted\" 'single'")
        #expect(try render("Привет, {{name}}!", ["name": "мир <3"]) == "Привет, мир &lt;3!")
        #expect(try render("[{{missing}}]", value) == "[]")
        #expect(try render("{{n}} {{flag}}", ["n": 42, "flag": true] as [String: Any]) == "42 true")
    }

    @Test func dottedNamesAndReflectionAndOptionals() throws {
        let shop = Shop(name: "Лавка", logo: nil, tags: ["a", "b"])
        #expect(
            try render("{{shop.name}}{{#shop.logo}}<img>{{/shop.logo}}{{^shop.logo}}no logo{{/shop.logo}}", ["shop": shop])
                == "Лавкаno logo")
        let withLogo = Shop(name: "x", logo: "/l.png", tags: [])
        #expect(try render("{{#shop.logo}}<img src=\"{{.}}\">{{/shop.logo}}", ["shop": withLogo]) == "<img src=\"/l.png\">")
        #expect(try render("{{shop.name.nothing}}|{{nothing.name}}", ["shop": shop]) == "|")
        // An optional held in an `Any` (read by reflection) is seen through: absent is absent.
        struct Holder { let value: Any }
        #expect(
            try render("{{#h.value}}shown{{/h.value}}{{^h.value}}hidden{{/h.value}}", ["h": Holder(value: String?.none as Any)]) == "hidden"
        )
        #expect(try render("{{#h.value}}{{.}}{{/h.value}}", ["h": Holder(value: String?.some("x") as Any)]) == "x")
    }

    @Test func sectionsRepeatShowOrHide() throws {
        let value: [String: Any] = [
            "cards": [Card(title: "A"), Card(title: "B<")], "none": [Card](), "yes": true, "no": false, "title": "outer",
        ]
        #expect(try render("{{#cards}}[{{title}}]{{/cards}}", value) == "[A][B&lt;]")
        #expect(try render("{{#xs}}{{.}}{{/xs}}", ["xs": ["a", "b"].reversed()]) == "ba")
        #expect(try render("{{#xs}}{{.}}{{/xs}}", ["xs": Set(["a"])]) == "a")
        #expect(try render("{{#none}}x{{/none}}{{^none}}empty{{/none}}", value) == "empty")
        #expect(try render("{{#yes}}{{title}}{{/yes}}{{#no}}never{{/no}}{{^no}}not{{/no}}{{^yes}}never{{/yes}}", value) == "outernot")
        // A name not found on the element is looked up outwards.
        #expect(
            try render("{{#yes}}{{#cards}}{{title}}/{{frame}}{{/cards}}{{/yes}}", value.merging(["frame": "f"]) { a, _ in a })
                == "A/fB&lt;/f")
        // A leading dot looks at the element only.
        let anchored = try render("{{#cards}}{{.title}}{{.yes}}{{/cards}}", value)  // `yes` is outside the card
        #expect(anchored == "AB&lt;")
    }

    @Test func aParentsBlocksAreReplacedByTheChildsAndTheChildmostWins() throws {
        let partials = [
            "layout": "<title>{{$title}}Default{{/title}}</title>\n<main>\n{{$content}}nothing{{/content}}\n</main>\n",
            "middle": "{{<layout}}{{$title}}Middle{{/title}}{{$content}}middle content{{/content}}{{/layout}}",
        ]
        let page = "{{<*layout}}\nignored\n{{$content}}\n<p>{{text}}</p>\n{{/content}}\n{{/*layout}}\n"
        let rendered = try render(page, ["layout": "layout", "text": "hi"], partials: partials)
        // `{{$content}}…{{/content}}` shares its line with another tag, so the layout's line end stays.
        #expect(rendered == "<title>Default</title>\n<main>\n<p>hi</p>\n\n</main>\n")
        let child = "{{<middle}}{{$content}}child{{/content}}{{/middle}}"
        #expect(try render(child, [String: String](), partials: partials) == "<title>Middle</title>\n<main>\nchild\n</main>\n")
        // An unknown dynamic parent renders nothing rather than failing the page.
        #expect(try render("a{{<*layout}}{{/*layout}}b", ["layout": "nope"], partials: partials) == "ab")
    }

    @Test func partialsSeeTheCurrentValuesAndCannotRecurseForever() throws {
        let partials = ["pager": "{{summary}} of {{total}}", "loop": "x{{> loop}}"]
        #expect(
            try render(
                "{{#pager}}{{> pager}}{{/pager}}", ["pager": ["summary": "1–20"], "total": "50"] as [String: Any], partials: partials)
                == "1–20 of 50")
        let looped = try render("{{> loop}}", [String: String](), partials: partials)
        #expect(looped == String(repeating: "x", count: 32))
        // One that includes itself twice per level stops after a bounded number of expansions, not 2^32.
        let doubled = try render("{{> twice}}", [String: String](), partials: ["twice": "y{{> twice}}{{> twice}}"])
        #expect(doubled.count <= 10_001)
    }

    @Test func tagsAloneOnTheirLineLeaveNoBlankLine() throws {
        let text = "<ul>\n  {{#items}}\n  <li>{{.}}</li>\n  {{/items}}\n</ul>\n{{! a comment }}\nend"
        #expect(try render(text, ["items": ["a", "b"]]) == "<ul>\n  <li>a</li>\n  <li>b</li>\n</ul>\nend")
        // Two tags on one line are not alone: the line stays.
        #expect(try render("a\n{{#x}}{{/x}}\nb", ["x": true]) == "a\n\nb")
        let crlf = try render("a\r\n{{#x}}\r\nb\r\n{{/x}}\r\nc", ["x": true])
        #expect(crlf == "a\r\nb\r\nc")
    }

    @Test func brokenTemplatesAreRefusedWithWhereAndWhy() {
        func error(_ text: String) -> String {
            do {
                _ = try TemplateLibrary(templates: ["broken": text])
                return "compiled"
            } catch {
                return "\(error)"
            }
        }
        #expect(error("a\n{{#open}}\nb") == "Template broken line 2: open is never closed")
        #expect(error("a\n{{/b}}\n") == "Template broken line 2: {{/b}} closes nothing open")
        #expect(error("a {{ }} b") == "Template broken line 1: an empty tag")
        #expect(error("a\n\n{{#a}}{{/b}}") == "Template broken line 3: {{/b}} closes nothing open")
        #expect(error("{{name") == "Template broken line 1: a tag is not closed")
        #expect(error("{{% CONTENT_TYPE: XML}}") == "Template broken line 1: unknown content type XML")
        #expect(error("{{=<% %>=}}").hasPrefix("Template broken line 1: unknown tag"))
    }
}
