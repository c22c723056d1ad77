import Foundation
import Testing
@testable import SnapdexCLI
@testable import SnapdexCore

/// Point times with a fraction of a second: every printed reference and JSON time carries the
/// fraction, so it names the same point when typed back, and a destructive command never offers
/// the point before one its second rounds to.
extension CLITests {
    @Test func fractionalPointTimesRoundTripAndForgetNeverOffersAnotherPoint() throws {
        let s = Scratch()
        let cli = CLI(repo: s.path + "/repo")
        write(s.path + "/snaps/2026-01-01/old", "old")
        write(s.path + "/snaps/2026-01-05T00:00:00.5Z/new", "new")
        write(s.path + "/snaps/2026-01-06T00:00:00.250Z/a", "a")
        write(s.path + "/snaps/2026-01-06T00:00:00.750Z/b", "b")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["source", "add", "s", "--snapshots", s.path + "/snaps"]).status == 0)
        let indexed = cli.run("index --source s")
        #expect(indexed.status == 0)
        let both = indexed.out + indexed.err
        for ref in ["s@2026-01-05T00:00:00.5Z", "s@2026-01-06T00:00:00.25Z", "s@2026-01-06T00:00:00.75Z"] {
            #expect(both.contains("indexed \(ref) "), "\(both)")
        }
        let json = cli.run("points --json").out
        #expect(json.contains("\"time\":\"2026-01-05T00:00:00.5Z\""), "\(json)")
        #expect(json.contains("\"time\":\"2026-01-06T00:00:00.25Z\""), "\(json)")
        #expect(json.contains("\"time\":\"2026-01-01T00:00:00Z\""), "\(json)")
        #expect(cli.run("points").out.contains("2026-01-05 00:00:00.5 +0000"))
        #expect(cli.run(["find", "new", "--json"]).out.contains("\"point_time\":\"2026-01-05T00:00:00.5Z\""))

        // The printed reference reads back as that point.
        #expect(cli.run("ls s@2026-01-05T00:00:00.5Z /").out.contains("new"))
        #expect(cli.run("ls s@2026-01-06T00:00:00.25Z /").out.contains("a"))
        #expect(cli.run("ls s@2026-01-06T00:00:00.75Z /").out.contains("b"))

        // Typed to the second, forget names the points within it, never the point before.
        var r = cli.run("forget s@2026-01-05T00:00:00Z")
        #expect(r.status == 2)
        #expect(Self.oneLine(r))
        #expect(r.err.contains("s@2026-01-05T00:00:00.5Z") && !r.err.contains("--nearest"), "\(r.err)")
        r = cli.run("point keep s@2026-01-06T00:00:00Z --until never")
        #expect(r.status == 2)
        #expect(r.err.contains("s@2026-01-06T00:00:00.25Z") && r.err.contains("s@2026-01-06T00:00:00.75Z"), "\(r.err)")
        #expect(!r.err.contains("--nearest"), "\(r.err)")
        #expect(cli.run("points --json").out.split(separator: "\n").count == 4)

        // The reference it names works as printed, and forgets that point.
        r = cli.run("forget s@2026-01-05T00:00:00.5Z")
        #expect(r.status == 0, "\(r.err)")
        let left = cli.run("points --json").out
        #expect(!left.contains("2026-01-05") && left.contains("2026-01-01T00:00:00Z"), "\(left)")

        // A point typed in a zone with an offset round-trips too.
        #expect(TimeDisplay.reference(Timestamp(nanoseconds: 1_500_000_000)) == "1970-01-01T00:00:01.5Z")
        #expect(Timestamp(nanoseconds: 1).exactRFC3339() == "1970-01-01T00:00:00.000000001Z")
        #expect(Timestamp(nanoseconds: 1_000_000_000).exactRFC3339() == "1970-01-01T00:00:01Z")
    }

    @Test func theLastNanosecondIsNeverATypedHold() throws {
        let s = Scratch()
        let cli = CLI(repo: s.path + "/repo")
        write(s.path + "/snap/f", "x")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["index", s.path + "/snap", "--source", "s", "--at", "2026-01-01T00:00:00Z"]).status == 0)
        var r = cli.run("point keep s@latest --until 2262-04-11T23:47:16.854775807Z")
        #expect(r.status == 2)
        #expect(Self.oneLine(r))
        #expect(r.err.contains("`--until never`") && !r.out.contains("never"), "\(r.out) \(r.err)")
        #expect(cli.run("points --json").out.contains("\"retain_until\":\"never\"") == false)
        r = cli.run(["index", s.path + "/snap", "--source", "s", "--at", "2026-01-02T00:00:00Z",
                     "--keep-until", "2262-04-11T23:47:16.854775807Z"])
        #expect(r.status == 2 && r.err.contains("`--keep-until never`"), "\(r.err)")

        r = cli.run("point keep s@latest --until 2262-04-11T23:47:16.854775806Z")
        #expect(r.status == 0)
        #expect(r.out.contains("kept until 2262-04-11 23:47:16.854775806 +0000"), "\(r.out)")
        // The advice works as printed.
        r = cli.run("point keep s@latest --until never")
        #expect(r.status == 0 && r.out.contains("kept until never"))
    }
}
