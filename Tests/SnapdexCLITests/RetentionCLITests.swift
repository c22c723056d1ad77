import Foundation
import Testing
@testable import SnapdexCLI
@testable import SnapdexCore

/// Dates and retention from the command line (issue 9, item 8): impossible dates refused by
/// every time argument, one documented meaning of a date alone per kind of argument, and
/// hourly/daily/zone through `policy set`. In the serialized CLI suite (shared Output.current).
extension CLITests {
    static func expireJSON(_ cli: CLI, _ args: String) -> [[String: Any]] {
        let r = cli.run("expire --dry-run --json " + args)
        #expect(r.status == 0, "\(r.err)")
        return r.out.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    @Test func everyTimeArgumentRefusesImpossibleDatesWithOneLine() throws {
        let s = Scratch()
        let cli = CLI(repo: s.path + "/repo")
        write(s.path + "/snap/f", "x")
        #expect(cli.run("init").status == 0)
        #expect(cli.run(["index", s.path + "/snap", "--source", "s", "--at", "2026-06-01T12:00:00Z"]).status == 0)
        let bad = ["2026-02-30", "2026-13-01", "2026-01-01T24:00:00Z", "2026-01-01T12:00:00+99:99", "2026-01-01T23:59:60Z"]
        for b in bad {
            for args in [["expire", "--dry-run", "--now", b], ["ls", "s@" + b], ["point", "keep", "s@latest", "--until", b],
                         ["index", s.path + "/snap", "--source", "s", "--at", b], ["find", "f", "--older", b],
                         ["index", s.path + "/snap", "--source", "s", "--keep-until", b]] {
                let r = cli.run(args)
                #expect(r.status == 2, "\(args) gave \(r.status)")
                #expect(Self.oneLine(r) && r.err.contains(b), "\(args): \(r.err)")
            }
        }
        for zone in ["+99:99", "+15:00", "Mars/Olympus_Mons"] {
            let r = cli.run(["policy", "set", "s", "--daily", "3", "--zone", zone])
            #expect(r.status == 2 && Self.oneLine(r) && r.err.contains(zone), "\(zone): \(r.err)")
        }
        #expect(cli.run("points --json").out.split(separator: "\n").count == 1)
        #expect(cli.run("policy show s").out.contains("no policy"))
    }

    @Test func aDateAloneMeansTheEndOfTheDayForNowAndTheWholeDayForAPoint() throws {
        let s = Scratch()
        let cli = CLI(repo: s.path + "/repo")
        write(s.path + "/snap/f", "x")
        #expect(cli.run("init").status == 0)
        for t in ["2026-05-31T12:00:00Z", "2026-06-01T18:00:00Z"] {
            #expect(cli.run(["index", s.path + "/snap", "--source", "s", "--at", t]).status == 0)
        }
        #expect(cli.run("policy set s --keep-last 1 --zone UTC").status == 0)
        #expect(cli.run("policy set s --keep-last 1 --zone UTC --apply-to-existing").status == 0)
        // As of 2026-06-01 means through that day: its 18:00 point is the newest, not "newer than now".
        let rows = Self.expireJSON(cli, "--now 2026-06-01")
        let june1 = rows.first { $0["time"] as? String == "2026-06-01T18:00:00Z" }
        #expect(june1?["reasons"] as? [String] == ["newest", "keep-last 1"])
        #expect(rows.first { $0["time"] as? String == "2026-05-31T12:00:00Z" }?["action"] as? String == "expire")
        #expect(rows.last?["now"] as? String == "2026-06-01T23:59:59Z")
        // SOURCE@DATE: the newest point on or before that day.
        #expect(cli.run("info s@2026-06-01 /").status == 0)
        let r = cli.run("points --json")
        #expect(r.out.contains("2026-06-01T18:00:00Z"))
        #expect(cli.run("ls s@2026-05-30").status != 0)
        // --until DATE holds through that day.
        #expect(cli.run("point keep s@2026-05-31 --until 2026-06-01").status == 0)
        let held = Self.expireJSON(cli, "--now 2026-06-01T23:00:00Z").first { $0["time"] as? String == "2026-05-31T12:00:00Z" }
        #expect((held?["reasons"] as? [String])?.first?.hasPrefix("retain-until 2026-06-01T23:59:59") == true)
    }

    @Test func policySetTakesHourlyDailyAndAZoneThatPolicyShowAndThePlanShow() throws {
        let s = Scratch()
        let cli = CLI(repo: s.path + "/repo")
        write(s.path + "/snap/f", "x")
        #expect(cli.run("init").status == 0)
        // 22:00Z and 23:30Z are one day in UTC and two days at +01:00.
        for t in ["2026-11-21T22:00:00Z", "2026-11-21T23:30:00Z", "2026-11-22T12:00:00Z"] {
            #expect(cli.run(["index", s.path + "/snap", "--source", "s", "--at", t]).status == 0)
        }
        var r = cli.run("policy set s --daily 2 --hourly 1 --zone +01:00 --apply-to-existing")
        #expect(r.status == 0 && r.out.contains("s: hourly=1 daily=2 zone=+01:00"), "\(r.out)\(r.err)")
        r = cli.run("policy show s")
        #expect(r.out.contains("s: hourly=1 daily=2 zone=+01:00") && r.out.contains("3 index(es) store: hourly=1 daily=2 zone=+01:00"), "\(r.out)")
        var reasons = Self.expireJSON(cli, "").compactMap { $0["reasons"] as? [String] }
        #expect(reasons == [["daily 2026-11-21"], [], ["newest", "hourly 2026-11-22T13:00+01:00", "daily 2026-11-22"]])
        #expect(cli.run("policy set s --daily 2 --zone UTC --apply-to-existing").status == 0)
        reasons = Self.expireJSON(cli, "").compactMap { $0["reasons"] as? [String] }
        #expect(reasons == [[], ["daily 2026-11-21"], ["newest", "daily 2026-11-22"]])
        // Without --zone: the local zone at policy-set time, stored by name or offset.
        r = cli.run("policy set s --daily 2")
        #expect(r.status == 0 && r.out.contains("zone=\(CalendarZone.local.name)"), "\(r.out)")
        r = cli.run("policy set s --clear")
        #expect(r.status == 0 && r.out.contains("no policy"))
        #expect(cli.run("policy set s --clear --zone UTC").status == 2)
        // Indexes whose policy has no zone (as Snapdex 0.1 wrote them): policy show says so
        // and prints a command that stores one; following it works.
        _ = try Repository.open(at: s.path + "/repo").setPolicy(source: "s", policy: RetentionPolicy(keepLast: 2, weekly: 3),
                                                                 applyToExisting: true)
        r = cli.run("policy show s")
        #expect(r.out.contains("a policy stored without a zone counts periods in this machine's zone"), "\(r.out)")
        // Printed with the --repo it ran with: run as printed from anywhere, it acts here.
        let named = "snapdex --repo \(s.path)/repo policy set "
        let advice = try #require(r.out.split(separator: "\n").first { $0.contains(named) }, "\(r.out)")
        let command = try #require(advice.range(of: named).map { String(advice[$0.upperBound...]) })
        #expect(command == "s --keep-last 2 --weekly 3 --zone \(CalendarZone.local.name) --apply-to-existing")
        #expect(cli.run("policy set " + command).status == 0)
        r = cli.run("policy show s")
        #expect(!r.out.contains("without a zone") && !r.out.contains(" policy set ") && r.out.contains("3 index(es) store: keep-last=2 weekly=3 zone="), "\(r.out)")
        // A policy set for new indexes only: policy show prints how to store it in the others.
        #expect(cli.run("policy set s --daily 5 --zone Asia/Tokyo").status == 0)
        r = cli.run("policy show s")
        #expect(r.out.contains("to store the source's policy in every index: snapdex --repo \(s.path)/repo policy set s --daily 5 --zone Asia/Tokyo --apply-to-existing"), "\(r.out)")
        #expect(cli.run("policy set s --daily 5 --zone Asia/Tokyo --apply-to-existing").status == 0)
        #expect(cli.run("policy show s").out == "s: daily=5 zone=Asia/Tokyo\n  3 index(es) store: daily=5 zone=Asia/Tokyo\n")
        // A zone this machine's database does not know (set elsewhere): said, counted as UTC,
        // and the printed command names a zone that exists here.
        _ = try Repository.open(at: s.path + "/repo").setPolicy(
            source: "s", policy: RetentionPolicy(daily: 4, zone: CalendarZone(stored: "Mars/Olympus_Mons")), applyToExisting: true)
        r = cli.run("policy show s")
        #expect(r.out.contains("zone Mars/Olympus_Mons is unknown to this machine: its periods are counted in UTC"), "\(r.out)")
        let fix = try #require(r.out.split(separator: "\n").first { $0.contains(named) })
        let rerun = try #require(fix.range(of: named).map { String(fix[$0.upperBound...]) })
        #expect(rerun == "s --daily 4 --zone \(CalendarZone.local.name) --apply-to-existing")
        #expect(cli.run("policy set " + rerun).status == 0)
        #expect(!cli.run("policy show s").out.contains("unknown"))
    }
}
