import Foundation
import Testing
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Runs `script` with /bin/sh in `dir`, stopping at the first command that fails (`set -e`),
/// with `$B` naming the snapdex `binary`.
func runScript(in dir: String, binary: String, _ script: String) throws -> (status: Int32, out: String) {
    try runTool("/bin/sh", ["-c", "set -e\ncd \"$1\"; B=\"$2\"\n" + script, "sh", dir, binary])
}

/// Paths typed on the command line reach the kernel as the bytes typed, also bytes that are
/// not UTF-8 and newlines; an empty path is refused. Run as a real process from a shell, as
/// only a real argv carries such bytes.
@Test func pathArgumentsReachTheKernelAsTheBytesTyped() throws {
    guard let binary = builtSnapdex() else { return }
    let s = Scratch()
    let r = try runScript(in: s.path, binary: binary, """
        odd=$(printf 'x\\377\\ny')
        mkdir -p "snaps/day$odd/dir"
        printf 'hello' > "snaps/day$odd/dir/f$odd"
        "$B" init --repo "repo$odd"
        "$B" source add s --snapshots "$PWD/snaps" --repo "repo$odd"
        "$B" index --source s --repo "repo$odd"
        "$B" index "$PWD/snaps/day$odd" --source t --repo "repo$odd" --at 2026-11-21T03:00:00Z
        "$B" cat s@latest "/dir/f$odd" --repo "repo$odd" > cat.out
        "$B" restore t@latest /dir --to "out$odd" --repo "repo$odd"
        "$B" restore s@latest "/dir/f$odd" --tar "a$odd.tar" --repo "repo$odd"
        "$B" verify --repo "repo$odd"
        """)
    #expect(r.status == 0, "\(r.out)")
    let odd: [UInt8] = [0x78, 0xff, 0x0a, 0x79]
    let fd = open(s.path, O_RDONLY | O_DIRECTORY)
    defer { close(fd) }
    let names = Set(try FS.listNames(in: fd).get())
    for expected in ["repo", "out", "a"].map({ Array($0.utf8) + odd + ($0 == "a" ? Array(".tar".utf8) : []) }) {
        #expect(names.contains(expected), "\(expected) not among \(names)")
    }
    #expect(names.count == 5, "\(names)")  // snaps, cat.out, repo…, out…, a….tar: nothing else
    #expect(FileManager.default.contents(atPath: s.path + "/cat.out") == Data("hello".utf8))
    let restored = try FS.openDirectory(Array("out".utf8) + odd, in: fd).get()
    defer { close(restored) }
    let dir = try FS.openDirectory(Array("dir".utf8), in: restored).get()
    defer { close(dir) }
    #expect(try FS.listNames(in: dir).get() == [Array("f".utf8) + odd])

    // An empty path is a usage error, never the current directory.
    let repo = "$(printf 'repo\\377\\ny')"
    for args in ["index '' --source s --repo \(repo)", "points --repo ''", "init --repo ''",
                 "restore s@latest /dir --to '' --repo \(repo)", "restore s@latest /dir --tar '' --repo \(repo)",
                 "source add u --snapshots '' --repo \(repo)", "source add u --live-path '' --repo \(repo)"] {
        let e = try runTool("/bin/sh", ["-c", "cd \"$1\" && \"$2\" \(args)", "sh", s.path, binary])
        #expect(e.status == 2 && e.out.contains("empty path"), "\(args): \(e.out)")
    }
    #expect(try FS.listNames(in: fd).get().count == 5)

    // $SNAPDEX_REPO is a path too: its bytes name the repository.
    let env = try runTool("/bin/sh", ["-c", "cd \"$1\" && SNAPDEX_REPO=\"$(printf 'env\\376')\" \"$2\" init", "sh", s.path, binary])
    #expect(env.status == 0, "\(env.out)")
    #expect(try FS.listNames(in: fd).get().contains(Array("env".utf8) + [0xfe]))
}

@Test func pathStringsKeepEveryByte() {
    let cases: [[UInt8]] = [[], Array("plain/ü".utf8), [0xff], [0x61, 0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80],
                            Array("a\nb".utf8) + [0x80, 0xbf, 0xc0, 0xc1, 0xf5, 0xfe]]
    for bytes in cases {
        let s = PathString.string(bytes)
        #expect(PathString.bytes(s) == bytes, "\(bytes)")
        #expect(!s.unicodeScalars.contains("\u{FFFD}"))
    }
}

/// `find` patterns are bytes too: a non-UTF-8 glob or regex (`caf\351`, Latin-1) matches the
/// name with that byte, and only it. A real process, as only a real argv carries such bytes.
@Test func findPatternsAreBytes() throws {
    guard let binary = builtSnapdex() else { return }
    let s = Scratch()
    let r = try runScript(in: s.path, binary: binary, """
        mkdir -p snaps/2026-11-21
        printf 'l' > "snaps/2026-11-21/$(printf 'caf\\351')"
        printf 'uu' > "snaps/2026-11-21/café"
        "$B" init --repo repo > /dev/null
        "$B" source add s --snapshots "$PWD/snaps" --repo repo > /dev/null
        "$B" index --source s --repo repo > /dev/null
        "$B" find "$(printf 'caf\\351')" --json --repo repo > glob.out
        "$B" find "$(printf '^caf\\351$')" --regex --json --repo repo > regex.out
        "$B" find "$(printf '/caf\\351')" --path --json --repo repo > path.out
        """)
    #expect(r.status == 0, "\(r.out)")
    for file in ["glob.out", "regex.out", "path.out"] {
        let out = String(decoding: FileManager.default.contents(atPath: s.path + "/" + file) ?? Data(), as: UTF8.self)
        let lines = out.split(separator: "\n")
        #expect(lines.count == 1, "\(file): \(out)")
        #expect(lines.first?.contains("\"size\":1") == true && !out.contains("café"), "\(file): \(out)")
    }
}
