using System.CommandLine;
using EdgeAgent.Cli.Drift;
using EdgeAgent.Core.Bundles;
using EdgeAgent.Fleet.Bundles;
using EdgeAgent.Fleet.Keys;
using EdgeAgent.Fleet.Mqtt;
using Spectre.Console;

namespace EdgeAgent.Cli.Commands;

internal static class BundleCommands
{
    public static Command Create() => new("bundle", "Build, sign, verify and publish signed model bundles") { CreateCommand(), SignCommand(), VerifyCommand(), InspectCommand(), PublishCommand() };

    private static Command InspectCommand()
    {
        var file = new Argument<string>("file") { Description = "The .edgebundle file" };
        var json = CommonOptions.Json();
        var command = new Command("inspect", "Show a bundle's manifest and signatures WITHOUT verifying them (use 'bundle verify' to check)") { file, json };
        command.SetAction((parse, _) => CliRunner.GuardAsync(() =>
        {
            var (envelope, _, manifest) = UnverifiedManifest.Read(BundleArchive.ReadEnvelope(parse.GetValue(file)!));
            var signers = envelope.Signatures.Select(s => s.KeyId).ToList();
            if (parse.GetValue(json))
            {
                CliRunner.WriteJson(new { verified = false, payloadType = envelope.PayloadType, signatures = signers, manifest });
                return Task.FromResult(ExitCodes.Ok);
            }

            Console.WriteLine($"{manifest.Name} {manifest.Version} (NOT VERIFIED: run 'edgectl bundle verify' to check signatures and hashes)");
            Console.WriteLine($"  created {manifest.Created:O}{(manifest.Expires is { } e ? $", expires {e:O}" : ", never expires")}");
            Console.WriteLine($"  architectures: {(manifest.Architectures.Count == 0 ? "any" : string.Join(", ", manifest.Architectures))}; device types: {(manifest.DeviceTypes.Count == 0 ? "any" : string.Join(", ", manifest.DeviceTypes))}{(manifest.RollbackOf is null ? string.Empty : $"; rollback of {manifest.RollbackOf}")}");
            foreach (var f in manifest.Files ?? [])
            {
                Console.WriteLine($"  file {f.Path}: {f.Length} bytes, {f.Chunks?.Count ?? 0} chunk(s) of {f.ChunkSize}, sha256 {f.Sha256}{(f.Path == manifest.Model ? " (model)" : string.Empty)}");
            }

            foreach (var t in manifest.Inputs)
            {
                Console.WriteLine($"  input  {t.Name} {t.Datatype} [{string.Join(",", t.Shape)}]");
            }

            foreach (var t in manifest.Outputs)
            {
                Console.WriteLine($"  output {t.Name} {t.Datatype} [{string.Join(",", t.Shape)}]");
            }

            Console.WriteLine($"  {(manifest.Acceptance is { } a ? DescribeAcceptance(a, null) : $"acceptance: none ({BundleAcceptance.DefaultWarmupRuns} warm-up runs)")}");
            Console.WriteLine($"  {(manifest.Drift is { } d ? DescribeDrift(d) : "drift baseline: none (not monitored)")}");
            Console.WriteLine($"  signatures: {signers.Count} ({string.Join(", ", signers.Select(k => k.Length > 12 ? k[..12] : k))})");
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    private static Command SignCommand()
    {
        var file = new Argument<string>("file") { Description = "The .edgebundle file" };
        var key = new Option<string>("--key") { Description = "Private key PEM to add a signature with", Required = true };
        var output = new Option<string?>("--out") { Description = "Write the co-signed bundle here (default: replace FILE)" };
        var json = CommonOptions.Json();
        var command = new Command("sign", "Add a signature to a bundle (co-signing, for devices that need k of n keys)") { file, key, output, json };
        command.SetAction((parse, _) => CliRunner.GuardAsync(() =>
        {
            var path = parse.GetValue(file)!;
            using var signer = SigningKeys.LoadPrivate(parse.GetValue(key)!);
            var (manifest, count) = BundleCoSigner.AddSignature(path, signer, parse.GetValue(output) ?? path, DateTimeOffset.UtcNow);
            var keyId = Core.Bundles.KeyIds.Of(signer);
            if (parse.GetValue(json))
            {
                CliRunner.WriteJson(new { path = parse.GetValue(output) ?? path, name = manifest.Name, version = manifest.Version, keyid = keyId, signatures = count });
            }
            else
            {
                Console.WriteLine($"{parse.GetValue(output) ?? path}: {manifest.Name} {manifest.Version} now carries {count} signature(s) (added key {keyId[..12]})");
            }

            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    private static Command CreateCommand()
    {
        var model = new Option<string>("--model") { Description = "The ONNX model file", Required = true };
        var name = new Option<string>("--name") { Description = "Model name (lowercase letters, digits, . _ -)", Required = true };
        var version = new Option<string>("--version") { Description = "Semantic version, e.g. 1.0.0", Required = true };
        var key = new Option<string[]>("--key") { Description = "Private key PEM to sign with (repeat for several)", Required = true, AllowMultipleArgumentsPerToken = false };
        var output = new Option<string?>("--out") { Description = "Output file (default NAME-VERSION.edgebundle)" };
        var arch = new Option<string[]>("--arch") { Description = "Target architecture (x64, arm64); repeat; default any" };
        var expires = new Option<int?>("--expires-days") { Description = "Days until the manifest expires; default never" };
        var chunk = new Option<int>("--chunk-size") { Description = "Chunk size in bytes", DefaultValueFactory = _ => ChunkTable.DefaultChunkSize };
        var deviceType = new Option<string[]>("--device-type") { Description = "Target device type; repeat; default any" };
        var rollbackOf = new Option<string?>("--rollback-of") { Description = "Sign this older version as a deliberate rollback from VERSION (devices refuse downgrades otherwise)" };
        var acceptance = new Option<string?>("--acceptance") { Description = "Acceptance vectors (JSON: inputs with expected outputs) the device must reproduce before the model serves" };
        var tolerance = new Option<double?>("--tolerance") { Description = $"Absolute and relative tolerance for --acceptance outputs; default {BundleAcceptance.DefaultTolerance}" };
        var warmup = new Option<int?>("--warmup") { Description = $"Warm-up runs while staging, 0..{BundleAcceptance.MaxWarmupRuns}; default {BundleAcceptance.DefaultWarmupRuns}" };
        var baseline = new Option<string?>("--baseline") { Description = "Drift baseline data (CSV with a header row, or .npy): monitored input features and the model's outputs on it are signed into the manifest (docs/drift.md)" };
        var baselineFeatures = new Option<string[]>("--baseline-features") { Description = $"Input features to monitor: column indexes or ranges (0-7), CSV column names, INPUT[i], INPUT:mean, INPUT:std; comma-separated or repeated. Default: every value of the first input when a sample holds at most {FeatureSelection.MaxDefaultElements}, else mean and std of each input" };
        var baselineBins = new Option<int>("--baseline-bins") { Description = "Quantile bins per monitored feature", DefaultValueFactory = _ => Core.Drift.DriftBaseline.DefaultBins };
        var json = CommonOptions.Json();
        var command = new Command("create", "Build and sign NAME-VERSION.edgebundle from an ONNX model") { model, name, version, key, output, arch, deviceType, expires, chunk, rollbackOf, acceptance, tolerance, warmup, baseline, baselineFeatures, baselineBins, json };
        command.SetAction((parse, _) => CliRunner.GuardAsync(() =>
        {
            var baselinePath = parse.GetValue(baseline);
            if (baselinePath is null && (parse.GetResult(baselineFeatures) is { Implicit: false } || parse.GetResult(baselineBins) is { Implicit: false }))
            {
                return Task.FromResult(CliRunner.Fail(ExitCodes.Usage, "--baseline-features and --baseline-bins need --baseline DATA"));
            }

            var keys = parse.GetValue(key)!.Select(SigningKeys.LoadPrivate).ToList();
            try
            {
                var n = parse.GetValue(name)!;
                var v = parse.GetValue(version)!;
                var modelPath = parse.GetValue(model)!;
                OfflineDrift.Baseline? drift = null;
                if (baselinePath is not null)
                {
                    if (!File.Exists(modelPath))
                    {
                        throw new FileNotFoundException($"model not found: {modelPath}", modelPath);
                    }

                    drift = OfflineDrift.CreateBaseline(modelPath, baselinePath, parse.GetValue(baselineFeatures), parse.GetValue(baselineBins));
                }

                var result = BundleBuilder.Create(new BundleBuilder.Request
                {
                    ModelPath = modelPath,
                    Name = n,
                    Version = v,
                    Keys = keys,
                    OutPath = parse.GetValue(output) ?? $"{n}-{v}.edgebundle",
                    Architectures = parse.GetValue(arch) ?? [],
                    DeviceTypes = parse.GetValue(deviceType) ?? [],
                    ValidFor = parse.GetValue(expires) is { } days ? TimeSpan.FromDays(days) : null,
                    ChunkSize = parse.GetValue(chunk),
                    RollbackOf = parse.GetValue(rollbackOf),
                    AcceptancePath = parse.GetValue(acceptance),
                    Tolerance = parse.GetValue(tolerance),
                    WarmupRuns = parse.GetValue(warmup),
                    Drift = drift?.Drift,
                });
                if (parse.GetValue(json))
                {
                    CliRunner.WriteJson(new { path = result.Path, manifest = result.Manifest, driftNotes = drift?.Notes });
                }
                else
                {
                    var f = result.Manifest.ModelFile!;
                    Console.WriteLine($"{result.Path}: {n} {v}, {f.Length} bytes in {f.Chunks.Count} chunk(s), sha256 {f.Sha256}, signed by {keys.Count} key(s)");
                    if (result.Manifest.Acceptance is { } a)
                    {
                        Console.WriteLine($"  {DescribeAcceptance(a, result.AcceptanceVectors)}");
                    }

                    if (drift is not null)
                    {
                        Console.WriteLine($"  {DescribeDrift(drift.Drift)}");
                        foreach (var note in drift.Notes)
                        {
                            Console.WriteLine($"  note: {note}");
                        }
                    }
                }

                return Task.FromResult(ExitCodes.Ok);
            }
            finally
            {
                keys.ForEach(k => k.Dispose());
            }
        }));
        return command;
    }

    private static Command VerifyCommand()
    {
        var file = new Argument<string>("file") { Description = "The .edgebundle file" };
        var trust = new Option<string[]>("--trust") { Description = "Trusted public key PEM, a folder of them, or a root.json (repeat for several)", Required = true };
        var arch = new Option<string?>("--arch") { Description = "Also check the bundle targets this architecture" };
        var verifyDeviceType = new Option<string?>("--device-type") { Description = "Also check the bundle targets this device type" };
        var threshold = new Option<int?>("--threshold") { Description = "How many distinct --trust keys must have signed (k of n); default 1, or the threshold of a root.json given as --trust" };
        var json = CommonOptions.Json();
        var command = new Command("verify", "Verify a bundle's signature and every file's hashes, as a device would") { file, trust, arch, verifyDeviceType, threshold, json };
        command.SetAction((parse, _) => CliRunner.GuardAsync(() =>
        {
            using var keys = LoadTrust(parse.GetValue(trust)!);
            if (parse.GetValue(threshold) is { } k)
            {
                if (k < 1 || k > keys.Count)
                {
                    return Task.FromResult(CliRunner.Fail(ExitCodes.Usage, $"--threshold must be between 1 and the {keys.Count} distinct --trust key(s)"));
                }

                keys.Threshold = k;
            }
            var verified = BundleFileVerifier.Verify(parse.GetValue(file)!, keys, DateTimeOffset.UtcNow, new VerificationPolicy { Architecture = parse.GetValue(arch), DeviceType = parse.GetValue(verifyDeviceType) });
            var m = verified.Manifest;
            if (parse.GetValue(json))
            {
                CliRunner.WriteJson(new { ok = true, name = m.Name, version = m.Version, files = m.Files.Count, bytes = m.TotalLength, signedBy = verified.SignedBy, expires = m.Expires });
            }
            else
            {
                Console.WriteLine($"OK {m.Name} {m.Version}: {m.Files.Count} file(s), {m.TotalLength} bytes, signed by {(verified.SignedBy.Contains(',', StringComparison.Ordinal) ? "keys" : "key")} {string.Join(",", verified.SignedBy.Split(',').Select(k => k[..12]))}{(m.Expires is { } e ? $", expires {e:yyyy-MM-dd}" : string.Empty)}");
            }

            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    private static Command PublishCommand()
    {
        var file = new Argument<string>("file") { Description = "The .edgebundle file" };
        var broker = new BrokerOptions();
        var trust = new Option<string[]>("--trust") { Description = "Verify against these public keys before publishing" };
        var json = CommonOptions.Json();
        var command = new Command("publish", "Publish a bundle's chunks and manifest (retained) to the broker") { file, trust, json };
        broker.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliRunner.GuardAsync(async () =>
        {
            using var keys = parse.GetValue(trust) is { Length: > 0 } t ? LoadTrust(t) : null;
            await using var connection = await broker.ConnectAsync(parse, cancellationToken);
            var path = parse.GetValue(file)!;
            BundleManifest manifest;
            if (parse.GetValue(json) || Console.IsOutputRedirected)
            {
                manifest = await BundlePublisher.PublishAsync(connection, path, keys, null, cancellationToken);
            }
            else
            {
                manifest = null!;
                await AnsiConsole.Progress().StartAsync(async ctx =>
                {
                    var task = ctx.AddTask($"publishing {Path.GetFileName(path)}");
                    var progress = new Progress<BundlePublisher.Progress>(p =>
                    {
                        task.MaxValue = Math.Max(1, p.TotalBytes);
                        task.Value = p.BytesSent;
                    });
                    manifest = await BundlePublisher.PublishAsync(connection, path, keys, progress, cancellationToken);
                    task.Value = task.MaxValue;
                });
            }

            var chunks = manifest.Files.Sum(f => f.Chunks.Count);
            if (parse.GetValue(json))
            {
                CliRunner.WriteJson(new { name = manifest.Name, version = manifest.Version, chunks, bytes = manifest.TotalLength, manifestTopic = connection.Topics.Manifest(manifest.Name, manifest.Version) });
            }
            else
            {
                Console.WriteLine($"published {manifest.Name} {manifest.Version}: {chunks} chunk(s), {manifest.TotalLength} bytes, manifest on {connection.Topics.Manifest(manifest.Name, manifest.Version)}");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static string DescribeAcceptance(BundleAcceptance a, int? vectors)
    {
        var warmup = $"{a.WarmupRuns} warm-up run(s)";
        if (a.File is null)
        {
            return $"acceptance: no vectors, {warmup}";
        }

        var count = vectors is { } n ? $"{n} vector(s) in " : string.Empty;
        return $"acceptance: {count}{a.File}, tolerance {a.Tolerance.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}, {warmup}";
    }

    private static string DescribeDrift(Core.Drift.DriftBaseline d)
    {
        static string Names(IReadOnlyList<Core.Drift.DriftDistribution> list) =>
            list.Count == 0 ? "none" : list.Count <= 6 ? string.Join(", ", list.Select(e => e.Name)) : $"{string.Join(", ", list.Take(5).Select(e => e.Name))}, ... ({list.Count})";
        return $"drift baseline: {d.Samples} samples, {d.Bins} bins; features {Names(d.Features)}; outputs {Names(d.Outputs)}";
    }

    internal static TrustedKeys LoadTrust(IEnumerable<string> paths)
    {
        var keys = new TrustedKeys();

        // A folder stands for every .pem file in it (a private key among them is refused like any other).
        var files = paths.SelectMany(p => Directory.Exists(p) ? Directory.GetFiles(p, "*.pem").Order(StringComparer.Ordinal) : (IEnumerable<string>)[p]).ToList();
        if (files.Count == 0)
        {
            keys.Dispose();
            throw new FileNotFoundException("--trust names a folder without .pem files");
        }

        foreach (var path in files)
        {
            if (!File.Exists(path))
            {
                keys.Dispose();
                throw new FileNotFoundException($"public key not found: {path}", path);
            }

            try
            {
                var text = File.ReadAllText(path);
                if (text.TrimStart().StartsWith('{'))
                {
                    // A root.json: its keys, and its threshold unless --threshold says otherwise.
                    var root = Fleet.Keys.TrustRootFiles.Load(path, DateTimeOffset.UtcNow);
                    foreach (var key in root.Keys)
                    {
                        keys.AddPem(key.PublicKey);
                    }

                    keys.Threshold = root.Threshold;
                    continue;
                }

                keys.AddPem(text);
            }
            catch (System.Security.Cryptography.CryptographicException ex)
            {
                keys.Dispose();
                throw new System.Security.Cryptography.CryptographicException($"--trust {path}: {ex.Message}", ex);
            }
        }

        return keys;
    }
}
