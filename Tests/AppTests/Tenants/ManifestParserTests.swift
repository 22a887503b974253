import Testing

@testable import App

@Suite("Reading tenants.yml")
struct ManifestParserTests {
    func parse(_ yaml: String) throws -> Manifest {
        var parser = ManifestParser(file: "tenants.yml", baseDomain: "localhost")
        return try parser.parse(yaml)
    }

    func issues(_ yaml: String) -> [ManifestIssue] {
        do {
            _ = try parse(yaml)
            return []
        } catch let error as ManifestError {
            return error.issues
        } catch {
            return [ManifestIssue(file: "", line: nil, path: "", message: "\(error)")]
        }
    }

    let valid = """
        partners:
          - slug: northwind
            name: Northwind Digital
            domains: [panel.northwind.localhost]
            branding: {name: Northwind Assist, primary_color: "#0B5FFF", logo_url: /static/logos/northwind.svg}
        tenants:
          - slug: acme-tea
            name: Acme Tea
            partner: northwind
            status: active
            domains: [tea.localhost]
            branding: {name: Acme Tea, primary_color: "#2E7D32", default_language: ru}
            help_articles:
              - {slug: delivery, title: Доставка, body: "Один.\\n\\nДва."}
              - {slug: returns, title: Возврат, body: "Текст"}
          - slug: bare
            name: Bare Shop
        """

    @Test func readsAValidManifest() throws {
        let manifest = try parse(valid)
        #expect(manifest.partners.map(\.slug) == ["northwind"])
        #expect(manifest.partners[0].branding.primaryColor == "#0b5fff")
        #expect(manifest.tenants.map(\.slug) == ["acme-tea", "bare"])
        #expect(manifest.tenants[0].domains == ["tea.localhost"])
        #expect(manifest.tenants[0].helpArticles?.map(\.position) == [1, 2])
        #expect(manifest.tenants[0].helpArticles?.first?.paragraphs == ["Один.", "Два."])
        #expect(manifest.tenants[1].helpArticles == nil)
        #expect(manifest.tenants[1].status == .active)
    }

    @Test func theExampleManifestIsValid() throws {
        let manifest = try ManifestParser.load(path: TestDatabase.packageRoot + "/tenants.example.yml", baseDomain: "localhost")
        #expect(manifest.partners.count >= 2)
        #expect(manifest.tenants.count >= 4)
        for tenant in manifest.tenants { #expect((tenant.helpArticles?.count ?? 0) >= 5, "\(tenant.slug)") }
    }

    @Test func unknownKeyIsNamedWithItsPathAndLine() {
        let found = issues("tenants:\n  - slug: acme\n    name: Acme\n    colour: red\n")
        #expect(found.count == 1)
        #expect(found.first?.path == "tenants[0].colour")
        #expect(found.first?.line == 4)
        #expect(found.first?.message.contains("unknown key") == true)
        #expect(found.first?.description.hasPrefix("tenants.yml:4: tenants[0].colour:") == true)
    }

    @Test func wrongTypesAreRefused() {
        let found = issues(
            """
            tenants:
              - slug: acme
                name: 123
                domains: tea.localhost
                help_articles: {slug: x}
            """)
        #expect(Set(found.map(\.path)) == ["tenants[0].name", "tenants[0].domains", "tenants[0].help_articles"])
        #expect(found.first { $0.path == "tenants[0].domains" }?.message.contains("expected a list") == true)
    }

    @Test func badSlugsAndReservedSlugsAreRefused() {
        let found = issues(
            """
            partners:
              - {slug: Bad_Partner, name: X}
            tenants:
              - {slug: -acme, name: A}
              - {slug: admin, name: B}
              - slug: fine
                name: C
                help_articles: [{slug: "Not OK", title: T, body: B}]
            """)
        #expect(Set(found.map(\.path)) == ["partners[0].slug", "tenants[0].slug", "tenants[1].slug", "tenants[2].help_articles[0].slug"])
    }

    @Test func duplicateDomainsAcrossTenantsPartnersAndSubdomainsAreRefused() {
        let found = issues(
            """
            partners:
              - {slug: agency, name: Agency, domains: [shop.localhost]}
            tenants:
              - {slug: one, name: One, domains: [shop.localhost, two.localhost]}
              - {slug: two, name: Two, domains: [Shop.Localhost.]}
            """)
        #expect(found.map(\.path).sorted() == ["tenants[0].domains[0]", "tenants[0].domains[1]", "tenants[1].domains[0]"])
        #expect(found.allSatisfy { $0.message.contains("already used") })
    }

    @Test func unknownPartnerAndDuplicateSlugsAreRefused() {
        let found = issues(
            """
            tenants:
              - {slug: one, name: One, partner: nobody}
              - {slug: one, name: Again}
            """)
        #expect(Set(found.map(\.path)) == ["tenants[0].partner", "tenants[1].slug"])
    }

    @Test func badBrandingValuesAndStatusAreRefused() {
        let found = issues(
            """
            tenants:
              - slug: one
                name: One
                status: paused
                branding: {primary_color: green, logo_url: "javascript:alert(1)", default_language: de, font: x}
                domains: [localhost, "not a domain"]
            """)
        #expect(
            Set(found.map(\.path)) == [
                "tenants[0].status", "tenants[0].branding.primary_color", "tenants[0].branding.logo_url",
                "tenants[0].branding.default_language", "tenants[0].branding.font", "tenants[0].domains[0]", "tenants[0].domains[1]",
            ])
    }

    @Test func missingFieldsAndBrokenYAMLAreReported() {
        #expect(issues("tenants:\n  - slug: acme\n").first?.message == "name is required")
        #expect(issues("tenants: [\n").first?.message.contains("not valid YAML") == true)
        #expect(issues("").first?.message == "the file is empty")
        #expect(issues("- just\n- a list\n").first?.message.contains("expected a mapping") == true)
    }
}
