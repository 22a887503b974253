import Foundation

/// What a new password must be: at least 10 characters, at most 200, and not one of the most common passwords.
public enum PasswordPolicy {
    public static let minimumLength = 10
    public static let maximumLength = 200

    /// Why a password is refused, as a key into the interface text catalogues; `nil` when it is fine.
    public static func problem(with password: String) -> String? {
        if password.count < minimumLength { return "password_too_short" }
        if password.count > maximumLength { return "password_too_long" }
        if common.contains(password.lowercased()) { return "password_too_common" }
        if Set(password).count < 3 { return "password_too_common" }
        return nil
    }

    /// The most common passwords of 10 or more characters in public breach lists, lower-cased.
    static let common: Set<String> = [
        "1234567890", "0123456789", "1234567891", "12345678910", "123456789a", "qwertyuiop", "1q2w3e4r5t",
        "1qaz2wsx3edc", "qwerty1234", "qwerty12345", "qwerty123456", "password12", "password123", "password1234",
        "passw0rd123", "iloveyou12", "abcdefghij", "abc1234567", "asdfghjkl1", "zxcvbnm123", "qazwsxedcr",
        "1111111111", "0000000000", "2222222222", "9876543210", "987654321a", "123123123123", "1234512345",
        "1122334455", "11223344556", "1234554321", "1q2w3e4r5t6y", "q1w2e3r4t5", "q1w2e3r4t5y6", "qwertyuiop123",
        "asdfghjkl;", "administrator", "admin12345", "admin123456", "welcome123", "welcome1234", "letmein123",
        "football123", "baseball123", "princess123", "sunshine123", "superman123", "trustno1234", "monkey12345",
        "dragon12345", "master12345", "changeme123", "changeme12", "default123", "password!1", "p@ssw0rd12",
        "p@ssword123", "qwerty123!", "йцукенгшщз", "1234567890q", "q1234567890", "123qweasdzxc", "zaq12wsxcde",
        "1qazxsw23edc", "parolparol", "parol12345", "пароль1234", "пароль12345", "vitrina123", "vitrina2026",
        "1234567890-", "10203040506", "123456789q", "1234qwerasdf", "qwer1234asdf", "qwertyqwerty", "asdfasdfasdf",
        "password2024", "password2025", "password2026", "spring2026!", "summer2026!", "winter2026!", "autumn2026!",
    ]
}
