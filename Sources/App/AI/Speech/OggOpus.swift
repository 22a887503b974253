import NIOCore

/// What an Ogg Opus clip (Telegram's and WhatsApp's voice notes) says about itself, read from its pages' headers
/// (RFC 3533, RFC 7845) without decoding any audio.
enum OggOpus {
    /// Whether the bytes start with an Ogg page whose first packet is an `OpusHead`.
    static func isOggOpus(_ data: ByteBuffer) -> Bool { preSkip(data) != nil }

    /// The clip's length: the last page's granule position (samples at 48 kHz) less the pre-skip of the `OpusHead`.
    /// Nil when the bytes are not Ogg Opus or no page says.
    static func duration(of data: ByteBuffer) -> Double? {
        guard let preSkip = preSkip(data), let serial = data.getInteger(at: data.readerIndex + 14, endianness: .little, as: UInt32.self)
        else { return nil }
        // Pages are read from the end: the last one that ends a packet holds the clip's final granule position.
        var offset = data.writerIndex - 27
        while offset >= data.readerIndex {
            // A page header: "OggS", version 0, then the granule position and the stream's serial number.
            if data.getInteger(at: offset, as: UInt32.self) == 0x4F67_6753, data.getInteger(at: offset + 4, as: UInt8.self) == 0,
                let granule = data.getInteger(at: offset + 6, endianness: .little, as: Int64.self),
                data.getInteger(at: offset + 14, endianness: .little, as: UInt32.self) == serial,
                granule >= 0  // -1: no packet ends on this page
            {
                let samples = granule - Int64(preSkip)
                return samples >= 0 ? Double(samples) / 48_000 : nil
            }
            offset -= 1
        }
        return nil
    }

    /// The pre-skip (samples to drop at the start) of the `OpusHead` on the first page, if the clip has one.
    private static func preSkip(_ data: ByteBuffer) -> UInt16? {
        let start = data.readerIndex
        guard data.readableBytes >= 27 + 19, data.getString(at: start, length: 4) == "OggS",
            let segments = data.getInteger(at: start + 26, as: UInt8.self)
        else { return nil }
        let packet = start + 27 + Int(segments)
        guard data.getString(at: packet, length: 8) == "OpusHead" else { return nil }
        return data.getInteger(at: packet + 10, endianness: .little, as: UInt16.self)
    }
}
