using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using EdgeAgent.Cli.Drift;
using EdgeAgent.Core.Bundles;
using EdgeAgent.Core.Drift;
using Spectre.Console;

namespace EdgeAgent.Cli.Commands;

/// <summary><c>edgectl drift compare</c>: a data set against a bundle's signed drift baseline, offline (docs/drift.md).</summary>
internal static class DriftCommands
{
    public static Command Create() => new("drift", "Check data against a bundle's drift baseline, offline") { CompareCommand() };

    private static Command CompareCommand()
    {
        var bundle = new Option<string>("--bundle") { Description = "The .edgebundle file whose baseline to compare with", Required = true };
        var data = new Option<string>("--data") { Description = "Current data: CSV with a header row (the baseline's columns) or .npy", Required = true };
        var trust = new Option<string[]>("--trust") { Description = "Check the bundle's signature against these public keys, a folder of them, or a root.json (without it the signature is not checked; the model's hash always is)" };
        var minSamples = new Option<int>("--min-samples") { Description = "Fewer values than this for a feature make it 'insufficient', as on a device (Drift:MinSamples)", DefaultValueFactory = _ => DriftTracker.DefaultMinSamples };
        var json = CommonOptions.Json();
        var command = new Command("compare", $"PSI, Jensen-Shannon distance and KS of DATA against the bundle's baseline, per feature and output; exit {ExitCodes.DriftDetected} when any is in drift") { bundle, data, trust, minSamples, json };
        command.SetAction((parse, _) => CliRunner.GuardAsync(() =>
        {
            if (parse.GetValue(minSamples) < 1)
            {
                return Task.FromResult(CliRunner.Fail(ExitCodes.Usage, "--min-samples must be at least 1"));
            }

            var bundlePath = parse.GetValue(bundle)!;
            var dataPath = parse.GetValue(data)!;
            var trusted = parse.GetValue(trust) is { Length: > 0 } t ? t : null;
            var manifest = ReadManifest(bundlePath, trusted);
            if (manifest.Drift is null)
            {
                return Task.FromResult(CliRunner.Fail(ExitCodes.Error, $"{bundlePath}: {manifest.Name} {manifest.Version} carries no drift baseline (build it with 'edgectl bundle create --baseline DATA')"));
            }

            var work = Directory.CreateTempSubdirectory("edgectl-drift-").FullName;
            try
            {
                var modelPath = ExtractModel(bundlePath, manifest, work);
                var comparison = OfflineDrift.Compare(manifest, modelPath, dataPath, parse.GetValue(minSamples));
                var report = comparison.Report;
                if (parse.GetValue(json))
                {
                    CliRunner.WriteJson(new
                    {
                        bundle = bundlePath,
                        name = manifest.Name,
                        version = manifest.Version,
                        verified = trusted is not null,
                        data = dataPath,
                        rows = comparison.Rows,
                        baselineSamples = manifest.Drift.Samples,
                        minSamples = parse.GetValue(minSamples),
                        state = report.State,
                        thresholds = manifest.Drift.Thresholds,
                        features = report.Features.Select(Entry),
                        outputs = report.Outputs.Select(Entry),
                        notes = comparison.Notes,
                    });
                }
                else
                {
                    Print(manifest, dataPath, trusted is not null, comparison);
                }

                return Task.FromResult(report.State == DriftState.Drift ? ExitCodes.DriftDetected : ExitCodes.Ok);
            }
            finally
            {
                Directory.Delete(work, recursive: true);
            }
        }));
        return command;
    }

    private static object Entry(DriftEntryReport e) => new { name = e.Name, count = e.Count, nan = e.NaN, psi = e.Psi, js = e.Js, ks = e.Ks, state = e.State };

