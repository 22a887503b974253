import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The widget's script and frame, on the shop's hosts: `/widget.js` (the loader: it draws the launcher and opens the
/// frame; its configuration is written into it per host) and `/widget/frame` (the chat's page, in an iframe on the
/// storefront: its `frame-ancestors` are the bot's allowed origins). Both are in the shop's branding and name no
/// product unless the partner shows "powered by".
struct WidgetPageController {
    let tenants: TenantDatabase
    let database: Database
    let renderer: Renderer
    let assets: WidgetAssets
    let clock: WallClock

    func addRoutes(to router: RouterGroup<WidgetRequestContext>) {
        router.get(WidgetURL.script.pattern, use: script)
        router.get(WidgetURL.frame.pattern, use: frame)
    }

    struct LauncherJSON: Encodable {
        var name: String
        var color: String
        var onColor: String
        var position: String
        var label: [String: String]

        enum CodingKeys: String, CodingKey {
            case name, color, position, label
            case onColor = "on_color"
        }
    }

    struct LoaderJSON: Encodable {
        var origin: String
        var frame: String
        var lang: String
        var defaultBot: String
        var bots: [String: LauncherJSON]

        enum CodingKeys: String, CodingKey {
            case origin, frame, lang, bots
            case defaultBot = "default_bot"
        }
    }

    /// `GET /widget.js`: the loader with this host's bots' launchers in it (cached for five minutes).
    func script(_ request: Request, context: WidgetRequestContext) async throws -> Response {
        let tenant = context.tenant
        let bots = try await tenants.withTenant(tenant, readOnly: true, logger: context.logger) { try await BotStore().list(on: $0) }
        let brand = renderer.frame(branding: tenant.resolvedBranding, language: context.language, nonce: "", title: "").brand
        let language = tenant.resolvedBranding.defaultLanguage ?? Localizer.fallback
        let labels = Dictionary(uniqueKeysWithValues: Localizer.supported.map { ($0, renderer.localizer.text("widget_open_chat", $0)) })
        let config = LoaderJSON(
            origin: context.ownOrigin, frame: WidgetURL.frame.path, lang: language, defaultBot: bots.first?.slug ?? "assistant",
            bots: Dictionary(
                uniqueKeysWithValues: bots.map { bot in
                    (
                        bot.slug,
                        LauncherJSON(
                            name: bot.displayName(BotLanguage(rawValue: language) ?? .ru), color: brand.primary, onColor: brand.onPrimary,
                            position: bot.widget.position.rawValue, label: labels)
                    )
                }))
        let script = assets.loader.replacingOccurrences(of: "__CONFIG__", with: WidgetAssets.scriptJSON(config))
        return Response(
            status: .ok,
            headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "public, max-age=300"],
            body: .init(byteBuffer: ByteBuffer(string: script)))
    }

    /// `GET /widget/frame?bot=&lang=&parent=`: the chat's page.
    func frame(_ request: Request, context: WidgetRequestContext) async throws -> Response {
        let tenant = context.tenant
        let query = request.uri.queryParameters
        let slug = query.get("bot")
        let (bot, online) = try await tenants.withTenant(tenant, readOnly: true, logger: context.logger) { connection in
            let store = BotStore()
            let bot: Bot?
            if let slug {
                bot = try await store.find(slug: slug, on: connection)
            } else {
                bot = try await store.find(id: nil, on: connection)
            }
            let online =
                try await connection.value(
                    Bool.self,
                    """
                    SELECT EXISTS (SELECT 1 FROM platform.operator_presence WHERE tenant_id = \(tenant.id) AND status = 'online'
                        AND seen_at > now() - interval '90 seconds')
                    """) ?? false
            return (bot, online)
        }
        guard let bot else { throw HTTPError(.notFound) }
        let language =
            query.get("lang").flatMap { Localizer.supported.contains($0) ? $0 : nil }
            ?? (bot.language == .auto ? nil : bot.language.rawValue) ?? context.language
        let ancestors = bot.widget.allowedOrigins
        let parent = query.get("parent").flatMap(WidgetSettings.origin).flatMap {
            ancestors.contains($0) || $0 == context.ownOrigin ? $0 : nil
        }
        let page = renderer.frame(branding: tenant.resolvedBranding, language: language, nonce: context.nonce, title: "")
        let config = WidgetFrameConfig(
            bot: bot, brand: page.brand, poweredBy: page.poweredBy, language: language, parent: parent,
            open: bot.hours.map { $0.isOpen(at: clock.now()) } ?? true, online: online, localizer: renderer.localizer)
        let html = renderer.renderTemplate(
            "pages/widget/frame",
            [
                "lang": language, "title": config.texts["title"] ?? bot.displayName(BotLanguage(rawValue: language) ?? .ru),
                "stylesheet": assets.stylesheetURL, "script": assets.scriptURL, "nonce": context.nonce,
                "brandCSS": ":root{--sc-brand:\(page.brand.primary);--sc-on-brand:\(page.brand.onPrimary);--sc-font:\(page.brand.font)}",
                "config": WidgetAssets.scriptJSON(config),
            ] as [String: Any])
        let policy =
            "default-src 'self'; script-src 'self'; style-src 'self' 'nonce-\(context.nonce)'; img-src 'self' https: data:; "
            + "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors "
            + (["'self'"] + ancestors).joined(separator: " ")
        return Response(
            status: .ok,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store", .contentSecurityPolicy: policy],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}

/// The frame's configuration (`<script type="application/json">` in the frame page): the bot, the brand, the texts.
struct WidgetFrameConfig: Encodable {
    struct BotJSON: Encodable {
        var slug: String
        var name: String
        var avatarURL: String?
        var greeting: String

        enum CodingKeys: String, CodingKey {
            case slug, name, greeting
            case avatarURL = "avatar_url"
        }
    }
    struct BrandJSON: Encodable {
        struct PoweredBy: Encodable {
            var label: String
        }
        var name: String
        var logoURL: String?
        var poweredBy: PoweredBy?

        enum CodingKeys: String, CodingKey {
            case name
            case logoURL = "logo_url"
            case poweredBy = "powered_by"
        }
    }

    var api = WidgetURL.api
    var bot: BotJSON
    var brand: BrandJSON
    var lang: String
    var parentOrigin: String?
    var prechat: [String: String]
    var open: Bool
    var operatorsOnline: Bool
    var awayMessage: String
    var maxLength = WidgetLimits.maximumLength
    var texts: [String: String]

    enum CodingKeys: String, CodingKey {
        case api, bot, brand, lang, prechat, open, texts
        case parentOrigin = "parent_origin"
        case operatorsOnline = "operators_online"
        case awayMessage = "away_message"
        case maxLength = "max_length"
    }

    /// The UI's sentences: every `widget_ui_*` interface text, without its prefix.
    static func texts(_ language: String, localizer: Localizer) -> [String: String] {
        var texts: [String: String] = [:]
        for (key, value) in localizer.catalog(language) where key.hasPrefix("widget_ui_") { texts[String(key.dropFirst(10))] = value }
        return texts
    }

    init(
        bot: Bot, brand: BrandView, poweredBy: String, language: String, parent: String?, open: Bool, online: Bool, localizer: Localizer
    ) {
        let botLanguage = BotLanguage(rawValue: language) ?? .ru
        let values = TemplateValues(shopName: brand.name, botName: bot.displayName(botLanguage), channel: .widget)
        self.bot = BotJSON(
            slug: bot.slug, name: bot.displayName(botLanguage), avatarURL: bot.avatarURL,
            greeting: ResponseTemplates.render(text: bot.greeting.isEmpty ? BotTexts.greeting(botLanguage) : bot.greeting, values))
        self.brand = BrandJSON(
            name: brand.name, logoURL: brand.logoURL, poweredBy: poweredBy.isEmpty ? nil : BrandJSON.PoweredBy(label: poweredBy))
        lang = language
        parentOrigin = parent
        prechat = ["name": bot.widget.name.rawValue, "email": bot.widget.email.rawValue, "phone": bot.widget.phone.rawValue]
        self.open = open
        operatorsOnline = online
        awayMessage = ResponseTemplates.render(text: bot.awayMessage.isEmpty ? BotTexts.away(botLanguage) : bot.awayMessage, values)
        texts = Self.texts(language, localizer: localizer)
    }
}

/// The widget's files, read once at start-up: the loader's source (with `__CONFIG__` for each host's configuration)
/// and the frame's script and stylesheet, addressed with a content hash so browsers keep them for a year.
struct WidgetAssets: Sendable {
    let loader: String
    let scriptURL: String
    let stylesheetURL: String

    init(publicFolder: String) {
        func read(_ name: String) -> Data {
            (try? Data(contentsOf: URL(fileURLWithPath: publicFolder + "/static/widget/" + name))) ?? Data()
        }
        loader = String(decoding: read("loader.js"), as: UTF8.self)
        scriptURL = "/static/widget/app.js?v=" + String(read("app.js").hashValueHex.prefix(10))
        stylesheetURL = "/static/widget/app.css?v=" + String(read("app.css").hashValueHex.prefix(10))
    }

    /// JSON safe inside a script element or a JavaScript source: `<`, `>`, `&` and the line separators escaped.
    static func scriptJSON(_ value: some Encodable) -> String {
        var buffer = APIJSON.encode(value)
        let json = buffer.readString(length: buffer.readableBytes) ?? "{}"
        return json.replacingOccurrences(of: "<", with: "\\u003c").replacingOccurrences(of: ">", with: "\\u003e")
            .replacingOccurrences(of: "&", with: "\\u0026").replacingOccurrences(of: "\u{2028}", with: "\\u2028")
            .replacingOccurrences(of: "\u{2029}", with: "\\u2029")
    }
}
