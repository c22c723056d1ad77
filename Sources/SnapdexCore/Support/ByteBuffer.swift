/// Appends the variable-length integers and byte strings that the catalog and manifest use.
///
/// A varint is LEB128: seven bits at a time, least significant first, high bit set on every
/// byte but the last. Signed values are zig-zag mapped first (0, -1, 1, -2 → 0, 1, 2, 3).
public struct ByteWriter {
    public var bytes: [UInt8] = []
    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    @inline(__always) public mutating func byte(_ b: UInt8) { bytes.append(b) }

    @inline(__always) public mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    @inline(__always) public mutating func varint(_ value: Int) { varint(UInt64(value)) }

    @inline(__always) public mutating func zigzag(_ value: Int64) {
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    public mutating func raw<C: Collection>(_ data: C) where C.Element == UInt8 { bytes.append(contentsOf: data) }

    /// A length-prefixed byte string.
    public mutating func string<C: Collection>(_ data: C) where C.Element == UInt8 {
        varint(UInt64(data.count))
        bytes.append(contentsOf: data)
    }

    public mutating func uint16LE(_ v: UInt16) { bytes.append(UInt8(v & 0xff)); bytes.append(UInt8(v >> 8)) }
    public mutating func uint32LE(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    public mutating func int64LE(_ v: Int64) {
        let u = UInt64(bitPattern: v)
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: u >> (8 * i))) }
    }
}

/// Reads what `ByteWriter` wrote; every read fails with `ByteReader.Truncated` instead of trapping.
public struct ByteReader {
    public struct Truncated: Error {}
    public let bytes: [UInt8]
    public private(set) var offset: Int
    public let end: Int

    public init(_ bytes: [UInt8], offset: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.end = end ?? bytes.count
    }

    public var isAtEnd: Bool { offset >= end }
    public var remaining: Int { end - offset }

    @inline(__always) public mutating func byte() throws -> UInt8 {
        guard offset < end else { throw Truncated() }
        defer { offset += 1 }
        return bytes[offset]
    }

    @inline(__always) public mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < end, shift < 64 else { throw Truncated() }
            let b = bytes[offset]
            offset += 1
            result |= UInt64(b & 0x7f) << shift
            if b < 0x80 { return result }
            shift += 7
        }
    }

    /// A varint that must fit in a non-negative Int no larger than `limit`.
    @inline(__always) public mutating func count(limit: Int = Int(Int32.max)) throws -> Int {
        let v = try varint()
        guard v <= UInt64(limit) else { throw Truncated() }
        return Int(v)
    }

    @inline(__always) public mutating func zigzag() throws -> Int64 {
        let u = try varint()
        return Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1)
    }

    public mutating func raw(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= remaining else { throw Truncated() }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    public mutating func string() throws -> [UInt8] { Array(try raw(try count(limit: remaining))) }

    public mutating func uint16LE() throws -> UInt16 {
        let s = try raw(2)
        return UInt16(s[s.startIndex]) | UInt16(s[s.startIndex + 1]) << 8
    }

    public mutating func uint32LE() throws -> UInt32 {
        let s = try raw(4)
        var v: UInt32 = 0
        for (i, b) in s.enumerated() { v |= UInt32(b) << (8 * UInt32(i)) }
        return v
    }

    public mutating func int64LE() throws -> Int64 {
        let s = try raw(8)
        var v: UInt64 = 0
        for (i, b) in s.enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        return Int64(bitPattern: v)
    }
}

/// Integers as decimal text appended to a byte buffer, for output built as bytes.
public enum DecimalText {
    /// `n` in decimal, as `"\(n)"` writes it, appended to `out`.
    public static func append<I: BinaryInteger>(_ n: I, to out: inout [UInt8]) {
        if n < 0 { out.append(UInt8(ascii: "-")) }
        var m = n.magnitude
        let start = out.count
        repeat {
            out.append(UInt8(ascii: "0") + UInt8(m % 10))
            m /= 10
        } while m > 0
        out[start...].reverse()
    }
}
