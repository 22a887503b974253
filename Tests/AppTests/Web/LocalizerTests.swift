import Foundation
import Testing

@testable import App

@Suite("Interface text")
struct LocalizerTests {
    @Test func russianAndEnglishCataloguesHaveTheSameKeys() throws {
        let localizer = try Localizer(folder: TestDatabase.packageRoot + "/Templates/locales")
        #expect(Set(localizer.catalog("ru").keys) == Set(localizer.catalog("en").keys))
        #expect(localizer.text("help_title", "en") == "Help centre")
        #expect(localizer.text("help_title", "ru") == "Справочный центр")
        #expect(localizer.text("help_title", "de") == "Справочный центр")
    }

    @Test func acceptLanguagePicksTheBestSupportedLanguage() {
        #expect(Localizer.language(fromAcceptLanguage: "en-GB,en;q=0.9,ru;q=0.8") == "en")
        #expect(Localizer.language(fromAcceptLanguage: "de-DE,ru;q=0.5,en;q=0.7") == "en")
        #expect(Localizer.language(fromAcceptLanguage: "ru-RU") == "ru")
        #expect(Localizer.language(fromAcceptLanguage: "de, fr") == nil)
        #expect(Localizer.language(fromAcceptLanguage: nil) == nil)
    }

    @Test func everyTemplateARouteNeedsExistsAndRenders() async throws {
        let renderer = try await Renderer(
            templatesFolder: TestDatabase.packageRoot + "/Templates", publicFolder: TestDatabase.packageRoot + "/Public")
        let frame = renderer.frame(
            branding: Branding(name: "Shop <b>", primaryColor: "#112233"), language: "en", nonce: "n0nce", title: "T")
        let page = renderer.render(
            "pages/errors/error", page: ErrorPage(status: 404, heading: "Gone", message: "m", requestID: nil, showHome: true, homeURL: "/"),
            frame: frame)
        #expect(page.html.contains("Shop &lt;b&gt;"))
        #expect(page.html.contains("nonce=\"n0nce\""))
        #expect(page.html.contains("--brand:#112233"))
    }
}

@Suite("Branding")
struct BrandingTests {
    @Test func tenantOverridesPartnerOverridesPlatform() {
        let partner = Branding(name: "Agency", primaryColor: "#000080", logoURL: "/static/a.svg").resolved(over: .productDefault)
        let tenant = Branding(name: "Shop").resolved(over: partner)
        #expect(tenant.name == "Shop")
        #expect(tenant.primaryColor == "#000080")
        #expect(tenant.logoURL == "/static/a.svg")
        #expect(tenant.defaultLanguage == "ru")
    }

    @Test func derivedColoursKeepTextReadable() {
        #expect(BrandView(Branding(primaryColor: "#ffeb3b")).onPrimary == "#111827")
        #expect(BrandView(Branding(primaryColor: "#0b5fff")).onPrimary == "#ffffff")
        #expect(BrandView(Branding(primaryColor: "red; } body { x")).primary == "#4f46e5")
    }

    @Test func onlySafeColoursAndLogoURLsAreAccepted() {
        #expect(Branding.isValidColor("#2E7D32"))
        #expect(!Branding.isValidColor("#2E7D3"))
        #expect(!Branding.isValidColor("red"))
        #expect(Branding.isValidLogoURL("/static/logos/a.svg"))
        #expect(Branding.isValidLogoURL("https://cdn.example.com/logo.png"))
        #expect(!Branding.isValidLogoURL("javascript:alert(1)"))
        #expect(!Branding.isValidLogoURL("http://insecure.example.com/a.png"))
        #expect(!Branding.isValidLogoURL("/static/../secret"))
        #expect(!Branding.isValidLogoURL("/static/a.svg\" onload=\"x"))
    }
}

@Suite("Derived brand colours")
struct BrandColourTests {
    @Test(arguments: ["#ffeb3b", "#00e5ff", "#2e7d32", "#0b5fff", "#ffffff", "#000000"])
    func linkShadeIsReadableOnWhite(hex: String) {
        let dark = RGB(hex: BrandView(Branding(primaryColor: hex)).primaryDark)!
        #expect(dark.contrast(with: RGB(r: 255, g: 255, b: 255)) >= 4.5)
    }
}
