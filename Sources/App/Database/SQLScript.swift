/// Splits a migration file into single statements: PostgreSQL's extended protocol runs one statement per query.
///
/// Semicolons inside quotes, quoted identifiers, dollar-quoted bodies (`$$ ... $$`, `$fn$ ... $fn$`) and comments
/// do not end a statement.
public enum SQLScript {
    public static func statements(in sql: String) -> [String] {
        let chars = Array(sql.unicodeScalars)
        var statements: [String] = []
        var current = String.UnicodeScalarView()
        var i = 0
        func flush() {
            let text = String(current).trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty && !isOnlyComments(text) { statements.append(text) }
            current = String.UnicodeScalarView()
        }
        while i < chars.count {
            let c = chars[i]
            let next: Unicode.Scalar? = i + 1 < chars.count ? chars[i + 1] : nil
            if c == "-" && next == "-" {  // line comment
                while i < chars.count && chars[i] != "\n" { current.append(chars[i]); i += 1 }
                continue
            }
            if c == "/" && next == "*" {  // block comment (nestable in PostgreSQL)
                var depth = 0
                repeat {
                    if chars[i] == "/" && i + 1 < chars.count && chars[i + 1] == "*" {
                        depth += 1; current.append(chars[i]); current.append(chars[i + 1]); i += 2; continue
                    }
                    if chars[i] == "*" && i + 1 < chars.count && chars[i + 1] == "/" {
                        depth -= 1; current.append(chars[i]); current.append(chars[i + 1]); i += 2; continue
                    }
                    current.append(chars[i]); i += 1
                } while depth > 0 && i < chars.count
                continue
            }
            if c == "'" || c == "\"" {
                current.append(c); i += 1
                while i < chars.count {
                    current.append(chars[i])
                    if chars[i] == c {
                        if i + 1 < chars.count && chars[i + 1] == c { current.append(chars[i + 1]); i += 2; continue }
                        i += 1
                        break
                    }
                    i += 1
                }
                continue
            }
            if c == "$", let tagEnd = dollarTagEnd(chars, from: i) {
                let tag = chars[i...tagEnd]
                for s in tag { current.append(s) }
                i = tagEnd + 1
                while i < chars.count {
                    if chars[i] == "$" && i + tag.count <= chars.count && chars[i..<(i + tag.count)].elementsEqual(tag) {
                        for s in tag { current.append(s) }
                        i += tag.count
                        break
                    }
                    current.append(chars[i]); i += 1
                }
                continue
            }
            if c == ";" { flush(); i += 1; continue }
            current.append(c)
            i += 1
        }
        flush()
        return statements
    }

    /// `$tag$` starting at `start`: returns the index of its closing `$`.
    private static func dollarTagEnd(_ chars: [Unicode.Scalar], from start: Int) -> Int? {
        var j = start + 1
        while j < chars.count {
            let s = chars[j]
            if s == "$" { return j }
            let isIdent = s == "_" || (s.properties.isAlphabetic) || (j > start + 1 && ("0"..."9").contains(s))
            if !isIdent { return nil }
            j += 1
        }
        return nil
    }

    private static func isOnlyComments(_ text: String) -> Bool {
        text.split(separator: "\n").allSatisfy {
            $0.trimmingCharacters(in: .whitespaces).hasPrefix("--") || $0.trimmingCharacters(in: .whitespaces).isEmpty
        }
    }
}
