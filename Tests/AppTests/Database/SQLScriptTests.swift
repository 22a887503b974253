import Testing

@testable import App

@Suite("Splitting migration files into statements")
struct SQLScriptTests {
    @Test func splitsOnSemicolonsOutsideQuotesCommentsAndDollarBodies() throws {
        let sql = """
            -- a comment; with a semicolon
            CREATE TABLE a (x text DEFAULT 'it''s; fine');
            /* block; /* nested; */ comment */
            CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;
            CREATE FUNCTION g() RETURNS int LANGUAGE sql AS $body$ SELECT 2; $body$;
            SELECT "odd;name" FROM a
            """
        let statements = SQLScript.statements(in: sql)
        try #require(statements.count == 4)
        #expect(statements[0].hasSuffix("DEFAULT 'it''s; fine')"))
        #expect(statements[1].contains("BEGIN RETURN 1; END $$"))
        #expect(statements[2].contains("SELECT 2; $body$"))
        #expect(statements[3] == #"SELECT "odd;name" FROM a"#)
    }

    @Test func dropsEmptyAndCommentOnlyStatements() {
        #expect(SQLScript.statements(in: ";;\n-- only a comment\n;  ").isEmpty)
    }

    @Test func realMigrationsSplitIntoStatements() throws {
        let files = try MigrationFile.load(folder: TestDatabase.packageRoot + "/Migrations/platform")
        #expect(
            files.first?.statements.contains { $0.contains("CREATE FUNCTION platform.notify_directory()") && $0.hasSuffix("$$") } == true)
    }
}

@Suite("Migration files")
struct MigrationFileTests {
    @Test func refusesBadNamesAndGaps() throws {
        let folder = try TemporaryFolder()
        try folder.write("0001_first.sql", "SELECT 1")
        try folder.write("0003_third.sql", "SELECT 3")
        #expect(throws: MigrationError.self) { try MigrationFile.load(folder: folder.path) }
        let badName = try TemporaryFolder()
        try badName.write("1_first.sql", "SELECT 1")
        #expect(throws: MigrationError.self) { try MigrationFile.load(folder: badName.path) }
    }

    @Test func checksumChangesWithContent() {
        #expect(
            MigrationFile(version: 1, name: "a", sql: "SELECT 1").checksum != MigrationFile(version: 1, name: "a", sql: "SELECT 2").checksum
        )
    }
}
