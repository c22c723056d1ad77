import ArgumentParser
public struct SnapdexCommand: ParsableCommand { public init() {} }
