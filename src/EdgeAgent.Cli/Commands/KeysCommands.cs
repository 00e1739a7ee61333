using System.CommandLine;
using EdgeAgent.Fleet.Keys;

namespace EdgeAgent.Cli.Commands;

internal static class KeysCommands
{
    public static Command Create()
    {
        var outDir = new Option<string>("--out") { Description = "Folder for NAME.key.pem and NAME.pub.pem", Required = true };
        var name = new Option<string>("--name") { Description = "Key name", DefaultValueFactory = _ => "release" };
        var force = new Option<bool>("--force") { Description = "Replace existing files" };
        var json = CommonOptions.Json();
        var generate = new Command("generate", "Generate an EC P-256 signing key pair (PKCS#8 private key, SPKI public key)") { outDir, name, force, json };
        generate.SetAction((parse, _) => CliRunner.GuardAsync(() =>
        {
            var files = SigningKeys.Generate(parse.GetValue(outDir)!, parse.GetValue(name)!, parse.GetValue(force));
            if (parse.GetValue(json))
            {
                CliRunner.WriteJson(new { privateKey = files.PrivateKeyPath, publicKey = files.PublicKeyPath, keyid = files.KeyId });
            }
            else
            {
                Console.WriteLine($"private key: {files.PrivateKeyPath} (keep secret)");
                Console.WriteLine($"public key:  {files.PublicKeyPath} (install on devices under Trust:PublicKeys)");
                Console.WriteLine($"keyid:       {files.KeyId}");
            }

            return Task.FromResult(ExitCodes.Ok);
        }));

        return new Command("keys", "Signing keys and trust roots") { generate, RotateCommand(), ShowCommand() };
    }

    private static Command RotateCommand()
    {
        var current = new Option<string?>("--current") { Description = "The root.json in force (omit to make a first root)" };
        var key = new Option<string[]>("--key") { Description = "Public key PEM of the new root (repeat for each key)", Required = true };
        var threshold = new Option<int>("--threshold") { Description = "Signatures the new root requires (k of n)", DefaultValueFactory = _ => 1 };
        var sign = new Option<string[]>("--sign") { Description = "Private key PEM that signs (repeat): a threshold of the current root's keys and of the new root's keys", Required = true };
        var expires = new Option<int?>("--expires-days") { Description = "Days until the root expires; default never" };
        var output = new Option<string>("--out") { Description = "Where to write the new root.json", Required = true };
        var json = CommonOptions.Json();
        var command = new Command("rotate", "Make a first root.json or the next one (keys, threshold, version), checked as devices will check it") { current, key, threshold, sign, expires, output, json };
        command.SetAction((parse, _) => CliRunner.GuardAsync(() =>
        {
            var signers = parse.GetValue(sign)!.Select(SigningKeys.LoadPrivate).ToList();
            try
            {
                var root = TrustRootFiles.Write(new TrustRootFiles.Request
                {
                    CurrentPath = parse.GetValue(current),
                    PublicKeyPaths = parse.GetValue(key)!,
                    Threshold = parse.GetValue(threshold),
                    Signers = signers,
                    ValidFor = parse.GetValue(expires) is { } days ? TimeSpan.FromDays(days) : null,
                    OutPath = parse.GetValue(output)!,
                });
                if (parse.GetValue(json))
                {
                    CliRunner.WriteJson(new { path = parse.GetValue(output), version = root.Version, threshold = root.Threshold, keys = root.Keys.Select(k => k.KeyId), expires = root.Expires });
                }
                else
                {
                    Console.WriteLine($"{parse.GetValue(output)}: root v{root.Version}, {root.Threshold} of {root.Keys.Count} key(s): {string.Join(", ", root.Keys.Select(k => k.KeyId[..12]))}");
                }

                return Task.FromResult(ExitCodes.Ok);
            }
            finally
            {
                signers.ForEach(s => s.Dispose());
            }
        }));
        return command;
    }

    private static Command ShowCommand()
    {
        var file = new Argument<string>("file") { Description = "A public key PEM, a private key PEM or a root.json" };
        var json = CommonOptions.Json();
        var command = new Command("show", "Show a key's id, or a root.json's version, threshold and keys") { file, json };
        command.SetAction((parse, _) => CliRunner.GuardAsync(() =>
        {
            var path = parse.GetValue(file)!;
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"file not found: {path}", path);
            }

            var text = File.ReadAllText(path);
            if (text.TrimStart().StartsWith('{'))
            {
                var root = TrustRootFiles.Load(path, DateTimeOffset.UtcNow);
                if (parse.GetValue(json))
                {
                    CliRunner.WriteJson(new { kind = "root", version = root.Version, threshold = root.Threshold, keys = root.Keys.Select(k => k.KeyId), expires = root.Expires });
                }
                else
                {
                    Console.WriteLine($"root v{root.Version} (signed by a threshold of its own keys), {root.Threshold} of {root.Keys.Count} key(s){(root.Expires is { } e ? $", expires {e:yyyy-MM-dd}" : string.Empty)}");
                    foreach (var k in root.Keys)
                    {
                        Console.WriteLine($"  {k.KeyId}");
                    }
                }

                return Task.FromResult(ExitCodes.Ok);
            }

            using var key = System.Security.Cryptography.ECDsa.Create();
            key.ImportFromPem(text);
            var kind = text.Contains("PRIVATE KEY-----", StringComparison.Ordinal) ? "private key" : "public key";
            if (parse.GetValue(json))
            {
                CliRunner.WriteJson(new { kind, keyid = Core.Bundles.KeyIds.Of(key) });
            }
            else
            {
                Console.WriteLine($"{kind} {Core.Bundles.KeyIds.Of(key)}");
            }

            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }
}
