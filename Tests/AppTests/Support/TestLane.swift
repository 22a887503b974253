import Foundation
import Testing

/// The test lanes: `make test` runs everything against a throwaway PostgreSQL; `make test-unit` (VITRINA_TEST_LANE=unit)
/// runs what needs no database, in seconds. A test that needs the database reaches it through `TestDatabase`, which
/// cancels it in the unit lane (the run reports it as skipped), so no test has to be sorted by hand.
enum TestLane {
    static let usesDatabase = ProcessInfo.processInfo.environment["VITRINA_TEST_LANE"] != "unit"

    static func requireDatabase() throws {
        if !usesDatabase { try Test.cancel("needs PostgreSQL: it runs in `make test`") }
    }
}
