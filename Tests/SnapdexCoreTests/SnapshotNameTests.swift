import Foundation
import Testing
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Snapshot names as each tool writes them, and the instants they stand for. The suite runs
/// with TZ=UTC, so a name in local time reads as UTC here; the zones themselves are checked by
/// `snapshotToolsLayoutsGiveTheRightTimes` (CLI tests), which runs under another TZ.
@Suite struct SnapshotNameTests {
    static func z(_ text: String) -> Timestamp { TimeParser.parse(text)! }

    /// Names taken from each tool's documentation and source (formats quoted in the comments).
    static let examples: [(String, String)] = [
        // sanoid: autosnap_%Y-%m-%d_%H:%M:%S_TYPE in sanoid's zone (TZ=UTC in its packaged unit); any text after the time.
        ("autosnap_2026-11-21_03:00:01_daily", "2026-11-21T03:00:01Z"),
        ("autosnap_2026-11-21_03:00:01_hourly", "2026-11-21T03:00:01Z"),
        ("autosnap_2026-11-21_03:15:00_frequently", "2026-11-21T03:15:00Z"),
        ("2026-11-21_03:00:01_daily", "2026-11-21T03:00:01Z"),
        // pyznap: pyznap_%Y-%m-%d_%H:%M:%S_TYPE.
        ("pyznap_2026-11-21_03:00:01_weekly", "2026-11-21T03:00:01Z"),
        // syncoid: syncoid_HOST_%Y-%m-%d:%H:%M:%S, newer versions add -GMT+hh:mm.
        ("syncoid_backup1_2026-11-21:03:00:01", "2026-11-21T03:00:01Z"),
        ("syncoid_backup1_2026-11-21:03:00:01-GMT+01:00", "2026-11-21T02:00:01Z"),
        ("syncoid_backup1_2026-11-21:03:00:01-GMT-05:00", "2026-11-21T08:00:01Z"),
        // zfs-auto-snapshot: PREFIX_LABEL-%F-%H%M from `date --utc`.
        ("zfs-auto-snap_daily-2026-11-21-0300", "2026-11-21T03:00:00Z"),
        ("zfs-auto-snap_frequent-2026-11-21-0315", "2026-11-21T03:15:00Z"),
        ("zfs-auto-snap_hourly-2026-11-21-0317", "2026-11-21T03:17:00Z"),
        // zrepl: PREFIX + 20060102_150405_000 in UTC.
        ("zrepl_20261121_030001_000", "2026-11-21T03:00:01Z"),
        ("zrepl_20261121_030001_250", "2026-11-21T03:00:01.25Z"),
        // znapzend: %Y-%m-%d-%H%M%S.
        ("2026-11-21-030000", "2026-11-21T03:00:00Z"),
        // btrbk: NAME.YYYYMMDDThhmm (short), NAME.YYYYMMDDThhmmss±hhmm (long-iso), _N on collision.
        ("home.20261121T0300", "2026-11-21T03:00:00Z"),
        ("home.20261121T0300_1", "2026-11-21T03:00:00Z"),
        ("home.20261121T030001+0100", "2026-11-21T02:00:01Z"),
        ("home.20261121T030001-0500", "2026-11-21T08:00:01Z"),
        // NetApp / ONTAP: SCHEDULE.YYYY-MM-DD_hhmm.
        ("daily.2026-11-21_0010", "2026-11-21T00:10:00Z"),
        ("hourly.2026-11-21_0305", "2026-11-21T03:05:00Z"),
        ("weekly.2026-11-22_0015", "2026-11-22T00:15:00Z"),
        // Samba / Windows previous versions: @GMT-YYYY.MM.DD-hh.mm.ss, UTC.
        ("@GMT-2026.11.21-03.00.00", "2026-11-21T03:00:00Z"),
        ("@GMT-2028.02.29-03.00.00", "2028-02-29T03:00:00Z"),
        // Synology #snapshot: GMT±hh-YYYY.MM.DD-hh.mm.ss in the zone named.
        ("GMT+01-2026.11.21-03.00.00", "2026-11-21T02:00:00Z"),
        ("GMT+08-2021.03.10-10.00.00", "2021-03-10T02:00:00Z"),
        ("GMT-05-2026.11.21-03.00.00", "2026-11-21T08:00:00Z"),
        // QNAP @Recently-Snapshot: GMT±hh_YYYY-MM-DD_hhmm.
        ("GMT+01_2026-11-21_0300", "2026-11-21T02:00:00Z"),
        // Timeshift: YYYY-MM-DD_hh-mm-ss, local time.
        ("2026-11-21_03-00-01", "2026-11-21T03:00:01Z"),
        // zfsnap: [prefix]YYYY-MM-DD_hh.mm.ss--TTL.
        ("monthly-2010-08-03_02.06.00--1y", "2010-08-03T02:06:00Z"),
        // LVM snapshots and scripts, plain ISO dates.
        ("home_snap_20261121", "2026-11-21T00:00:00Z"),
        ("snap-2026.11.21", "2026-11-21T00:00:00Z"),
        ("2026.11.21-03.00.00", "2026-11-21T03:00:00Z"),
        ("root-snap-2026-11-21-0300", "2026-11-21T03:00:00Z"),
        ("2026-11-21", "2026-11-21T00:00:00Z"),
        ("20261122", "2026-11-22T00:00:00Z"),
        ("2026-11-20_0300", "2026-11-20T03:00:00Z"),
        ("2026-11-21-030000", "2026-11-21T03:00:00Z"),
        ("2026-11-21T03:00:00Z", "2026-11-21T03:00:00Z"),
        ("2026-11-21T03:00:00+01:00", "2026-11-21T02:00:00Z"),
        ("2026-11-21T03:00:00.5Z", "2026-11-21T03:00:00.5Z"),
        ("2026-11-21 03:00", "2026-11-21T03:00:00Z"),
        ("202611210300", "2026-11-21T03:00:00Z"),
        ("backup-20261121030001", "2026-11-21T03:00:01Z"),
    ]

