using System.Text.Json;

namespace EdgeAgent.Cli.Tests;

public sealed class BundleCommandTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("edgectl-test-").FullName;

    private static string Model => Path.Combine(AppContext.BaseDirectory, "samples", "vibration.onnx");

    private static string Acceptance => Path.Combine(AppContext.BaseDirectory, "samples", "acceptance.json");

    [Fact]
    public async Task Keys_bundle_create_and_verify_work_together()
    {
        var keys = await Edgectl.RunAsync("keys", "generate", "--out", _work, "--name", "ops", "--json");
        Assert.Equal(0, keys.Code);
        Assert.True(File.Exists(Path.Combine(_work, "ops.key.pem")));
        var bundle = Path.Combine(_work, "vibration-1.2.0.edgebundle");

        var create = await Edgectl.RunAsync("bundle", "create", "--model", Model, "--name", "vibration", "--version", "1.2.0", "--key", Path.Combine(_work, "ops.key.pem"), "--out", bundle);
        Assert.Equal(0, create.Code);

        var verify = await Edgectl.RunAsync("bundle", "verify", bundle, "--trust", Path.Combine(_work, "ops.pub.pem"));
        Assert.Equal(0, verify.Code);
        Assert.StartsWith("OK vibration 1.2.0", verify.Stdout.Trim(), StringComparison.Ordinal);
        Assert.Single(verify.Stdout.Trim().Split('\n'));
    }

    [Fact]
    public async Task Verify_refuses_a_tampered_bundle_with_exit_3_and_one_line()
    {
        await Edgectl.RunAsync("keys", "generate", "--out", _work);
        var bundle = Path.Combine(_work, "b.edgebundle");
        await Edgectl.RunAsync("bundle", "create", "--model", Model, "--name", "vibration", "--version", "1.0.0", "--key", Path.Combine(_work, "release.key.pem"), "--out", bundle);
        var bytes = await File.ReadAllBytesAsync(bundle, TestContext.Current.CancellationToken);
        var model = await File.ReadAllBytesAsync(Model, TestContext.Current.CancellationToken);
        var at = bytes.AsSpan().IndexOf(model.AsSpan(0, 64));
        Assert.True(at > 0);
        bytes[at + 100] ^= 0x01;
        await File.WriteAllBytesAsync(bundle, bytes, TestContext.Current.CancellationToken);

        var verify = await Edgectl.RunAsync("bundle", "verify", bundle, "--trust", Path.Combine(_work, "release.pub.pem"));

        Assert.Equal(3, verify.Code);
        Assert.StartsWith("edgectl: rejected: hash-mismatch:", verify.Stderr.Trim(), StringComparison.Ordinal);
        Assert.Single(verify.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public async Task Verify_with_the_wrong_key_says_unknown_key()
    {
        await Edgectl.RunAsync("keys", "generate", "--out", _work, "--name", "a");
        await Edgectl.RunAsync("keys", "generate", "--out", _work, "--name", "b");
        var bundle = Path.Combine(_work, "b.edgebundle");
        await Edgectl.RunAsync("bundle", "create", "--model", Model, "--name", "vibration", "--version", "1.0.0", "--key", Path.Combine(_work, "a.key.pem"), "--out", bundle);

        var verify = await Edgectl.RunAsync("bundle", "verify", bundle, "--trust", Path.Combine(_work, "b.pub.pem"), "--json");

        Assert.Equal(3, verify.Code);
        Assert.Contains("unknown-key", verify.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_with_a_missing_model_is_one_line_not_a_stack_trace()
    {
        await Edgectl.RunAsync("keys", "generate", "--out", _work);

        var create = await Edgectl.RunAsync("bundle", "create", "--model", Path.Combine(_work, "none.onnx"), "--name", "vibration", "--version", "1.0.0", "--key", Path.Combine(_work, "release.key.pem"));

        Assert.Equal(1, create.Code);
        Assert.Equal($"edgectl: model not found: {Path.Combine(_work, "none.onnx")}", create.Stderr.Trim());
    }

    [Fact]
    public async Task Status_without_an_agent_says_so_with_exit_4()
    {
        var status = await Edgectl.RunAsync("status", "--socket", Path.Combine(_work, "none.sock"));

        Assert.Equal(4, status.Code);
        Assert.StartsWith($"edgectl: cannot reach the agent at {Path.Combine(_work, "none.sock")}", status.Stderr.Trim(), StringComparison.Ordinal);
        Assert.Single(status.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public async Task Keys_generate_output_is_valid_json_with_a_keyid()
    {
        var keys = await Edgectl.RunAsync("keys", "generate", "--out", _work, "--json");

        using var doc = JsonDocument.Parse(keys.Stdout);
        Assert.Matches("^[0-9a-f]{64}$", doc.RootElement.GetProperty("keyid").GetString());
    }

    [Fact]
    public async Task Deploy_refuses_a_device_id_with_mqtt_wildcards()
    {
        var deploy = await Edgectl.RunAsync("deploy", "--device", "dev/+", "--model", "m", "--version", "1.0.0", "--broker", "mqtt://127.0.0.1:1");

        Assert.Equal(2, deploy.Code);
        Assert.StartsWith("edgectl: --device 'dev/+' is not a device id", deploy.Stderr.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_people_co_sign_and_verify_with_a_threshold_of_two()
    {
        await Edgectl.RunAsync("keys", "generate", "--out", _work, "--name", "alice");
        await Edgectl.RunAsync("keys", "generate", "--out", _work, "--name", "bob");
        var bundle = Path.Combine(_work, "b.edgebundle");
        await Edgectl.RunAsync("bundle", "create", "--model", Model, "--name", "vibration", "--version", "1.0.0", "--key", Path.Combine(_work, "alice.key.pem"), "--out", bundle);
        string[] trust = ["--trust", Path.Combine(_work, "alice.pub.pem"), "--trust", Path.Combine(_work, "bob.pub.pem"), "--threshold", "2"];

        var before = await Edgectl.RunAsync(["bundle", "verify", bundle, .. trust]);
        Assert.Equal(3, before.Code);
        Assert.Contains("below-threshold", before.Stderr, StringComparison.Ordinal);

        var sign = await Edgectl.RunAsync("bundle", "sign", bundle, "--key", Path.Combine(_work, "bob.key.pem"));
        Assert.True(sign.Code == 0, sign.Stderr);
        var after = await Edgectl.RunAsync(["bundle", "verify", bundle, .. trust]);
        Assert.True(after.Code == 0, after.Stderr);
        Assert.Contains("signed by keys", after.Stdout, StringComparison.Ordinal);

        var again = await Edgectl.RunAsync("bundle", "sign", bundle, "--key", Path.Combine(_work, "bob.key.pem"));
        Assert.Equal(1, again.Code);
        Assert.Contains("already signed", again.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Root_rotation_drill_with_edgectl_revokes_the_old_key()
    {
        foreach (var name in new[] { "old", "ops1", "ops2" })
        {
            await Edgectl.RunAsync("keys", "generate", "--out", _work, "--name", name);
        }

        string Pub(string n) => Path.Combine(_work, $"{n}.pub.pem");
        string Key(string n) => Path.Combine(_work, $"{n}.key.pem");
        var v1 = Path.Combine(_work, "root-v1.json");
        var v2 = Path.Combine(_work, "root-v2.json");
        var first = await Edgectl.RunAsync("keys", "rotate", "--key", Pub("old"), "--key", Pub("ops1"), "--threshold", "1", "--sign", Key("old"), "--out", v1);
        Assert.True(first.Code == 0, first.Stderr);
        var bundle = Path.Combine(_work, "b.edgebundle");
        await Edgectl.RunAsync("bundle", "create", "--model", Model, "--name", "vibration", "--version", "1.0.0", "--key", Key("old"), "--out", bundle);
        Assert.Equal(0, (await Edgectl.RunAsync("bundle", "verify", bundle, "--trust", v1)).Code);

        // Rotation without a signature by the current root's keys is refused before anything is written.
        var unauthorised = await Edgectl.RunAsync("keys", "rotate", "--current", v1, "--key", Pub("ops1"), "--key", Pub("ops2"), "--sign", Key("ops2"), "--out", v2);
        Assert.Equal(3, unauthorised.Code);
        Assert.False(File.Exists(v2));

        var rotate = await Edgectl.RunAsync("keys", "rotate", "--current", v1, "--key", Pub("ops1"), "--key", Pub("ops2"), "--threshold", "1", "--sign", Key("ops1"), "--out", v2);
        Assert.True(rotate.Code == 0, rotate.Stderr);
        var show = await Edgectl.RunAsync("keys", "show", v2, "--json");
        using (var doc = System.Text.Json.JsonDocument.Parse(show.Stdout))
        {
            Assert.Equal(2, doc.RootElement.GetProperty("version").GetInt32());
        }

        var revoked = await Edgectl.RunAsync("bundle", "verify", bundle, "--trust", v2);
        Assert.Equal(3, revoked.Code);
        Assert.Contains("unknown-key", revoked.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inspect_shows_the_manifest_and_says_it_is_not_verified()
    {
        await Edgectl.RunAsync("keys", "generate", "--out", _work);
        var bundle = Path.Combine(_work, "b.edgebundle");
        await Edgectl.RunAsync("bundle", "create", "--model", Model, "--name", "vibration", "--version", "4.2.0", "--key", Path.Combine(_work, "release.key.pem"), "--device-type", "pump-v2", "--out", bundle);

        var text = await Edgectl.RunAsync("bundle", "inspect", bundle);
        var json = await Edgectl.RunAsync("bundle", "inspect", bundle, "--json");

        Assert.Equal(0, text.Code);
        Assert.StartsWith("vibration 4.2.0 (NOT VERIFIED", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("input  features FP32 [-1,8]", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("  acceptance: none (3 warm-up runs)", text.Stdout, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.False(doc.RootElement.GetProperty("verified").GetBoolean());
        Assert.Equal("pump-v2", doc.RootElement.GetProperty("manifest").GetProperty("deviceTypes")[0].GetString());
    }

    [Fact]
    public async Task Verify_accepts_a_folder_of_public_keys()
    {
        var trusted = Directory.CreateDirectory(Path.Combine(_work, "trusted")).FullName;
        await Edgectl.RunAsync("keys", "generate", "--out", _work, "--name", "signer");
        await Edgectl.RunAsync("keys", "generate", "--out", _work, "--name", "other");
        File.Copy(Path.Combine(_work, "signer.pub.pem"), Path.Combine(trusted, "signer.pub.pem"));
        File.Copy(Path.Combine(_work, "other.pub.pem"), Path.Combine(trusted, "other.pub.pem"));
        var bundle = Path.Combine(_work, "b.edgebundle");
        await Edgectl.RunAsync("bundle", "create", "--model", Model, "--name", "vibration", "--version", "1.0.0", "--key", Path.Combine(_work, "signer.key.pem"), "--out", bundle);

        var verify = await Edgectl.RunAsync("bundle", "verify", bundle, "--trust", trusted);

        Assert.True(verify.Code == 0, verify.Stderr);
    }

    [Fact]
    public async Task Deploy_names_a_bad_version_before_connecting()
    {
        var deploy = await Edgectl.RunAsync("deploy", "--device", "dev-1", "--model", "vibration", "--version", "1.0", "--broker", "mqtt://127.0.0.1:1");

        Assert.Equal(2, deploy.Code);
        Assert.StartsWith("edgectl: --version '1.0' is not a semantic version", deploy.Stderr.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bundle_create_refuses_a_version_with_build_metadata()
    {
        await Edgectl.RunAsync("keys", "generate", "--out", _work);

        var create = await Edgectl.RunAsync("bundle", "create", "--model", Model, "--name", "vibration", "--version", "1.0.0+build.5", "--key", Path.Combine(_work, "release.key.pem"), "--out", Path.Combine(_work, "b.edgebundle"));

        Assert.Equal(1, create.Code);
        Assert.Contains("build metadata", create.Stderr, StringComparison.Ordinal);
        Assert.Single(create.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public async Task Verify_refuses_a_private_key_given_as_trust()
    {
        await Edgectl.RunAsync("keys", "generate", "--out", _work);
        var bundle = Path.Combine(_work, "b.edgebundle");
        await Edgectl.RunAsync("bundle", "create", "--model", Model, "--name", "vibration", "--version", "1.0.0", "--key", Path.Combine(_work, "release.key.pem"), "--out", bundle);

        var verify = await Edgectl.RunAsync("bundle", "verify", bundle, "--trust", Path.Combine(_work, "release.key.pem"));

        Assert.Equal(1, verify.Code);
        Assert.Contains("a private key, not a public key", verify.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_with_acceptance_round_trips_through_verify_and_inspect()
    {
        await Edgectl.RunAsync("keys", "generate", "--out", _work);
        var bundle = Path.Combine(_work, "b.edgebundle");

        var create = await Edgectl.RunAsync("bundle", "create", "--model", Model, "--name", "vibration", "--version", "1.0.0", "--key", Path.Combine(_work, "release.key.pem"), "--acceptance", Acceptance, "--tolerance", "0.001", "--warmup", "5", "--out", bundle);
        var verify = await Edgectl.RunAsync("bundle", "verify", bundle, "--trust", Path.Combine(_work, "release.pub.pem"));
        var text = await Edgectl.RunAsync("bundle", "inspect", bundle);
        var json = await Edgectl.RunAsync("bundle", "inspect", bundle, "--json");

        Assert.True(create.Code == 0, create.Stderr);
        Assert.Equal("  acceptance: 4 vector(s) in acceptance.json, tolerance 0.001, 5 warm-up run(s)", create.Stdout.TrimEnd().Split('\n')[1]);
        Assert.True(verify.Code == 0, verify.Stderr);
        Assert.StartsWith("OK vibration 1.0.0: 2 file(s)", verify.Stdout, StringComparison.Ordinal);
        Assert.Contains($"  file acceptance.json: {new FileInfo(Acceptance).Length} bytes", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("  acceptance: acceptance.json, tolerance 0.001, 5 warm-up run(s)", text.Stdout, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(json.Stdout);
        var acceptance = doc.RootElement.GetProperty("manifest").GetProperty("acceptance");
        Assert.Equal("acceptance.json", acceptance.GetProperty("file").GetString());
        Assert.Equal(0.001, acceptance.GetProperty("tolerance").GetDouble());
        Assert.Equal(5, acceptance.GetProperty("warmupRuns").GetInt32());
    }

    [Fact]
    public async Task Create_refuses_an_acceptance_file_with_unknown_inputs_in_one_line()
    {
        await Edgectl.RunAsync("keys", "generate", "--out", _work);
        var acceptance = Path.Combine(_work, "acceptance.json");
        await File.WriteAllTextAsync(acceptance, (await File.ReadAllTextAsync(Acceptance, TestContext.Current.CancellationToken)).Replace("\"features\"", "\"feat\"", StringComparison.Ordinal), TestContext.Current.CancellationToken);
        var bundle = Path.Combine(_work, "b.edgebundle");

        var create = await Edgectl.RunAsync("bundle", "create", "--model", Model, "--name", "vibration", "--version", "1.0.0", "--key", Path.Combine(_work, "release.key.pem"), "--acceptance", acceptance, "--out", bundle);

        Assert.Equal(1, create.Code);
        Assert.Equal($"edgectl: acceptance file {acceptance}: vector 'normal': input 'feat' is not an input of the model (it has 'features' FP32 [-1,8])", create.Stderr.Trim());
        Assert.False(File.Exists(bundle));
    }

    [Fact]
    public async Task Create_refuses_a_tolerance_without_acceptance_vectors()
    {
        await Edgectl.RunAsync("keys", "generate", "--out", _work);

        var create = await Edgectl.RunAsync("bundle", "create", "--model", Model, "--name", "vibration", "--version", "1.0.0", "--key", Path.Combine(_work, "release.key.pem"), "--tolerance", "0.01", "--out", Path.Combine(_work, "b.edgebundle"));

        Assert.Equal(1, create.Code);
        Assert.Equal("edgectl: a tolerance applies to acceptance vectors: give an acceptance file (--acceptance) too", create.Stderr.Trim());
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
