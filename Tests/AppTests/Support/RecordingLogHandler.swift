import Foundation
import Logging
import Synchronization

/// Keeps every log event, for tests that check what was logged and with which metadata.
final class LogRecorder: Sendable {
    struct Event: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }
    private let events = Mutex<[Event]>([])

    var all: [Event] { events.withLock { $0 } }

    func record(_ event: Event) { events.withLock { $0.append(event) } }

    /// A logger at `level` that records here.
    func logger(level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: "recorded") { _ in RecordingLogHandler(recorder: self) }
        logger.logLevel = level
        return logger
    }
}

struct RecordingLogHandler: LogHandler {
    let recorder: LogRecorder
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
        recorder.record(.init(level: event.level, message: "\(event.message)", metadata: all.mapValues { "\($0)" }))
    }
}
