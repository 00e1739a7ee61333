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

        return new Command("keys", "Signing keys") { generate };
    }
}
