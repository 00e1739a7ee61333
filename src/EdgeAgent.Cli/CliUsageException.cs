namespace EdgeAgent.Cli;

/// <summary>A command-line mistake found while running (e.g. a TLS file that is missing): exit code 2 with one line.</summary>
internal sealed class CliUsageException(string message) : Exception(message);
