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

    /// An xz stream that holds `input` in LZMA2 *uncompressed* chunks: what `compress` would
    /// emit for data it cannot shrink, made without spending the CPU to find that out. Any xz
    /// reader (and `decompress`) reads it like any other.
    public static func store(_ input: [UInt8]) throws -> [UInt8] {
        var options = lzma_options_lzma()
        guard lzma_lzma_preset(&options, 0) == 0 else { throw Failure(code: 8) }
        options.dict_size = 4096
        return try withUnsafeMutablePointer(to: &options) { opt -> [UInt8] in
            var filters = [
                lzma_filter(id: 0x21 /* LZMA_FILTER_LZMA2 */, options: UnsafeMutableRawPointer(opt)),
                lzma_filter(id: UInt64.max /* LZMA_VLI_UNKNOWN */, options: nil),
            ]
            return try filters.withUnsafeMutableBufferPointer { f -> [UInt8] in
                var block = lzma_block()
                block.version = 0
                block.check = LZMA_CHECK_NONE
                block.filters = f.baseAddress
                let blockBound = lzma_block_buffer_bound(input.count)
                var out = [UInt8](repeating: 0, count: 12 + blockBound + 64 + 12)
                var flags = lzma_stream_flags()
                flags.version = 0
                flags.check = LZMA_CHECK_NONE
                var pos = 12
                var ret = out.withUnsafeMutableBufferPointer { lzma_stream_header_encode(&flags, $0.baseAddress) }
                guard ret == LZMA_OK else { throw Failure(code: ret.rawValue) }
                ret = input.withUnsafeBufferPointer { inp in
                    out.withUnsafeMutableBufferPointer { o in
                        lzma_block_uncomp_encode(&block, inp.baseAddress, input.count, o.baseAddress, &pos, o.count)
                    }
                }
                guard ret == LZMA_OK else { throw Failure(code: ret.rawValue) }
                guard let index = lzma_index_init(nil) else { throw Failure(code: 5) }
                defer { lzma_index_end(index, nil) }
                ret = lzma_index_append(index, nil, lzma_block_unpadded_size(&block), block.uncompressed_size)
                guard ret == LZMA_OK else { throw Failure(code: ret.rawValue) }
                ret = out.withUnsafeMutableBufferPointer { o in lzma_index_buffer_encode(index, o.baseAddress, &pos, o.count) }
                guard ret == LZMA_OK else { throw Failure(code: ret.rawValue) }
                flags.backward_size = lzma_index_size(index)
                ret = out.withUnsafeMutableBufferPointer { o in lzma_stream_footer_encode(&flags, o.baseAddress! + pos) }
                guard ret == LZMA_OK else { throw Failure(code: ret.rawValue) }
                out.removeSubrange((pos + 12)...)
                return out
            }
        }
    }

    /// Whether compressing a part is likely worth its CPU: LZMA on a sample from its start.
    /// Columns of random values (sizes, nanosecond mtimes) barely shrink, and they are what
    /// LZMA spends most of its time on.
    public static func worthCompressing(_ input: [UInt8]) -> Bool {
        guard input.count > 16 << 10 else { return true }
        guard let sample = try? compress(Array(input[0..<8192]), preset: 1) else { return true }
        return sample.count < 8192 * 9 / 10
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
