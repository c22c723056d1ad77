/// A source's retention rule. Each setting is optional; a policy with none keeps everything.
///
/// Written as text in `name=value` form (`keep-days=14 weekly=8 monthly=12 yearly=3`), which
/// is also how each manifest records the policy in force when it was made.
public struct RetentionPolicy: Codable, Equatable, Sendable {
    /// Keep every point whose time is within this many days of now.
    public var keepDays: Int?
    /// Keep the newest this-many points.
    public var keepLast: Int?
    /// Keep the newest point of each of the newest this-many ISO weeks, calendar months and
    /// calendar years that contain a point.
    public var weekly: Int?
    public var monthly: Int?
    public var yearly: Int?

    public init(keepDays: Int? = nil, keepLast: Int? = nil, weekly: Int? = nil, monthly: Int? = nil, yearly: Int? = nil) {
        self.keepDays = keepDays
        self.keepLast = keepLast
        self.weekly = weekly
        self.monthly = monthly
        self.yearly = yearly
    }

    public static let names = ["keep-days", "keep-last", "weekly", "monthly", "yearly"]

    /// The largest value `policy set` accepts for each setting: keep-days stays well inside
    /// the stored time range (100000 days is about 273 years), and counts inside any real repository.
    public static let limits = ["keep-days": 100_000, "keep-last": 1_000_000, "weekly": 1_000_000,
                                "monthly": 1_000_000, "yearly": 1_000_000]

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

    public var isEmpty: Bool { settings.isEmpty }

    /// The settings that are set, in a fixed order.
    public var settings: [(name: String, value: Int)] {
        let all: [(String, Int?)] = [("keep-days", keepDays), ("keep-last", keepLast), ("weekly", weekly),
                                     ("monthly", monthly), ("yearly", yearly)]
        return all.compactMap { n, v in v.map { (n, $0) } }
    }

    public var text: String { settings.map { "\($0.name)=\($0.value)" }.joined(separator: " ") }

    /// Parses `name=value` pairs; unknown names and negative values are errors.
    public init(text: String) throws {
        self.init()
        for pair in text.split(separator: " ") {
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2, let v = Int(kv[1]), v >= 0 else {
                throw SnapdexError.invalidArgument("cannot read retention setting '\(pair)'; write NAME=NUMBER with NAME one of \(RetentionPolicy.names.joined(separator: ", "))")
            }
            try set(kv[0], v)
        }
    }

    public init(settings: [(name: String, value: Int64)]) {
        self.init()
        for s in settings { try? set(s.name, Int(clamping: s.value)) }
    }

    mutating func set(_ name: String, _ value: Int) throws {
        switch name {
        case "keep-days": keepDays = value
        case "keep-last": keepLast = value
        case "weekly": weekly = value
        case "monthly": monthly = value
        case "yearly": yearly = value
        default:
            throw SnapdexError.invalidArgument("unknown retention setting '\(name)'; use \(RetentionPolicy.names.joined(separator: ", "))")
        }
    }
}
