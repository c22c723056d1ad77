import CLZMA

/// liblzma's one-shot buffer coders, in the xz container with no check.
public enum LZMA {
    public struct Failure: Error, CustomStringConvertible {
        public let code: UInt32
        public var description: String { "liblzma error \(code)" }
    }

    /// Compresses with the given preset (0-9). Preset 1 is what Snapdex uses for blocks.
    ///
    /// The dictionary is cut down to the input's size: a block is tens of kilobytes, and
    /// setting up the preset's full 1 MiB dictionary and its match finder for every block
    /// costs more than compressing it.
    public static func compress(_ input: [UInt8], preset: UInt32 = 1) throws -> [UInt8] {
        var options = lzma_options_lzma()
        guard lzma_lzma_preset(&options, preset) == 0 else { throw Failure(code: 8) }
        var dict: UInt32 = 4096
        while dict < UInt32(min(input.count, 1 << 26)) && dict < options.dict_size { dict <<= 1 }
        options.dict_size = dict
        let bound = lzma_stream_buffer_bound(input.count)
        var out = [UInt8](repeating: 0, count: bound)
        var outPos = 0
        let ret = withUnsafeMutablePointer(to: &options) { opt in
            var filters = [
                lzma_filter(id: 0x21 /* LZMA_FILTER_LZMA2 */, options: UnsafeMutableRawPointer(opt)),
                lzma_filter(id: UInt64.max /* LZMA_VLI_UNKNOWN */, options: nil),
            ]
            return input.withUnsafeBufferPointer { inp in
                out.withUnsafeMutableBufferPointer { o in
                    lzma_stream_buffer_encode(&filters, LZMA_CHECK_NONE, nil, inp.baseAddress, input.count, o.baseAddress, &outPos, bound)
                }
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
