import ArgumentParser

/// `confound`: the headless client. Every subcommand starts `confound-host` and works through it.
struct Confound: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "confound",
    abstract: "Audit high-content microscopy screens for bias and confounding.",
    discussion: "Each command starts confound-host and talks JSON-RPC to it over pipes, as an editor or a notebook would.",
    version: "0.1.0",
    subcommands: [AuditCommand.self, SimulateCommand.self, ScreenCommand.self, ExportCommand.self, MergeCommand.self, PluginsCommand.self, CallCommand.self, FocusCommand.self, SegmentCommand.self, EmbedCommand.self, ProbeCommand.self, ExplainCommand.self, ProjectCommand.self, DesignCommand.self, ReportCommand.self])
}

Confound.main()
