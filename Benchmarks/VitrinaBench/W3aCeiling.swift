import App
import Foundation
import PostgresNIO

/// One statement as PostgreSQL logged it (`log_statement = all`), with its parameters' values in place.
struct CapturedStatement {
    var pid: String
    var sql: String
    var parameters: [String]

    /// The statement with `$n` replaced by its value's literal, as pgbench sends it.
    var literal: String {
        var text = sql
        for (index, value) in parameters.enumerated().reversed() { text = text.replacingOccurrences(of: "$\(index + 1)", with: value) }
        return text
    }

    var oneLine: String {
        let words = sql.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).joined(separator: " ")
        return words.count > 110 ? String(words.prefix(110)) + "…" : words
    }

    /// The log's entries from `log`: `… [pid] LOG:  execute <unnamed>: SQL` or `LOG:  statement: SQL`, each followed by
    /// `DETAIL:  parameters: $1 = '…', $2 = NULL` when it had parameters.
    static func parse(_ log: String) -> [CapturedStatement] {
        var entries: [String] = []
        for line in log.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.count > 20, line.prefix(4).allSatisfy(\.isNumber), line.dropFirst(4).first == "-" {
                entries.append(String(line))
            } else if !entries.isEmpty {
                entries[entries.count - 1] += "\n" + line
            }
        }
        var statements: [CapturedStatement] = []
        for entry in entries {
            guard let open = entry.firstIndex(of: "["), let close = entry[open...].firstIndex(of: "]") else { continue }
            let pid = String(entry[entry.index(after: open)..<close])
            let rest = entry[entry.index(after: close)...].drop(while: { $0 == " " })
            if rest.hasPrefix("LOG:  statement: ") || rest.hasPrefix("LOG:  execute ") {
                guard let colon = rest.range(of: ": ", range: rest.index(rest.startIndex, offsetBy: 6)..<rest.endIndex) else { continue }
                statements.append(CapturedStatement(pid: pid, sql: String(rest[colon.upperBound...]), parameters: []))
            } else if rest.hasPrefix("DETAIL:  parameters: "), let last = statements.indices.last, statements[last].pid == pid {
                statements[last].parameters = values(String(rest.dropFirst("DETAIL:  parameters: ".count)))
            }
        }
        return statements
    }

    /// `$1 = 'a''b', $2 = NULL` → `['a''b'`, `NULL]` (literals kept quoted).
    static func values(_ text: String) -> [String] {
        var values: [String] = []
        var chars = Array(text)[...]
        while let dollar = chars.firstIndex(of: "$") {
            chars = chars[dollar...]
            guard let equals = chars.firstIndex(of: "=") else { break }
            chars = chars[(equals + 1)...].drop(while: { $0 == " " })
            if chars.first == "'" {
                var i = chars.startIndex + 1
                while i < chars.endIndex {
                    if chars[i] == "'" {
                        if i + 1 < chars.endIndex, chars[i + 1] == "'" { i += 2 } else { break }
                    } else {
                        i += 1
                    }
                }
                values.append(String(chars[chars.startIndex...min(i, chars.endIndex - 1)]))
                chars = chars[min(i + 1, chars.endIndex)...]
            } else {
                let end = chars.firstIndex(of: ",") ?? chars.endIndex
                values.append(String(chars[..<end]))
                chars = chars[end...]
            }
        }
        return values
    }
}

extension Bench {
    /// Logs every statement while one message goes to shop 1 in a conversation that already has messages, and returns
    /// those of that message: the key's look-up and the tenant door's transaction (the connection that opened it).
    func captureStatements(load: ShopperLoad) async throws -> [CapturedStatement] {
        guard let (client, _) = load.conversations.enumerated().compactMap({ c, own in own[1].map { (c, $0) } }).first(where: { $0.1 >= 3 })
        else { return [] }
        let logFile = options.workdir + "/postgres/postgres.log"
        let connection = try await PostgresConnection.connect(
            configuration: try databaseURL("bench_w3").connectionConfiguration(), id: 3, logger: logger)
        let own = try await connection.query("SELECT pg_backend_pid()::text", logger: logger).collect().first?.decode(String.self) ?? ""
        let offset = (try? FileManager.default.attributesOfItem(atPath: logFile)[.size] as? Int) ?? 0
        try await connection.query("ALTER SYSTEM SET log_statement = 'all'", logger: logger)
        try await connection.query("SELECT pg_reload_conf()", logger: logger)
        try await Task.sleep(for: .seconds(1))
        let reply = await load.one("сколько дней идет доставка", shop: 1, client: client)
        try await Task.sleep(for: .milliseconds(300))
        try await connection.query("ALTER SYSTEM RESET log_statement", logger: logger)
        try await connection.query("SELECT pg_reload_conf()", logger: logger)
        try await connection.close()
        let data = FileManager.default.contents(atPath: logFile) ?? Data()
        let all = CapturedStatement.parse(String(decoding: data.dropFirst(offset), as: UTF8.self)).filter { $0.pid != own }
        let door = all.first { $0.sql.contains("set_config('search_path'") }?.pid
        let statements = all.filter { $0.pid == door || $0.sql.contains("platform.api_keys") }
        say(
            "Statements of one message (step \(reply?.step ?? "?"), conversation \(reply?.conversation ?? 0)), "
                + "captured with log_statement = all (\(all.count - statements.count) of other connections left out):")
        for (index, statement) in statements.enumerated() { say("  \(index + 1). \(statement.oneLine)") }
        return statements
    }

