/// Ogg Opus clips built page by page (RFC 3533, RFC 7845) as a voice note's are: an `OpusHead`, an `OpusTags`, then
/// audio pages whose last granule position gives the length. The audio packets are filler: no test decodes them.
enum OggFixture {
    static let preSkip: UInt16 = 312

    /// A mono clip of `seconds`, with `audioPages` pages of `packetSize` filler bytes each (bytes that include CR, LF
    /// and dashes, as a multipart boundary's neighbours might).
    static func clip(seconds: Double, audioPages: Int = 3, packetSize: Int = 300, serial: UInt32 = 0x5EED) -> [UInt8] {
        var head = Array("OpusHead".utf8) + [1, 1]
        head += le(UInt64(preSkip), 2) + le(48_000, 4) + [0, 0, 0]
        let tags = Array("OpusTags".utf8) + le(6, 4) + Array("vitrna".utf8) + le(0, 4)
        var bytes = page(type: 0x02, granule: 0, serial: serial, sequence: 0, packet: head)
        bytes += page(type: 0, granule: 0, serial: serial, sequence: 1, packet: tags)
        let total = Int64(preSkip) + Int64(seconds * 48_000)
        for index in 0..<audioPages {
            let filler = (0..<packetSize).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) | ($0 % 7 == 0 ? 0x0D : 0) }
            let last = index == audioPages - 1
            // A page in the middle may end no packet (granule -1); the last one carries the clip's end.
            let granule = last ? total : (index == 0 ? -1 : total * Int64(index) / Int64(audioPages))
            bytes += page(
                type: last ? 0x04 : 0, granule: granule, serial: serial, sequence: UInt32(index + 2), packet: filler + [13, 10, 45, 45])
        }
        return bytes
    }

    static func page(type: UInt8, granule: Int64, serial: UInt32, sequence: UInt32, packet: [UInt8]) -> [UInt8] {
        var lacing: [UInt8] = Array(repeating: 255, count: packet.count / 255)
        lacing.append(UInt8(packet.count % 255))
        var bytes = Array("OggS".utf8) + [0, type]
        bytes += le(UInt64(bitPattern: granule), 8) + le(UInt64(serial), 4) + le(UInt64(sequence), 4)
        bytes += [0, 0, 0, 0]  // CRC: nothing here checks it
        bytes.append(UInt8(lacing.count))
        return bytes + lacing + packet
    }

    private static func le(_ value: UInt64, _ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }
}
