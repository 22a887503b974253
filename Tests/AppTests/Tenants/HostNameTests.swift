import Testing

@testable import App

@Suite("Host names")
struct HostNameTests {
    @Test(arguments: [
        ("acme.localhost", "acme.localhost"),
        ("ACME.LocalHost", "acme.localhost"),
        ("acme.localhost:8080", "acme.localhost"),
        ("acme.localhost.", "acme.localhost"),
        ("Acme.Localhost.:443", "acme.localhost"),
        ("  tea.example.com ", "tea.example.com"),
        ("пример.рф", "xn--e1afmkfd.xn--p1ai"),
        ("ПРИМЕР.РФ:8080", "xn--e1afmkfd.xn--p1ai"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("[::1]:8080", "[::1]"),
    ])
    func normalisesHosts(raw: String, expected: String) {
        #expect(HostName.normalize(raw) == expected)
    }

    @Test(arguments: [
        "", ":8080", "bad host.com", "a..b", "-a.com", "a-.com", "a.com:80x", "exa<mple.com", String(repeating: "a", count: 64) + ".com",
    ])
    func refusesInvalidHosts(raw: String) {
        #expect(HostName.normalize(raw) == nil)
    }

    @Test func punycodeMatchesRFC3492Samples() {
        #expect(Punycode.encode("münchen") == "mnchen-3ya")
        #expect(Punycode.encode("пример") == "e1afmkfd")
        #expect(Punycode.encode("他们为什么不说中文") == "ihqwcrb4cv8a8dqg056pqjye")
    }
}

@Suite("Slugs and schema names")
struct SlugTests {
    @Test func tenantSlugs() {
        for good in ["acme", "acme-tea", "t1", "a2-b3"] { #expect(Slug.isValid(good), "\(good)") }
        for bad in ["a", "1acme", "Acme", "acme-", "acme--tea", "acme_tea", "ac me", String(repeating: "a", count: 41), "акме"] {
            #expect(!Slug.isValid(bad), "\(bad)")
        }
    }

    @Test func schemaNamesAreGeneratedAndValidated() {
        let generated = SchemaName.generate()
        #expect(SchemaName(generated.value) != nil)
        #expect(generated.value.hasPrefix("t_"))
        #expect(SchemaName.generate() != generated)
        for bad in [
            "public", "t_ABCDEF", "t_abc", "t_abcdef; DROP TABLE x", "platform", "t_abcdef\"", "t_" + String(repeating: "a", count: 41),
        ] {
            #expect(SchemaName(bad) == nil, "\(bad)")
        }
    }
}
