/// A source's retention rule. Each setting is optional; a policy with none keeps everything.
///
/// Written as text in `name=value` form (`keep-days=14 daily=7 weekly=8 zone=Europe/Berlin`),
/// which is also how the database records the policy each manifest stores.
public struct RetentionPolicy: Equatable, Sendable {
    /// Keep every point within this many days of the newest point of the source.
    public var keepDays: Int?
    /// Keep the newest this-many points.
    public var keepLast: Int?
    /// Keep the newest point of each of the newest this-many hours, days, ISO weeks, calendar
    /// months and calendar years that contain a point.
    public var hourly: Int?
    public var daily: Int?
    public var weekly: Int?
    public var monthly: Int?
    public var yearly: Int?
    /// The zone whose calendar those periods are counted in; nil in policies written before
    /// Snapdex 0.2, which count in the local zone of the machine that runs expire.
    public var zone: CalendarZone?

    public init(keepDays: Int? = nil, keepLast: Int? = nil, hourly: Int? = nil, daily: Int? = nil, weekly: Int? = nil,
                monthly: Int? = nil, yearly: Int? = nil, zone: CalendarZone? = nil) {
        self.keepDays = keepDays
        self.keepLast = keepLast
        self.hourly = hourly
        self.daily = daily
        self.weekly = weekly
        self.monthly = monthly
        self.yearly = yearly
        self.zone = zone
    }

    public static let names = ["keep-days", "keep-last", "hourly", "daily", "weekly", "monthly", "yearly"]

    /// The largest value `policy set` accepts for each setting: keep-days stays well inside
    /// the stored time range (100000 days is about 273 years), and counts inside any real repository.
    public static let limits = ["keep-days": 100_000, "keep-last": 1_000_000, "hourly": 1_000_000, "daily": 1_000_000,
                                "weekly": 1_000_000, "monthly": 1_000_000, "yearly": 1_000_000]

    /// Refuses a setting below 0 or above its limit, naming the option to fix. Policies read
    /// back from manifests are not checked: the planner saturates instead.
    public func validate() throws {
        for (name, value) in settings {
            let limit = RetentionPolicy.limits[name] ?? Int.max
            guard (0...limit).contains(value) else {
                throw SnapdexError.invalidArgument("--\(name) takes a number from 0 to \(limit), not \(value)")
            }
        }
    }

    /// Whether no setting is set: the zone alone keeps everything, as no policy does.
    public var isEmpty: Bool { settings.isEmpty }

    /// The settings that are set, in a fixed order (the zone is not a setting).
    public var settings: [(name: String, value: Int)] {
        let all: [(String, Int?)] = [("keep-days", keepDays), ("keep-last", keepLast), ("hourly", hourly), ("daily", daily),
                                     ("weekly", weekly), ("monthly", monthly), ("yearly", yearly)]
        return all.compactMap { n, v in v.map { (n, $0) } }
    }

    /// The settings, then `zone=NAME` when a zone is stored; empty for an empty policy.
    public var text: String {
        guard !isEmpty else { return "" }
        return (settings.map { "\($0.name)=\($0.value)" } + (zone.map { ["zone=\($0.name)"] } ?? [])).joined(separator: " ")
    }

    /// Parses `name=value` pairs; unknown names and negative values are errors. `zone=NAME`
    /// is read as stored (`CalendarZone(stored:)`): never refused.
    public init(text: String) throws {
        self.init()
        for pair in text.split(separator: " ") {
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            if kv.count == 2, kv[0] == "zone", !kv[1].isEmpty {
                zone = CalendarZone(stored: kv[1])
                continue
            }
            guard kv.count == 2, let v = Int(kv[1]), v >= 0 else {
                throw SnapdexError.invalidArgument("cannot read retention setting '\(pair)'; write NAME=NUMBER with NAME one of \(RetentionPolicy.names.joined(separator: ", "))")
            }
            try set(kv[0], v)
        }
    }

    /// The policy a manifest stores: tag 9's settings (names this version does not know are
    /// skipped) and tag 14's zone.
    public init(settings: [(name: String, value: Int64)], zone: String? = nil) {
        self.init()
        for s in settings { try? set(s.name, Int(clamping: s.value)) }
        self.zone = zone.map(CalendarZone.init(stored:))
    }

    mutating func set(_ name: String, _ value: Int) throws {
        switch name {
        case "keep-days": keepDays = value
        case "keep-last": keepLast = value
        case "hourly": hourly = value
        case "daily": daily = value
        case "weekly": weekly = value
        case "monthly": monthly = value
        case "yearly": yearly = value
        default:
            throw SnapdexError.invalidArgument("unknown retention setting '\(name)'; use \(RetentionPolicy.names.joined(separator: ", "))")
        }
    }
}
