import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `FindQuery.matchesName` for an entry a `NamesScan` is on, without building the entry: the
/// name (or `/DIR/NAME` with `--path`) is matched where the scan holds it, and a glob is first
/// tested for a literal that every match must contain, so fnmatch(3) runs only on candidates.
/// Gives the same answers as `matchesName` (a differential test checks it).
final class NameMatcher {
    private let type: EntryType?
    private let path: Bool
    private let ignoreCase: Bool
    private let regex: Regex<AnyRegexOutput>?
    /// The glob as a C string, and fnmatch's flags.
    private let glob: [CChar]
    private let flags: Int32
    /// Bytes every match holds in a row (ASCII lower case with `ignoreCase`); empty when the
    /// glob promises none.
    let literal: [UInt8]

    init(_ query: FindQuery) {
        type = query.type
        ignoreCase = query.ignoreCase
        flags = query.ignoreCase ? FindQuery.caseFold : 0
        switch query.pattern {
        case .glob(let g, let p):
            path = p
            regex = nil
            let bytes = PathString.bytes(g)
            glob = bytes.map { CChar(bitPattern: $0) } + [0]
            literal = GlobLiteral.longest(in: bytes, ignoreCase: query.ignoreCase)
        case .regex(let r, let p):
            path = p
            regex = r
            glob = []
            literal = []
        }
    }

    func matches(_ scan: NamesScan) -> Bool {
        if scan.pathEnd == scan.nameStart { return false }  // the root's own entry
        if let type, scan.type != type { return false }
        let subject = path ? scan.displayPath : scan.name
        if let regex {
            // The subject is decoded as arguments are (non-UTF-8 bytes as escape scalars), so a
            // regex typed with such a byte matches it.
            return PathString.string(subject).contains(regex)
        }
        if !literal.isEmpty, !GlobLiteral.contains(subject, literal, ignoreCase: ignoreCase) { return false }
        // The scan keeps a NUL after the subject.
        return glob.withUnsafeBufferPointer { g in
            subject.baseAddress!.withMemoryRebound(to: CChar.self, capacity: subject.count + 1) {
                fnmatch(g.baseAddress!, $0, flags) == 0
            }
        }
    }
}

/// The literal runs of bytes in a glob that every string it matches contains.
enum GlobLiteral {
    /// The longest run of bytes that every match of `glob` (as fnmatch(3) reads it, without
    /// flags but FNM_CASEFOLD) holds in a row; empty when there is none or the glob is one
    /// this reading does not follow.
    ///
    /// `*`, `?` and a bracket set end a run; `\x` is the byte x. A set holding a `[` (a class
    /// such as `[[:alpha:]]`) gives up: its end is not where the simple reading puts it. With
    /// `ignoreCase`, runs are in ASCII lower case and also end at any non-ASCII byte and at i
    /// and k: in a UTF-8 locale fnmatch folds U+0130 to i and U+212A (Kelvin) to k.
    static func longest(in glob: [UInt8], ignoreCase: Bool) -> [UInt8] {
        var best: [UInt8] = []
        var run: [UInt8] = []
        func end() {
            if run.count > best.count { best = run }
            run.removeAll(keepingCapacity: true)
        }
        var i = 0
        while i < glob.count {
            var b = glob[i]
            switch b {
            case UInt8(ascii: "*"), UInt8(ascii: "?"):
                end()
                i += 1
                continue
            case UInt8(ascii: "["):
                end()
                var j = i + 1
                if j < glob.count && (glob[j] == UInt8(ascii: "!") || glob[j] == UInt8(ascii: "^")) { j += 1 }
                if j < glob.count && glob[j] == UInt8(ascii: "]") { j += 1 }
                while j < glob.count && glob[j] != UInt8(ascii: "]") {
                    if glob[j] == UInt8(ascii: "[") || glob[j] == UInt8(ascii: "\\") { return [] }
                    j += 1
                }
                guard j < glob.count else { return [] }
                i = j + 1
                continue
            case UInt8(ascii: "\\"):
                guard i + 1 < glob.count else { return [] }
                i += 1
                b = glob[i]
            default:
                break
            }
            i += 1
            if ignoreCase {
                let lower = b | (b >= 0x41 && b <= 0x5A ? 0x20 : 0)
                if b >= 0x80 || lower == UInt8(ascii: "i") || lower == UInt8(ascii: "k") {
                    end()
                    continue
                }
                run.append(lower)
            } else {
                run.append(b)
            }
        }
        end()
        return best
    }

    /// Whether `subject` holds `literal` (given in ASCII lower case with `ignoreCase`).
    @inline(__always)
    static func contains(_ subject: UnsafeBufferPointer<UInt8>, _ literal: [UInt8], ignoreCase: Bool) -> Bool {
        let n = subject.count, m = literal.count
        guard m <= n else { return false }
        return literal.withUnsafeBufferPointer { l in
            let first = l[0]
            var i = 0
            while i <= n - m {
                var b = subject[i]
                if ignoreCase, b >= 0x41, b <= 0x5A { b |= 0x20 }
                if b == first {
                    var k = 1
                    while k < m {
                        var c = subject[i + k]
                        if ignoreCase, c >= 0x41, c <= 0x5A { c |= 0x20 }
                        if c != l[k] { break }
                        k += 1
                    }
                    if k == m { return true }
                }
                i += 1
            }
            return false
        }
    }
}
