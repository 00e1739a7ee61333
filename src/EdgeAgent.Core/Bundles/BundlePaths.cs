namespace EdgeAgent.Core.Bundles;

public static class BundlePaths
{
    /// <summary>True for a plain relative path such as <c>model.onnx</c> or <c>extra/labels.txt</c> that stays inside the bundle folder.</summary>
    public static bool IsSafeRelative(string? path)
    {
        if (string.IsNullOrEmpty(path) || path.Length > 255 || path.StartsWith('/') || path.Contains('\\', StringComparison.Ordinal) || path.Contains('\0', StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var part in path.Split('/'))
        {
            if (part.Length == 0 || part == "." || part == "..")
            {
                return false;
            }
        }

        return true;
    }
}