    @Test(arguments: examples) func toolNamesGiveTheirTime(_ name: String, _ expected: String) {
        #expect(SnapshotName.read(name) == .time(Self.z(expected)), "\(name)")
    }

    @Test func namesWithoutATimeSayNone() {
        for name in ["daily.0", "nightly.3", "hourly.0", "42", "snapshot", "localhost", "manual-before-upgrade",
                     "v1.2.3", "12345678", "2026.11-21", "1.2026.11", "home.1", "zfs-auto-snap_daily", "GMT+01-latest", "2026", "2026-11"] {
            #expect(SnapshotName.read(name) == .none, "\(name)")
        }
    }

    /// A date in a known shape that does not exist is not a time, and says why.
    @Test func impossibleDatesAreNotTimes() {
        for name in ["2026-13-45", "autosnap_2026-02-30_03:00:00_daily", "zfs-auto-snap_daily-2026-11-21-2460",
                     "@GMT-2026.02.29-03.00.00", "20261345", "daily.2026-11-31_0010", "GMT+01-2026.11.21-25.00.00",
                     "2400-01-01"] {
            guard case .impossible(let why) = SnapshotName.read(name) else {
                Issue.record("\(name): \(SnapshotName.read(name))")
                continue
            }
            #expect(!why.isEmpty)
        }
        #expect(TimeParser.fromSnapshotName("2026-13-45") == nil)
    }

    /// snapper's N/snapshot and Timeshift's NAME/localhost (or NAME/@) are the roots; info.xml
    /// and info.json are not indexed; other folders are snapshots themselves.
    @Test func layoutsFindEachSnapshotRoot() throws {
        let dir = NSTemporaryDirectory() + "/snapdex-layout-\(UInt64.random(in: 0...UInt64.max))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fm = FileManager.default
        func make(_ p: String) { try! fm.createDirectory(atPath: dir + "/" + p, withIntermediateDirectories: true) }
        func put(_ p: String, _ text: String) { fm.createFile(atPath: dir + "/" + p, contents: Data(text.utf8)) }
        make("snaps/7/snapshot/etc")
        put("snaps/7/info.xml", "<?xml version=\"1.0\"?>\n<snapshot>\n  <type>single</type>\n  <num>7</num>\n  <date>2026-11-21 03:00:01</date>\n  <description>timeline</description>\n</snapshot>\n")
        make("snaps/2026-11-21_03-00-01/localhost/etc")
        put("snaps/2026-11-21_03-00-01/info.json", "{\"created\" : \"1795316401\"}\n")
        make("snaps/2026-11-22_03-00-01/@/etc")
        put("snaps/2026-11-22_03-00-01/info.json", "{}\n")
        make("snaps/autosnap_2026-11-21_03:00:01_daily")
        put("snaps/not-a-folder-2026-11-21", "x")
        // A snapper number without its subvolume (being made or deleted) is no snapshot; a
        // folder that merely holds an info.xml and a snapshot folder is one itself.
        make("snaps/8")
        put("snaps/8/info.xml", "<snapshot><date>2026-11-22 03:00:01</date></snapshot>")
        make("snaps/website-2026-11-20/snapshot")
        put("snaps/website-2026-11-20/info.xml", "<site/>")

        let found = SnapshotLayout.snapshots(in: dir + "/snaps")
        #expect(found.map(\.name) == ["2026-11-21_03-00-01", "2026-11-22_03-00-01", "7", "autosnap_2026-11-21_03:00:01_daily", "website-2026-11-20"])
        #expect(found.map(\.layout) == [.timeshift, .timeshiftBtrfs, .snapper, .plain, .plain])
        #expect(found[4].root == dir + "/snaps/website-2026-11-20")
        #expect(found[0].root == dir + "/snaps/2026-11-21_03-00-01/localhost")
        #expect(found[1].root == dir + "/snaps/2026-11-22_03-00-01/@")
        #expect(found[2].root == dir + "/snaps/7/snapshot")
        #expect(found[2].recorded == .time(Self.z("2026-11-21T03:00:01Z")))
        #expect(try SnapshotTime.of(found[2], timeFrom: .name).time == Self.z("2026-11-21T03:00:01Z"))
        #expect(try SnapshotTime.of(found[0], timeFrom: .auto).time == Self.z("2026-11-21T03:00:01Z"))

        // index DIR: either level of snapper and Timeshift names the same snapshot.
        #expect(SnapshotLayout.snapshot(at: dir + "/snaps/7") == found[2])
        #expect(SnapshotLayout.snapshot(at: dir + "/snaps/7/snapshot") == found[2])
        #expect(SnapshotLayout.snapshot(at: dir + "/snaps/2026-11-21_03-00-01/localhost") == found[0])
        #expect(SnapshotLayout.snapshot(at: dir + "/snaps/2026-11-21_03-00-01") == found[0])

        // snapper without a <date>: the name "7" holds no time, so the mtime stands in, with a warning.
        put("snaps/7/info.xml", "<snapshot><num>7</num></snapshot>")
        let undated = SnapshotLayout.snapshot(at: dir + "/snaps/7")
        let t = try SnapshotTime.of(undated, timeFrom: .auto)
        #expect(t.warning?.contains("info.xml has no <date>") == true)
        #expect(throws: SnapdexError.self) { try SnapshotTime.of(undated, timeFrom: .name).check(retry: "x") }
    }
}
