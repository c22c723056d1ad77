#if canImport(Glibc)
import Glibc
#endif

/// The columns of a part that LZMA would barely shrink, found without compressing them: a
/// block file stores them as LZMA2 uncompressed chunks and compresses the rest
/// (`LZMA.compress(_:preset:storing:)`).
///
/// On a tree with nanosecond mtimes and scattered sizes, the content part's size and mtime
/// columns shrink by 4-10% and took a quarter of a first index's CPU; its hash-kind column
/// beside them shrinks to nothing. Judged column by column, the first are stored and the last
/// still compressed. Real trees (`/usr`) have bursts of equal mtimes and repeated sizes:
/// their columns stay well below the threshold and compress as before.
enum IncompressibleColumns {
    /// Shorter columns are compressed whatever they hold: they cost little time, and each
    /// stored run adds an xz block header and index record (about 20 bytes).
    static let minimumLength = 4096
    /// Order-0 entropy, in bits per byte, from which a column is stored: at 7.2 bits a column
    /// of independent bytes shrinks by a tenth at best (LZMA measured 4-10% on such columns).
    static let storedFromBits = 7.2
    /// Stored runs this close together are joined (the gap is a column's length prefix).
    static let joinGap = 16

    /// The byte ranges of `part`'s columns to store uncompressed, in order; none when the
    /// part is not one this build can split into columns.
    static func ranges(in part: [UInt8]) -> [Range<Int>] {
        guard let first = part.first, let kind = PartKind(rawValue: first),
              let parsed = try? ChunkCodec.columns(part, kind: kind, expected: nil) else { return [] }
        var out: [Range<Int>] = []
        for c in parsed.columns where c.end - c.offset >= minimumLength {
            let r = c.offset..<c.end
            guard bitsPerByte(part, r) >= storedFromBits else { continue }
            if let last = out.last, r.lowerBound - last.upperBound <= joinGap {
                out[out.count - 1] = last.lowerBound..<r.upperBound
            } else {
                out.append(r)
            }
        }
        return out
    }

    /// A delta part that LZMA shrinks by less than this fraction is stored whole, uncompressed.
    static let deltaStoredBelowGain = 0.25

    /// Whether `part`, a content delta that LZMA shrank to `compressedSize` bytes, is stored
    /// uncompressed instead. `find` reads every point's content delta of each chunk that holds
    /// a hit, and LZMA decodes their new sizes and nanosecond mtimes at some 25 MB/s (180 µs
    /// for a 4 KB delta, against 6 µs stored) for a gain of 10-20%. Whole parts are shared by
    /// many points and read once a search, and `find` never reads state parts: those stay
    /// compressed (the writer asks only for content deltas).
    static func storesWhole(_ part: [UInt8], compressedSize: Int) -> Bool {
        guard part.first == PartKind.delta.rawValue, !part.isEmpty else { return false }
        return Double(compressedSize) > Double(part.count) * (1 - deltaStoredBelowGain)
    }

    /// The order-0 (byte frequency) entropy of `bytes[range]`, in bits per byte.
    static func bitsPerByte(_ bytes: [UInt8], _ range: Range<Int>) -> Double {
        guard !range.isEmpty else { return 0 }
        var counts = [Int](repeating: 0, count: 256)
        bytes.withUnsafeBufferPointer { b in
            counts.withUnsafeMutableBufferPointer { c in
                for i in range { c[Int(b[i])] += 1 }
            }
        }
        let n = Double(range.count)
        var bits = 0.0
        for k in counts where k > 0 {
            let p = Double(k) / n
            bits -= p * log2(p)
        }
        return bits
    }
}
