import Foundation
import Testing

@testable import App

/// The widget's budget, as the storefront's visitors pay it: the loader at most 5 KB gzipped, everything at most 30 KB;
/// and nothing in it names the platform or reaches for a global beyond its own.
@Suite("Widget files: size budget and white label")
struct WidgetSizeTests {
    static let folder = TestDatabase.packageRoot + "/"
    static let files = [
        "Public/static/widget/loader.js", "Public/static/widget/app.js", "Public/static/widget/app.css",
        "Templates/pages/widget/frame.mustache",
    ]

    /// `gzip -9`'s size of a file, as a browser would be sent it.
    static func gzipped(_ path: String) throws -> Int {
        let result = try ProcessRunner.run(["/bin/sh", "-c", "gzip -9 -c \"$0\" | wc -c", path])
        return Int(result.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    @Test func theLoaderAndTheWholeWidgetStayWithinTheirBudgets() throws {
        let sizes = try Self.files.map { try Self.gzipped(Self.folder + $0) }
        #expect(sizes.allSatisfy { $0 > 100 }, "every file exists and has content: \(sizes)")
        #expect(sizes[0] <= 5 * 1024, "the loader is \(sizes[0]) bytes gzipped; the budget is 5 KB")
        let total = sizes.reduce(0, +)
        #expect(total <= 30 * 1024, "the widget is \(total) bytes gzipped; the budget is 30 KB")
    }

    @Test func theWidgetNamesNoProductAndKeepsToItsOneGlobal() throws {
        for file in Self.files {
            let text = try String(contentsOfFile: Self.folder + file, encoding: .utf8)
            #expect(!text.lowercased().contains("vitrina"), "\(file)")
            #expect(!text.contains("postMessage(") || !text.contains("'*'"), "\(file) posts to any origin")
            #expect(!text.contains("window.onmessage"), "\(file)")
        }
        let loader = try String(contentsOfFile: Self.folder + Self.files[0], encoding: .utf8)
        #expect(loader.components(separatedBy: "__CONFIG__").count == 2, "the loader takes its configuration in one place")
        #expect(loader.contains("attachShadow({ mode: 'closed' })") || loader.contains("attachShadow({mode:'closed'})"))
        // The globals it assigns (`window.X = …`): one.
        let assigned = loader.components(separatedBy: "window.").dropFirst().compactMap { rest -> Substring? in
            let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            let after = rest.dropFirst(name.count).drop { $0 == " " }
            return after.hasPrefix("=") && !after.hasPrefix("==") ? name : nil
        }
        #expect(Set(assigned) == ["SiteChat"], "\(Set(assigned))")
    }
}
