import CLZMA

/// liblzma's one-shot buffer coders, in the xz container with no check.
public enum LZMA {
    public struct Failure: Error, CustomStringConvertible {
        public let code: UInt32
        public var description: String { "liblzma error \(code)" }
    }

    /// Compresses with the given preset (0-9). Preset 1 is what Snapdex uses for blocks.
    public static func compress(_ input: [UInt8], preset: UInt32 = 1) throws -> [UInt8] {
        let bound = lzma_stream_buffer_bound(input.count)
        var out = [UInt8](repeating: 0, count: bound)
        var outPos = 0
        let ret = input.withUnsafeBufferPointer { inp in
            out.withUnsafeMutableBufferPointer { o in
                lzma_easy_buffer_encode(preset, LZMA_CHECK_NONE, nil, inp.baseAddress, input.count, o.baseAddress, &outPos, bound)
            }
        }
        guard ret == LZMA_OK else { throw Failure(code: ret.rawValue) }
        out.removeSubrange(outPos...)
        return out
    }

    /// Decompresses a whole xz stream that must expand to exactly `size` bytes.
    public static func decompress(_ input: ArraySlice<UInt8>, size: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: max(size, 1))
        var memlimit: UInt64 = 256 << 20
        var inPos = 0
        var outPos = 0
        let ret = input.withUnsafeBufferPointer { inp in
            out.withUnsafeMutableBufferPointer { o in
                lzma_stream_buffer_decode(&memlimit, 0, nil, inp.baseAddress, &inPos, input.count, o.baseAddress, &outPos, size)
            }
        }
        guard ret == LZMA_OK, outPos == size, inPos == input.count else { throw Failure(code: ret.rawValue) }
        if size == 0 { return [] }
        return out
    }
}
