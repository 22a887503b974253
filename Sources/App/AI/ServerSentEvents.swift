import NIOCore

/// Reads a `text/event-stream` as it arrives: bytes in (cut anywhere, even inside a character), each complete event's
/// `data` out, its `data:` lines joined by newlines. Comments and the other fields (`event:`, `id:`, `retry:`) are
/// skipped: the chat streams say everything in `data`.
struct ServerSentEvents {
    private var line: [UInt8] = []
    private var data: [String] = []

    init() {}

    /// The events that `buffer` completes.
    mutating func feed(_ buffer: ByteBuffer) -> [String] {
        var events: [String] = []
        for byte in buffer.readableBytesView {
            guard byte == UInt8(ascii: "\n") else {
                line.append(byte)
                continue
            }
            if let event = take(line) { events.append(event) }
            line.removeAll(keepingCapacity: true)
        }
        return events
    }

    /// The event left open when the stream ended (a server may end without the blank line).
    mutating func finish() -> [String] {
        var events: [String] = []
        if !line.isEmpty, let event = take(line) { events.append(event) }
        line.removeAll()
        if let event = take([]) { events.append(event) }
        return events
    }

    /// Takes one line: a blank one ends the event and returns its data.
    private mutating func take(_ bytes: [UInt8]) -> String? {
        var text = String(decoding: bytes, as: UTF8.self)
        if text.hasSuffix("\r") { text.removeLast() }
        if text.isEmpty {
            defer { data.removeAll() }
            return data.isEmpty ? nil : data.joined(separator: "\n")
        }
        guard text.hasPrefix("data:") else { return nil }
        var value = text.dropFirst("data:".count)
        if value.first == " " { value = value.dropFirst() }
        data.append(String(value))
        return nil
    }
}