    /// pgbench sending the captured statements, one script per shop (its id, schema and key in place of shop 1's, a
    /// random one of its conversations), `connections` clients for `w3aDuration` seconds. Returns transactions per
    /// second: one transaction is one message.
    func w3aCeiling(statements: [CapturedStatement], load: ShopperLoad) async throws -> Double? {
        guard let pgbench = pgbenchPath(), !statements.isEmpty else {
            say("pgbench or the captured statements missing; skipping W3a's ceiling.")
            return nil
        }
        let rows = try await withServices("bench_w3") { services in
            try await services.database.values(
                (String, UUID, String, String).self,
                """
                SELECT t.slug, t.id, t.schema_name, '\\x' || encode(k.secret_hash, 'hex') FROM platform.tenants t
                JOIN platform.api_keys k ON k.tenant_id = t.id ORDER BY t.slug
                """)
        }
        guard let first = rows.first(where: { $0.0 == "s1" }) else { return nil }
        let conversation = statements.compactMap { s in s.sql.contains("FOR UPDATE") ? s.parameters.first : nil }.first ?? "''"
        var scripts: [String] = []
        for (slug, id, schema, hash) in rows {
            let file = options.workdir + "/w3a-\(slug).sql"
            let shop = Int(slug.dropFirst()) ?? 1
            let count = max(1, load.conversations.filter { $0[shop] != nil }.count)
            var lines = ["\\set conv random(1, \(count))"]
            for statement in statements {
                var s = statement
                s.parameters = s.parameters.map { $0 == conversation ? ":conv" : $0 }
                // The answer replies to the shopper's message just inserted (`reply_to`, unique per answer): the
                // captured id would make every transaction of a shop wait for the one before it.
                let answers = s.sql.contains("reply_to") && s.sql.contains("INSERT INTO messages")
                if answers {
                    s.parameters = s.parameters.map { $0.range(of: #"^'?[0-9]+'?$"#, options: .regularExpression) != nil ? ":shopper" : $0 }
                }
                var text = s.literal.replacingOccurrences(of: first.1.uuidString.lowercased(), with: id.uuidString.lowercased())
                    .replacingOccurrences(of: "'\(first.2)'", with: "'\(schema)'").replacingOccurrences(
                        of: "'\(first.3)'", with: "'\(hash)'")
                // pgbench reads one statement a line.
                text = text.split(separator: "\n").joined(separator: " ")
                let shopperInsert = "SELECT (SELECT id::int FROM m), (SELECT messages FROM u), "
                if text.contains(shopperInsert) {
                    // Keep the new message's id for the answer's `reply_to` (`\gset` needs every column named).
                    let named = "SELECT (SELECT id::int FROM m) AS shopper, (SELECT messages FROM u) AS used, "
                    text = text.replacingOccurrences(of: shopperInsert, with: named)
                    lines.append(text + " AS quota \\gset")
                } else {
                    lines.append(text + ";")
                }
            }
            try lines.joined(separator: "\n").appending("\n").write(toFile: file, atomically: true, encoding: .utf8)
            scripts += ["-f", file]
        }
        let output = try ProcessRunner.run(
            [
                pgbench, "-n", "-M", "extended", "-c", "\(options.connections)", "-j", "2", "-T", "\(options.w3aDuration)", "-h",
                socketFolder, "-U", serverURL.username,
            ] + scripts + ["bench_w3"]
        ).output
        let line = output.split(separator: "\n").first { $0.hasPrefix("tps = ") }.map(String.init) ?? output
        let latency = output.split(separator: "\n").first { $0.hasPrefix("latency average") }.map(String.init) ?? ""
        say(
            "PostgreSQL ceiling (pgbench -M extended, the \(statements.count) statements per shop over \(rows.count) shops, "
                + "-c\(options.connections) -j2, \(options.w3aDuration) s; scripts in \(options.workdir)/w3a-s*.sql): \(line); \(latency)")
        return Double(line.dropFirst("tps = ".count).prefix { $0.isNumber || $0 == "." })
    }
}
