import Foundation
import GRDB

/// What an expire run decided and did.
public struct ExpireReport: Sendable {
    public var decisions: [RetentionDecision]
    public var dryRun: Bool
    public var freedBlocks: Int
    public var kept: Int { decisions.filter(\.keep).count }
    public var expired: [RetentionDecision] { decisions.filter { !$0.keep } }
}

extension Manifest {
    /// A retention policy as the manifest stores it.
    static func settings(of policy: RetentionPolicy) -> [PolicySetting] {
        policy.settings.map { PolicySetting(name: $0.name, value: Int64($0.value)) }
    }
}

extension Repository {
    /// Every point as retention sees it, from the values stored with it.
    public func retentionCandidates(source: String? = nil) throws -> [RetentionCandidate] {
        Repository.retentionCandidates(try points(source: source))
    }

    /// Candidates for these points. Points of a source mostly share one policy text: each
    /// text is parsed once.
    static func retentionCandidates(_ points: [PointRecord]) -> [RetentionCandidate] {
        var policies = PolicyTexts()
        return points.indices.map { candidate(points[$0], policies: &policies) }
    }

    /// A point as retention sees it, read in place (`points` plans 10,000: a copy of each
    /// record would retain and release every string it holds).
    static func candidate(_ p: borrowing PointRecord, policies: inout PolicyTexts) -> RetentionCandidate {
        RetentionCandidate(id: p.id, source: p.source, time: p.pointTime, manual: p.pointKind == .manual,
                           retainUntil: p.retainUntil.map(Timestamp.init(nanoseconds:)), policy: policies.policy(p.policy))
    }

    /// Policy texts as parsed: points mostly share one, and each text is parsed once.
    struct PolicyTexts {
        private var parsed: [String: RetentionPolicy] = [:]
        private var last: (text: String, policy: RetentionPolicy)?

        mutating func policy(_ stored: String?) -> RetentionPolicy {
            let text = stored ?? ""
            if let last, last.text == text { return last.policy }
            let policy = parsed[text] ?? ((try? RetentionPolicy(text: text)) ?? RetentionPolicy())
            parsed[text] = policy
            last = (text, policy)
            return policy
        }
    }

    /// The retention plan at `now`, changing nothing.
    public func retentionPlan(source: String? = nil, now: Timestamp) throws -> [RetentionDecision] {
        if let source { _ = try self.source(named: source) }
        return retentionPlan(of: try points(source: source), now: now)
    }

    /// The retention plan at `now` of points already read (all of a source's, or all), for a
    /// caller that lists them too. A point whose manifest is missing (damage) is kept, with
    /// that reason: it goes only by `forget`, so that putting the manifest back still helps.
    public func retentionPlan(of points: [PointRecord], now: Timestamp) -> [RetentionDecision] {
        let plan = RetentionPlanner.plan(Repository.retentionCandidates(points), now: now, localZone: .local)
        let missing = Set(points.lazy.filter(\.manifestIsMissing).map(\.id))
        guard !missing.isEmpty else { return plan }
        return plan.map { d in
            guard !d.keep, missing.contains(d.candidate.id) else { return d }
            return RetentionDecision(candidate: d.candidate, keep: true, reasons: ["manifest missing"])
        }
    }

    /// Expires every point the plan does not keep: manifests first, then the database
    /// commit, then blocks no survivor references. With `dryRun`, only plans.
    public func expire(source: String? = nil, now: Timestamp, dryRun: Bool, wait: Double = 0) throws -> ExpireReport {
        if dryRun {
            // A dry run fails where the run would: with a manifest that cannot be read, no block
            // may be freed, and the run exits 3 (damage), so the dry run must not say all is well.
            _ = try liveBlocks()
            try refuseDamagedJournal()
            return ExpireReport(decisions: try retentionPlan(source: source, now: now), dryRun: true, freedBlocks: 0)
        }
        let started = Timestamp.now
        return try withWriterLock(wait: wait) {
            // A manifest that cannot be read keeps the database row it had, and retention would
            // judge that point by the row: its manifest would go on the database's word. So,
            // as the dry run, nothing is removed until every manifest reads.
            _ = try liveBlocks()
            let decisions = try retentionPlan(source: source, now: now)
            let doomed = Set(decisions.filter { !$0.keep }.map(\.candidate.id))
            let records = try points(source: source).filter { doomed.contains($0.id) }
            let freed = try forgetLocked(records)
            let freedOrphans = try collectGarbage()
            let report = ExpireReport(decisions: decisions, dryRun: false, freedBlocks: freed + freedOrphans)
            logSession(SessionRecord(
                kind: "expire", started: started.rfc3339(), ended: Timestamp.now.rfc3339(), result: "ok",
                counts: ["kept": Int64(report.kept), "expired": Int64(records.count), "freed_blocks": Int64(report.freedBlocks)],
                points: records.map(\.id), warnings: [], message: "now \(now.rfc3339())",
                plan: decisions.map { d in
                    d.keep ? "keep \(d.candidate.id) \(d.reasons.joined(separator: ", "))" : "expire \(d.candidate.id)"
                }, source: source))
            return report
        }
    }

