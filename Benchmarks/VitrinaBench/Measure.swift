import Foundation

/// Small statistics and formatting helpers.
enum Stats {
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
    }

    static func ms(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    static func f(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }
}

/// One wrk run's figures.
struct WrkResult {
    var requestsPerSecond: Double
    var p50: Double
    var p90: Double
    var p99: Double
    var non2xx: Int

    /// Parses `wrk --latency` output (latencies converted to milliseconds).
    static func parse(_ output: String) -> WrkResult? {
        func latency(_ label: String) -> Double? {
            guard let line = output.split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(label) }) else {
                return nil
            }
            let value = line.split(separator: " ", omittingEmptySubsequences: true).last.map(String.init) ?? ""
            return toMilliseconds(value)
        }
        guard let rpsLine = output.split(separator: "\n").first(where: { $0.hasPrefix("Requests/sec:") }),
            let rps = Double(rpsLine.split(separator: " ").last ?? ""),
            let p50 = latency("50%"), let p90 = latency("90%"), let p99 = latency("99%")
        else { return nil }
        var non2xx = 0
        if let line = output.split(separator: "\n").first(where: { $0.contains("Non-2xx or 3xx responses:") }) {
            non2xx = Int(line.split(separator: " ").last ?? "") ?? 0
        }
        if let line = output.split(separator: "\n").first(where: { $0.contains("Socket errors:") }) {
            non2xx += line.contains("timeout 0") ? 0 : 1
        }
        return WrkResult(requestsPerSecond: rps, p50: p50, p90: p90, p99: p99, non2xx: non2xx)
    }

    static func toMilliseconds(_ text: String) -> Double? {
        for (suffix, factor) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0)] where text.hasSuffix(suffix) {
            return Double(text.dropLast(suffix.count)).map { $0 * factor }
        }
        return nil
    }
}
