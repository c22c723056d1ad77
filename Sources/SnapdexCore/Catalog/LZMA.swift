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
        options.dict_size = dictionarySize(for: input.count, preset: options.dict_size)
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
        try compress(input, preset: 0, storing: [0..<input.count])
    }

    /// One xz stream of several blocks: the ranges of `plain` (in order, not overlapping) as
    /// LZMA2 uncompressed chunks, the bytes between them compressed with `preset`. A column of
    /// nearly random values (nanosecond mtimes, sizes) shrinks by a few percent at the cost of
    /// most of a part's compression time; the columns around it still shrink. Every xz reader
    /// reads a stream of several blocks (`xz -dc`, `lzma_stream_buffer_decode`).
    ///
    /// With no plain range this is `compress(input, preset:)`, byte for byte.
    public static func compress(_ input: [UInt8], preset: UInt32, storing plain: [Range<Int>]) throws -> [UInt8] {
        var segments: [(range: Range<Int>, packed: Bool)] = []
        var at = 0
        for r in plain where !r.isEmpty {
            guard r.lowerBound >= at, r.upperBound <= input.count else { throw Failure(code: 8 /* LZMA_PROG_ERROR */) }
            if r.lowerBound > at { segments.append((at..<r.lowerBound, true)) }
            segments.append((r, false))
            at = r.upperBound
        }
        if at < input.count { segments.append((at..<input.count, true)) }
        // Nothing at all: one empty block, stored when asked to store.
        if segments.isEmpty { segments.append((0..<0, plain.isEmpty)) }
        if segments.count == 1, segments[0].packed { return try compress(input, preset: preset) }

        var flags = lzma_stream_flags()
        flags.version = 0
        flags.check = LZMA_CHECK_NONE
        let bound = segments.reduce(12 + 12 + 64 + 16 * segments.count) { $0 + lzma_block_buffer_bound($1.range.count) }
        var out = [UInt8](repeating: 0, count: bound)
        var pos = 12
        var ret = out.withUnsafeMutableBufferPointer { lzma_stream_header_encode(&flags, $0.baseAddress) }
        guard ret == LZMA_OK else { throw Failure(code: ret.rawValue) }
        guard let index = lzma_index_init(nil) else { throw Failure(code: 5 /* LZMA_MEM_ERROR */) }
        defer { lzma_index_end(index, nil) }
        for segment in segments {
            var options = lzma_options_lzma()
            guard lzma_lzma_preset(&options, segment.packed ? preset : 0) == 0 else { throw Failure(code: 8) }
            // A stored block's dictionary is never used; 4 KiB is the smallest it may name.
            options.dict_size = segment.packed ? dictionarySize(for: segment.range.count, preset: options.dict_size) : 4096
            ret = withUnsafeMutablePointer(to: &options) { opt in
                var filters = [
                    lzma_filter(id: 0x21 /* LZMA_FILTER_LZMA2 */, options: UnsafeMutableRawPointer(opt)),
                    lzma_filter(id: UInt64.max /* LZMA_VLI_UNKNOWN */, options: nil),
                ]
                return filters.withUnsafeMutableBufferPointer { f in
                    var block = lzma_block()
                    block.version = 0
                    block.check = LZMA_CHECK_NONE
                    block.filters = f.baseAddress
                    var r = input.withUnsafeBufferPointer { inp in
                        out.withUnsafeMutableBufferPointer { o in
                            let from = inp.baseAddress.map { $0 + segment.range.lowerBound }
                            return segment.packed
                                ? lzma_block_buffer_encode(&block, nil, from, segment.range.count, o.baseAddress, &pos, o.count)
                                : lzma_block_uncomp_encode(&block, from, segment.range.count, o.baseAddress, &pos, o.count)
                        }
                    }
                    if r == LZMA_OK { r = lzma_index_append(index, nil, lzma_block_unpadded_size(&block), block.uncompressed_size) }
                    return r
                }
            }
            guard ret == LZMA_OK else { throw Failure(code: ret.rawValue) }
        }
        ret = out.withUnsafeMutableBufferPointer { o in lzma_index_buffer_encode(index, o.baseAddress, &pos, o.count) }
        guard ret == LZMA_OK else { throw Failure(code: ret.rawValue) }
        flags.backward_size = lzma_index_size(index)
        guard pos + 12 <= out.count else { throw Failure(code: 10 /* LZMA_BUF_ERROR */) }
        ret = out.withUnsafeMutableBufferPointer { o in lzma_stream_footer_encode(&flags, o.baseAddress! + pos) }
        guard ret == LZMA_OK else { throw Failure(code: ret.rawValue) }
        out.removeSubrange((pos + 12)...)
        return out
    }

    /// The preset's dictionary cut down to the input's size (at least 4 KiB).
    static func dictionarySize(for count: Int, preset: UInt32) -> UInt32 {
        var dict: UInt32 = 4096
        while dict < UInt32(min(count, 1 << 26)) && dict < preset { dict <<= 1 }
        return dict
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
