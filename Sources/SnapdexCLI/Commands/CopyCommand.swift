import ArgumentParser
import SnapdexCore

struct CopyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy restore points to another repository, sending only the blocks it lacks.",
        discussion: """
            Copies restore points of this repository (--repo) to the repository TARGET, a folder \
            or a repository on object storage (s3://BUCKET/PREFIX, file:///PATH), that is made a \
            repository (its bucket too) as `init` would when it is not one yet. Each point keeps its \
            id, time, kind, label and hold. Without POINTs, every point of the sources (all, or \
            those named with --source) that TARGET lacks is copied, oldest first, except points \
            older than TARGET's newest point of their source (its retention expired them there, \
            or they were left out before; name them to copy them): the chain grows forward, the \
            first copy sends everything and later ones only what is new.

            Which blocks TARGET already holds is read from this repository's archive index of \
            it (REPO/archive/TARGET-ID; this host's cache holds it for a repository on object \
            storage), never asked block by block; when TARGET deleted blocks \
            since (its expire, forget or gc raised its generation), or the index is missing or \
            damaged, TARGET's blocks are listed again. --rescan lists them anyway. A point is \
            published in TARGET (its manifest written) only after all its blocks are there, so a \
            copy killed at any instant leaves TARGET consistent, and running it again sends only \
            what is missing.

            Retention: `snapdex policy set --repo TARGET SOURCE ...` is the policy of the copies \
            of SOURCE in TARGET, stored in each point as it lands (its origin's policy is kept \
            beside it, shown by `info`). Without one, copies keep their origin's policy. \
            --expire runs TARGET's retention on the copied sources afterwards. Manual points stay \
            manual and held points stay held.

            The copy holds this repository's writer lock, and TARGET's while it sends (--wait \
            SECONDS waits for another writer, such as an index run, to finish); on object storage, \
            a copy of one source's points locks only that source there, so index runs of other \
            sources go on, and a copy with nothing new takes no lock there and costs two requests \
            (a GET of its config and a LIST of its catalogs). With --json, `requests` counts the \
            requests made to TARGET.

            Examples:
              snapdex copy --to /mnt/offsite/snapdex
              snapdex copy --to /mnt/offsite/snapdex --source home --dry-run
              snapdex copy --to /mnt/offsite/snapdex home@latest --json
              snapdex copy --to /mnt/offsite/snapdex --expire --wait 600
              snapdex copy --to s3://offsite/site-a --source home

            EXIT STATUS: 0 copied (or nothing to copy); 1 failure (what was copied stays; run the \
            command again to finish); 2 bad option; 3 a block or manifest to copy is damaged \
            (nothing damaged is sent), or a source's source.json is: that source's points are \
            not copied, every other source's are.
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var wait: WaitOptions
    @Option(help: ArgumentHelp("The repository to copy to: a folder, s3://BUCKET/PREFIX or file:///PATH (made a repository, and the bucket made, when it is not one).", valueName: "target"),
            completion: .directory)
    var to: String
    @Option(help: "Only this source's points (repeatable).", completion: .sourceName)
    var source: [String] = []
    @Argument(help: "The points to copy (default: every point the target lacks).", completion: .pointReference)
    var points: [String] = []
    @Flag(help: "Print what would be copied and sent; change nothing.")
    var dryRun = false
    @Flag(help: "Print one JSON object: what was copied and sent.")
    var json = false
    @Flag(help: "Apply the target's retention to the copied sources after copying.")
    var expire = false
    @Flag(help: "List the target's blocks again instead of trusting the archive index.")
    var rescan = false

    func validate() throws {
        try refuseEmptyPaths(["--to": to])
        if dryRun && expire { throw ValidationError("--expire changes the target and --dry-run changes nothing; give one of them") }
    }

    func run() throws {
        let repo = try repository.open()
        var options = CopyOptions(target: to)
        if case .objectStore(let url) = RepositoryAddress(to) {
            options.targetStore = try objectStore(url)
            options.targetCache = repository.cacheOptions
        }
        options.sources = source
        for reference in points {
            let p = try repo.resolveExactly(reference, nearest: false)
            if !options.points.contains(where: { $0.id == p.id }) { options.points.append(p) }
        }
        options.dryRun = dryRun
        options.wait = wait.wait
        options.expire = expire
        options.rescan = rescan
        let report = try repo.copy(options)
        if let why = report.rescanned { Log.info("listed the blocks of \(to): \(why)") }
        if !report.completed.isEmpty {
            Log.warning("\(report.completed.count) point(s) already in \(to) lacked some of their blocks; sent them: \(report.completed.map { String($0.id.prefix(12)) }.joined(separator: " "))")
        }
        let out = Output.current
        if json {
            var o = JSONObject()
            o.string("target", report.target)
            o.bool("dry_run", report.dryRun)
            o.bool("target_created", report.targetCreated)
            o.number("points_copied", report.copied.count)
            o.number("points_present", report.present.count)
            o.number("points_older", report.older.count)
            o.number("blocks_sent", report.blocksSent)
            o.number("bytes_sent", report.bytesSent)
            o.number("blocks_skipped", report.blocksSkipped)
            o.number("requests", report.requests.total)
            o.raw("requests_by_kind", json: StoreUsage.encoded(report.requests))
            // The one object carries the requests to this repository too, when it is on
            // object storage (those to the target are above).
            if let store = repo.mirror?.store { o.raw("repository_requests", json: StoreUsage.encoded(store.requestCounts())) }
            StoreUsage.reportedInJSON = true
            o.bool("rescanned", report.rescanned != nil)
            o.strings("copied", report.copied.map(\.id))
            o.number("expired", report.expired.values.map { $0.expired.count }.reduce(0, +))
            o.double("seconds", report.seconds)
            o.strings("sources_not_copied", report.skippedSources.map(\.source))
            out.line(bytes: o.encoded)
            try refuseSkipped(report)
            return
        }
        let verb = dryRun ? "would copy" : "copied"
        if dryRun || !Log.quiet {
            for p in report.copied {
                out.line("\(verb)  \(p.id.prefix(12))  \(p.source)  \(TimeDisplay.text(p.pointTime))")
            }
            let made = report.targetCreated ? (dryRun ? " (a new repository)" : " (made a new repository)") : ""
            let older = report.older.isEmpty ? "" : ", \(report.older.count) older than its newest (not copied unless named)"
            out.line("\(verb) \(report.copied.count) point(s) to \(report.target)\(made), \(report.present.count) already there\(older); "
                     + "\(dryRun ? "would send" : "sent") \(report.blocksSent) block(s) (\(report.bytesSent) bytes), "
                     + "\(report.blocksSkipped) already there" + (dryRun ? " (dry run: nothing changed)" : ""))
            for (s, e) in report.expired.sorted(by: { $0.key < $1.key }) {
                out.line("expired \(e.expired.count) point(s) of \(s) in \(report.target), kept \(e.kept)")
            }
        }
        Log.info("requests to \(to): \(report.requests.get) GET, \(report.requests.put) PUT, \(report.requests.list) LIST, "
                 + "\(report.requests.head) HEAD, \(report.requests.delete) DELETE; \(report.requests.bytesSent) bytes sent")
        try refuseSkipped(report)
    }

    /// Sources left out for a damaged source.json: named after what was copied, exit 3.
    private func refuseSkipped(_ report: CopyReport) throws {
        guard !report.skippedSources.isEmpty else { return }
        for (source, damage) in report.skippedSources {
            Output.current.error("snapdex: the points of source '\(source)' were not copied: \(damage)")
        }
        throw CommandExit(ExitStatus.damaged)
    }
}