    /// Removes the given indexes by hand, whatever the policy says; returns those that were
    /// still there (with `dryRun`, those that would go, changing nothing) and the blocks freed.
    /// Points under a hold (`point keep`) are refused unless `force`.
    public func forget(_ points: [PointRecord], dryRun: Bool = false, force: Bool = false, wait: Double = 0) throws -> (forgotten: [PointRecord], freedBlocks: Int) {
        if !force { try refuseHeld(points) }
        // A point exists while its manifest file does (a damaged one has no database row).
        func exists(_ p: PointRecord) -> Bool {
            FileIO.exists(manifestPath(source: p.source, id: p.id)) || (try? self.point(id: p.id)) != nil
        }
        if dryRun { return (points.filter(exists), 0) }
        let started = Timestamp.now
        return try withWriterLock(wait: wait) {
            let live = points.filter(exists)
            let freed = try forgetLocked(live)
            logSession(SessionRecord(kind: "forget", started: started.rfc3339(), ended: Timestamp.now.rfc3339(), result: "ok",
                                     counts: ["forgotten": Int64(live.count), "freed_blocks": Int64(freed)],
                                     points: live.map(\.id), warnings: [], message: nil, plan: nil,
                                     source: Set(live.map(\.source)).count == 1 ? live.first?.source : nil))
            return (live, freed)
        }
    }

    /// Refuses to remove points whose hold has not ended: a hold (`point keep --until`) is a
    /// promise that only releasing it, or --force, breaks.
    func refuseHeld(_ points: [PointRecord]) throws {
        let now = Timestamp.now.nanoseconds
        let held = points.filter { ($0.retainUntil ?? .min) > now }
        guard let first = held.first else { return }
        let short = try shortIDs()
        let ids = held.map { short[$0.id] ?? String($0.id.prefix(12)) }
        throw SnapdexError.pointHeld(ids: ids, until: TimeDisplay.retainUntil(Timestamp(nanoseconds: first.retainUntil!)),
                                     release: "snapdex point keep \(ids[0]) --release")
    }

    /// Sets (or with nil clears) a point's retain-until, rewriting its manifest atomically.
    public func keep(_ point: PointRecord, until: Timestamp?, wait: Double = 0) throws {
        try withWriterLock(wait: wait, scope: .source(point.source)) {
            try rewriteManifests([point], .retainUntil(until))
        }
    }

    /// Sets a source's policy for new indexes; with `applyToExisting`, also rewrites the policy
    /// stored in each of its manifests.
    public func setPolicy(source name: String, policy: RetentionPolicy, applyToExisting: Bool, wait: Double = 0) throws -> Int {
        try policy.validate()
        return try withWriterLock(wait: wait, scope: applyToExisting ? .exclusive : .source(name)) {
            _ = try source(named: name)
            var config = try loadSourceConfig(name)
            config.policy = policy.isEmpty ? nil : policy.text
            let points = applyToExisting ? try self.points(source: name) : []
            // All or nothing: every manifest is read before any file changes, and the journal
            // lets the next writer finish the rewrite if this one is killed.
            let zone = policy.isEmpty ? nil : policy.zone?.name
            try rewriteManifests(points, .policy(Manifest.settings(of: policy), zone: zone), policySource: name) { try saveSource(config) }
            return points.count
        }
    }

    /// Rewrites manifests in place (temp file, fsync, rename, fsync of the folder), then
    /// their database rows. The caller holds the lock.
    func rewriteManifests(_ points: [PointRecord], _ change: Journal.Change, policySource: String? = nil,
                          then finish: () throws -> Void = {}) throws {
        guard !points.isEmpty else { return try finish() }
        var updated: [(PointRecord, Manifest)] = []
        for p in points {
            var m = try manifest(of: p)
            change.apply(to: &m)
            updated.append((p, m))
        }
        try beginJournal(Journal(rewrites: points.map { .init(source: $0.source, id: $0.id) }, change: change, policySource: policySource))
        for (p, m) in updated {
            try FileIO.writeAtomically(manifestPath(source: p.source, id: p.id), m.encode(), durable: true)
            try crash(at: .midRewrite)
        }
        for s in Set(points.map(\.source)) { try FileIO.syncDirectory(sourceDirectory(s)) }
        try write { db in
            let update = CatalogueUpdate(db)
            for (p, m) in updated {
                let path = manifestPath(source: p.source, id: p.id)
                try update.add(m, manifestBytes: m.encode().count, stamp: ManifestFile.stamp(of: path) ?? "")
            }
            try update.finish()
        }
        try finish()
        endJournal()
    }
}
