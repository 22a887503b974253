import Mustache

// Page models answer Mustache's look-ups by name directly: the default path reflects over every value with `Mirror`
// on every look-up, which cost half of a help page's render time.

extension RenderContext: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "frame": frame
        case "page": page
        case "layout": layout
        default: nil
        }
    }
}

extension PageFrame: MustacheParent {
    public func child(named name: String) -> Any? {
        switch name {
        case "t": t
        case "brand": brand
        case "lang": lang
        case "nonce": nonce
        case "title": title
        case "stylesheet": stylesheet
        case "layout": layout
        case "csrf": csrf
        case "panel": panel
        case "areaLabel": areaLabel
        case "extraStyle": extraStyle
        case "poweredBy": poweredBy
        case "links": links
        default: nil
        }
    }
}

extension BrandView: MustacheParent {
    public func child(named name: String) -> Any? {
        switch name {
        case "name": self.name
        case "initial": initial
        case "logoURL": logoURL
        case "logoOnDarkURL": logoOnDarkURL
        case "primary": primary
        case "primaryDark": primaryDark
        case "primarySoft": primarySoft
        case "onPrimary": onPrimary
        case "accent": accent
        case "onAccent": onAccent
        case "font": font
        case "favicon": favicon
        case "customStylesheet": customStylesheet
        case "poweredBy": poweredBy
        case "supportURL": supportURL
        case "supportEmail": supportEmail
        case "termsURL": termsURL
        case "privacyURL": privacyURL
        case "hasLinks": hasLinks
        default: nil
        }
    }
}

extension PageLinks: MustacheParent {
    public func child(named name: String) -> Any? {
        switch name {
        case "home": home
        case "help": help
        case "panel": panel
        case "login": login
        case "logout": logout
        case "forgot": forgot
        case "reset": reset
        case "invite": invite
        case "profile": profile
        default: nil
        }
    }
}

extension ErrorPage: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "status": status
        case "heading": heading
        case "message": message
        case "requestID": requestID
        case "showHome": showHome
        case "homeURL": homeURL
        default: nil
        }
    }
}

extension PlatformHomePage: MustacheParent {
    func child(named name: String) -> Any? { name == "baseDomain" ? baseDomain : nil }
}

extension PartnerHomePage: MustacheParent {
    func child(named name: String) -> Any? { name == "name" ? self.name : nil }
}

/// HTML escaping that copies the string untouched when nothing needs escaping (most text), byte-wise otherwise.
struct FastHTMLContentType: MustacheContentType {
    static let name = "VITRINA_HTML"

    func escapeText(_ text: String) -> String {
        let utf8 = text.utf8
        guard utf8.contains(where: { $0 == 0x3C || $0 == 0x3E || $0 == 0x26 || $0 == 0x22 || $0 == 0x27 }) else { return text }
        var output = [UInt8]()
        output.reserveCapacity(utf8.count + 16)
        for byte in utf8 {
            switch byte {
            case 0x3C: output.append(contentsOf: "&lt;".utf8)
            case 0x3E: output.append(contentsOf: "&gt;".utf8)
            case 0x26: output.append(contentsOf: "&amp;".utf8)
            case 0x22: output.append(contentsOf: "&quot;".utf8)
            case 0x27: output.append(contentsOf: "&#39;".utf8)
            default: output.append(byte)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
