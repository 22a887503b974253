// Page models answer the templates' look-ups by name directly: the default path reflects over every value with `Mirror`
// on every look-up, which cost half of a help page's render time.

extension FrameView: TemplateParent {
    func child(named name: String) -> Any? {
        switch name {
        case "brand": brand
        case "links": links
        case "panel": panel
        default: frame.child(named: name)
        }
    }

    func parent(named name: String) -> (any TemplateParent)? {
        switch name {
        case "brand": brand
        case "links": links
        case "panel": panel
        case "t": frame.t
        default: nil
        }
    }
}

extension PanelChrome: TemplateParent {
    func child(named name: String) -> Any? {
        switch name {
        case "siteName": siteName
        case "areaLabel": areaLabel
        case "userName": userName
        case "userEmail": userEmail
        case "roleLabel": roleLabel
        case "nav": nav
        case "crumbs": crumbs
        case "flash": flash
        case "publicURL": publicURL
        case "support": support
        default: nil
        }
    }
}

extension PanelChrome.NavItem: TemplateParent {
    func child(named name: String) -> Any? {
        switch name {
        case "href": href
        case "label": label
        case "icon": icon
        case "current": current
        default: nil
        }
    }
}

extension PanelChrome.Crumb: TemplateParent {
    func child(named name: String) -> Any? {
        switch name {
        case "href": href
        case "label": label
        default: nil
        }
    }
}

extension PanelChrome.FlashView: TemplateParent {
    func child(named name: String) -> Any? {
        switch name {
        case "message": message
        case "isError": isError
        default: nil
        }
    }
}

extension RenderContext: TemplateParent {
    func child(named name: String) -> Any? {
        switch name {
        case "frame": frame
        case "page": page
        case "layout": layout
        default: nil
        }
    }

    func parent(named name: String) -> (any TemplateParent)? {
        switch name {
        case "frame": frame
        case "page": pageParent
        default: nil
        }
    }
}

extension PageFrame: TemplateParent {
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

extension BrandView: TemplateParent {
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

extension PageLinks: TemplateParent {
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

extension ErrorPage: TemplateParent {
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

extension PlatformHomePage: TemplateParent {
    func child(named name: String) -> Any? { name == "baseDomain" ? baseDomain : nil }
}

extension PartnerHomePage: TemplateParent {
    func child(named name: String) -> Any? { name == "name" ? self.name : nil }
}