    /// <summary>The manifest, signature-checked against <paramref name="trust"/> when given; its own rules always (expiry aside: old bundles are fine to compare with).</summary>
    private static BundleManifest ReadManifest(string bundlePath, string[]? trust)
    {
        var envelope = BundleArchive.ReadEnvelope(bundlePath);
        var policy = new VerificationPolicy { IgnoreExpiry = true };
        if (trust is not null)
        {
            using var keys = BundleCommands.LoadTrust(trust);
            return ManifestVerifier.Verify(envelope, keys, policy, DateTimeOffset.UtcNow);
        }

        var manifest = UnverifiedManifest.Read(envelope).Manifest;
        ManifestVerifier.CheckRules(manifest, policy, DateTimeOffset.UtcNow);
        return manifest;
    }

    /// <summary>Copies the model out of the bundle into <paramref name="folder"/>, checking its length and sha256 against the manifest.</summary>
    private static string ExtractModel(string bundlePath, BundleManifest manifest, string folder)
    {
        var path = Path.Combine(folder, "model.onnx");
        var found = false;
        BundleArchive.ForEachFile(bundlePath, manifest, (file, stream) =>
        {
            if (file.Path != manifest.Model)
            {
                return;
            }

            using var target = File.Create(path);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[81920];
            int read;
            while ((read = stream.Read(buffer)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                target.Write(buffer, 0, read);
            }

            if (target.Length != file.Length || Convert.ToHexStringLower(hash.GetHashAndReset()) != file.Sha256)
            {
                throw new BundleRejectedException(RejectionReason.HashMismatch, $"'{file.Path}' does not match its sha256 in the manifest");
            }

            found = true;
        });
        return found ? path : throw new BundleRejectedException(RejectionReason.MalformedManifest, $"{bundlePath} does not hold the model file '{manifest.Model}'");
    }

    private static void Print(BundleManifest manifest, string dataPath, bool verified, OfflineDrift.Comparison comparison)
    {
        var drift = manifest.Drift!;
        var report = comparison.Report;
        var table = new Table().AddColumns("", "name", "values", "psi", "js", "ks", "state");
        foreach (var (kind, entries) in new[] { ("feature", report.Features), ("output", report.Outputs) })
        {
            foreach (var e in entries)
            {
                table.AddRow(
                    kind,
                    Markup.Escape(e.Name),
                    e.NaN > 0 ? $"{e.Count} (+{e.NaN} NaN)" : e.Count.ToString(CultureInfo.InvariantCulture),
                    Score(e.Psi, drift.Thresholds.Psi),
                    Score(e.Js, drift.Thresholds.Js),
                    Score(e.Ks, drift.Thresholds.Ks),
                    e.State switch
                    {
                        DriftState.Drift => "[red]drift[/]",
                        DriftState.Insufficient => "[yellow]insufficient[/]",
                        _ => "ok",
                    });
            }
        }

        AnsiConsole.Write(table);
        var t = drift.Thresholds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"thresholds raise/clear: psi {t.Psi.Raise}/{t.Psi.Clear}, js {t.Js.Raise}/{t.Js.Clear}, ks {t.Ks.Raise}/{t.Ks.Clear}"));
        foreach (var note in comparison.Notes)
        {
            Console.WriteLine($"note: {note}");
        }

        var against = $"{comparison.Rows} row(s) of {dataPath} against {manifest.Name} {manifest.Version}'s baseline ({drift.Samples} samples{(verified ? ", signature verified" : ", signature NOT checked: give --trust")})";
        var drifted = report.Features.Concat(report.Outputs).Where(e => e.State == DriftState.Drift).Select(e => e.Name).ToList();
        Console.WriteLine(report.State switch
        {
            DriftState.Drift => $"DRIFT in {drifted.Count} of {report.Features.Count + report.Outputs.Count} ({string.Join(", ", drifted)}): {against}",
            DriftState.Insufficient => $"insufficient data, nothing decided: {against}",
            _ => $"no drift: {against}",
        });
    }

    private static string Score(double? value, DriftThreshold threshold) => value switch
    {
        null => "-",
        { } v when v >= threshold.Raise => $"[red]{v.ToString("0.0000", CultureInfo.InvariantCulture)}[/]",
        { } v => v.ToString("0.0000", CultureInfo.InvariantCulture),
    };
}
