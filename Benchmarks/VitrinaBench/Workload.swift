import Foundation

/// The deterministic data of shared/bench/WORKLOAD.md.
enum Workload {
    static let words = """
        account admin alert archive backup billing branch browser cache calendar channel client cloud comment config \
        contact dashboard device domain email export feature feedback filter folder group import invoice label language \
        license login member message mobile network notice order owner password payment plan policy profile project report \
        role schedule search server session setting storage team theme ticket token upload user webhook widget window \
        workflow zone
        """.split(separator: " ").map(String.init)

    static func words(_ i: Int, _ j: Int) -> [String] {
        var s = UInt64(i * 1000 + j)
        return (0..<30).map { _ in
            s = (1_103_515_245 &* s &+ 12345) % (1 << 31)
            return words[Int((s >> 16) % 64)]
        }
    }

    static func title(_ i: Int, _ j: Int) -> String {
        let w = words(i, j)
        return "[t\(i)#\(j)] How do I \(w[0]) the \(w[1]) \(w[2]) for my \(w[3]) \(w[4])?"
    }

    static func body(_ i: Int, _ j: Int) -> String {
        "Answer for tenant \(i), entry \(j): " + words(i, j)[5...].joined(separator: " ") + "."
    }

    static func color(_ i: Int) -> String {
        String(format: "#%06x", (UInt64(i) * 2_654_435_761) % (1 << 24))
    }
}
