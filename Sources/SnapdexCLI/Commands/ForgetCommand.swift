import ArgumentParser
import SnapdexCore

struct ForgetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Remove indexes by hand, whatever the policy.",
        discussion: """
            Removes each named point's manifest and database rows, then every block no \
            remaining index references, and prints the id, source and time of each point removed. \
            Other indexes are never affected: each is a full catalog.

            A point is named exactly: by an id prefix, SOURCE@latest, or SOURCE@TIME where TIME is \
            the point's time (to the second). A TIME between points is refused, naming the nearest \
            point at or before it; --nearest removes that one. A SOURCE@TIME that several points \
            share (two schedules at one instant) is refused, listing their ids.

            A held point (`snapdex point keep ID --until ...`) is not removed: the command is \
            refused, naming the hold and the command that releases it, unless --force.

            Examples:
              snapdex forget home@2026-11-02T03:00:00Z --dry-run
              snapdex forget 3fa9c1d2 7be01c44
              snapdex forget home@2026-11-02 --nearest

            EXIT STATUS: 0 removed (or, with --dry-run, listed); 1 unknown point, or a held point \
            without --force; 2 a time that is not a point's, a reference that names several \
            points, or a bad option.
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var wait: WaitOptions
    @Argument(help: "The points to remove.", completion: .pointReference)
    var points: [String]
    @Flag(help: "Let SOURCE@TIME name the newest point at or before TIME.")
    var nearest = false
    @Flag(help: "Print the points that would be removed; change nothing.")
    var dryRun = false
    @Flag(help: "Remove held points too (see point keep).")
    var force = false

    func validate() throws {
        if points.isEmpty { throw ValidationError("name at least one point") }
    }

    func run() throws {
        let repo = try repository.open()
        var records: [PointRecord] = []
        for reference in points {
            let p = try repo.resolveExactly(reference, nearest: nearest)
            if !records.contains(where: { $0.id == p.id }) { records.append(p) }
        }
        let short = try repo.shortIDs()
        let (forgotten, freed) = try repo.forget(records, dryRun: dryRun, force: force, wait: wait.wait)
        let out = Output.current
        let width = Format.idWidth(forgotten.map(\.id), short: short)
        for p in forgotten where dryRun || !Log.quiet {
            out.line("\(dryRun ? "would forget" : "forgot")  \(p.id.prefix(width))  \(p.source)  \(TimeDisplay.exactText(p.pointTime))")
        }
        if dryRun || !Log.quiet { out.line(dryRun ? "would forget \(forgotten.count) index(es) (dry run: nothing changed)"
                        : "forgot \(forgotten.count) index(es), \(freed) blocks freed") }
    }
}
