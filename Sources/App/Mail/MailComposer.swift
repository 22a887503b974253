import Foundation

/// What an e-mail template sees: the brand, the interface text and the message's own sentences.
struct EmailView {
    /// The HTML layout, chosen by name (`{{<*mailLayout}}`): a parent's closing tag cannot contain a slash.
    let mailLayout = "emails/layout-html"
    let lang: String
    let brand: BrandView
    let logoURL: String?
    let heading: String
    let intro: String
    let action: String
    let link: String
    let note: String
    let footer: String
}

/// Writes invitation and password-reset e-mails from `Templates/emails/` (text and HTML parts) in the branding of the
/// site they are sent for.
public struct MailComposer: Sendable {
    let renderer: Renderer

    public init(renderer: Renderer) {
        self.renderer = renderer
    }

    /// An invitation to join `siteName`'s team as `role`.
    func invitation(
        to email: String, siteName: String, inviter: String, role: Role, link: String, branding: Branding, origin: String, language: String
    ) -> (subject: String, text: String, html: String) {
        let t = renderer.localizer.catalog(language)
        let fill = { (key: String) in
            (t[key] ?? key).replacingOccurrences(of: "%site", with: siteName).replacingOccurrences(of: "%inviter", with: inviter)
                .replacingOccurrences(of: "%role", with: t[role.textKey] ?? role.rawValue)
        }
        let view = view(
            branding: branding, origin: origin, language: language, heading: fill("mail_invite_heading"), intro: fill("mail_invite_intro"),
            action: fill("mail_invite_action"), link: link, note: fill("mail_invite_note"))
        return (fill("mail_invite_subject"), render("emails/invite-text", view), render("emails/invite-html", view))
    }

    /// A link to choose a new password.
    func passwordReset(
        to email: String, siteName: String, link: String, branding: Branding, origin: String, language: String
    ) -> (
        subject: String, text: String, html: String
    ) {
        let t = renderer.localizer.catalog(language)
        let fill = { (key: String) in (t[key] ?? key).replacingOccurrences(of: "%site", with: siteName) }
        let view = view(
            branding: branding, origin: origin, language: language, heading: fill("mail_reset_heading"), intro: fill("mail_reset_intro"),
            action: fill("mail_reset_action"), link: link, note: fill("mail_reset_note"))
        return (fill("mail_reset_subject"), render("emails/reset-text", view), render("emails/reset-html", view))
    }

    private func view(
        branding: Branding, origin: String, language: String, heading: String, intro: String, action: String, link: String, note: String
    ) -> EmailView {
        let brand = BrandView(branding)
        // Mail clients need absolute image addresses.
        let logo = brand.logoURL.map { $0.hasPrefix("/") ? origin + $0 : $0 }
        let footer = renderer.localizer.text("mail_footer", language).replacingOccurrences(of: "%brand", with: brand.name)
        return EmailView(
            lang: language, brand: brand, logoURL: logo, heading: heading, intro: intro, action: action, link: link, note: note,
            footer: footer)
    }

    private func render(_ template: String, _ view: EmailView) -> String {
        renderer.renderTemplate(template, view)
    }
}
