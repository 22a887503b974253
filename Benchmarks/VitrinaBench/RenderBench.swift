import App
import Foundation

/// `VitrinaBench --render N`: renders the W1 help page N times in-process and prints the cost of one render, so the
/// template engine's share of a request can be measured apart from HTTP and the database.
enum RenderBench {
    static func run(iterations: Int) async throws {
        let renderer = try await Renderer(
            templatesFolder: FileManager.default.currentDirectoryPath + "/Templates",
            publicFolder: FileManager.default.currentDirectoryPath + "/Public")
        let articles = (1...20).map { j in
            HelpArticleSummary(slug: "entry-\(j)", title: Workload.title(7, j), excerpt: String(Workload.body(7, j).prefix(160)))
        }
        let branding = Branding(name: "Tenant 7", primaryColor: Workload.color(7), defaultLanguage: "en")
        var bytes = 0
        let started = ContinuousClock.now
        for _ in 0..<iterations {
            bytes += renderer.renderHelpIndexForBenchmark(articles: articles, branding: branding).utf8.count
        }
        let perRender = Stats.ms(ContinuousClock.now - started) * 1000 / Double(iterations)
        say("Render of the W1 help page: \(Stats.f(perRender, 1)) µs per page (\(bytes / iterations) bytes), \(iterations) renders")
    }
}
