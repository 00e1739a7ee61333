using System.Globalization;
using System.Security;
using System.Text;

namespace EdgeAgent.Bench;

/// <summary>
/// A small SVG line chart for benchmark reports (latency distributions, progress over time): series of points, linear
/// or log-10 x axis, ticks, a legend and optional vertical markers. Plain SVG 1.1 with no script or external
/// resources, so GitHub and every browser show it inline in docs/benchmarks.md.
/// </summary>
internal sealed class SvgChart
{
    private const double Width = 720;
    private const double Height = 400;
    private const double Left = 70;
    private const double Right = 180;
    private const double Top = 40;
    private const double Bottom = 50;
    private static readonly string[] Palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];

    private readonly List<(string Name, IReadOnlyList<(double X, double Y)> Points, bool Step)> _series = [];
    private readonly List<(double X, string Label)> _markers = [];

    public required string Title { get; init; }

    public required string XLabel { get; init; }

    public required string YLabel { get; init; }

    public bool LogX { get; init; }

    public double? YMax { get; init; }

    public SvgChart Add(string name, IReadOnlyList<(double X, double Y)> points, bool step = false)
    {
        _series.Add((name, points, step));
        return this;
    }

    public SvgChart Marker(double x, string label)
    {
        _markers.Add((x, label));
        return this;
    }

    /// <summary>
    /// The empirical distribution of <paramref name="sortedSamples"/> as (value, share of samples at or below it),
    /// thinned to at most <paramref name="points"/> points.
    /// </summary>
    public static List<(double X, double Y)> Cdf(IReadOnlyList<double> sortedSamples, int points = 200)
    {
        var result = new List<(double, double)>();
        if (sortedSamples.Count == 0)
        {
            return result;
        }

        for (var i = 0; i < points; i++)
        {
            var q = (i + 1) / (double)points;
            var index = Math.Min(sortedSamples.Count - 1, (int)Math.Ceiling(q * sortedSamples.Count) - 1);
            result.Add((sortedSamples[Math.Max(0, index)], q));
        }

        return result;
    }

    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, Render());
    }

    public string Render()
    {
        var all = _series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y) && (!LogX || p.X > 0)).ToList();
        var xs = all.Select(p => p.X).Concat(_markers.Select(m => m.X)).DefaultIfEmpty(1).ToList();
        double xMin = xs.Min(), xMax = xs.Max();
        if (LogX)
        {
            xMin = Math.Pow(10, Math.Floor(Math.Log10(xMin)));
            xMax = Math.Pow(10, Math.Ceiling(Math.Log10(xMax)));
        }
        else
        {
            xMin = Math.Min(0, xMin);
            xMax = xMax <= xMin ? xMin + 1 : xMax;
        }

        var yMax = YMax ?? Math.Max(all.Select(p => p.Y).DefaultIfEmpty(1).Max(), 1e-9) * 1.05;
        double X(double x) => Left + ((LogX ? (Math.Log10(x) - Math.Log10(xMin)) / (Math.Log10(xMax) - Math.Log10(xMin)) : (x - xMin) / (xMax - xMin)) * (Width - Left - Right));
        double Y(double y) => Height - Bottom - (y / yMax * (Height - Top - Bottom));

        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"12\">\n"));
        svg.Append(Invariant($"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>\n"));
        svg.Append(Invariant($"<text x=\"{Width / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{Escape(Title)}</text>\n"));

        // Axes and ticks.
        svg.Append(Invariant($"<line x1=\"{Left}\" y1=\"{Height - Bottom}\" x2=\"{Width - Right}\" y2=\"{Height - Bottom}\" stroke=\"black\"/>\n"));
        svg.Append(Invariant($"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Height - Bottom}\" stroke=\"black\"/>\n"));
        foreach (var tick in XTicks(xMin, xMax))
        {
            var x = X(tick);
            svg.Append(Invariant($"<line x1=\"{x:0.#}\" y1=\"{Top}\" x2=\"{x:0.#}\" y2=\"{Height - Bottom}\" stroke=\"#e0e0e0\"/>\n"));
            svg.Append(Invariant($"<text x=\"{x:0.#}\" y=\"{Height - Bottom + 16}\" text-anchor=\"middle\">{Number(tick)}</text>\n"));
        }

        for (var i = 0; i <= 5; i++)
        {
            var value = yMax * i / 5;
            var y = Y(value);
            svg.Append(Invariant($"<line x1=\"{Left}\" y1=\"{y:0.#}\" x2=\"{Width - Right}\" y2=\"{y:0.#}\" stroke=\"#e0e0e0\"/>\n"));
            svg.Append(Invariant($"<text x=\"{Left - 6}\" y=\"{y + 4:0.#}\" text-anchor=\"end\">{Number(value)}</text>\n"));
        }

        svg.Append(Invariant($"<text x=\"{(Left + Width - Right) / 2}\" y=\"{Height - 12}\" text-anchor=\"middle\">{Escape(XLabel)}</text>\n"));
        svg.Append(Invariant($"<text x=\"16\" y=\"{(Top + Height - Bottom) / 2}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {(Top + Height - Bottom) / 2})\">{Escape(YLabel)}</text>\n"));

        foreach (var (x, label) in _markers)
        {
            var px = X(x);
            svg.Append(Invariant($"<line x1=\"{px:0.#}\" y1=\"{Top}\" x2=\"{px:0.#}\" y2=\"{Height - Bottom}\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>\n"));
            svg.Append(Invariant($"<text x=\"{px + 3:0.#}\" y=\"{Top + 12}\" fill=\"#555\" font-size=\"10\">{Escape(label)}</text>\n"));
        }

        for (var s = 0; s < _series.Count; s++)
        {
            var (name, points, step) = _series[s];
            var colour = Palette[s % Palette.Length];
            var path = new StringBuilder();
            (double X, double Y)? previous = null;
            foreach (var p in points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y) && (!LogX || p.X > 0)))
            {
                if (previous is { } prev && step)
                {
                    path.Append(Invariant($" L{X(p.X):0.##},{Y(prev.Y):0.##}"));
                }

                path.Append(Invariant($"{(previous is null ? "M" : " L")}{X(p.X):0.##},{Y(p.Y):0.##}"));
                previous = p;
            }

            svg.Append(Invariant($"<path d=\"{path}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>\n"));
            var ly = Top + 10 + (s * 18);
            svg.Append(Invariant($"<line x1=\"{Width - Right + 12}\" y1=\"{ly}\" x2=\"{Width - Right + 32}\" y2=\"{ly}\" stroke=\"{colour}\" stroke-width=\"3\"/>\n"));
            svg.Append(Invariant($"<text x=\"{Width - Right + 36}\" y=\"{ly + 4}\">{Escape(name)}</text>\n"));
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private IEnumerable<double> XTicks(double min, double max)
    {
        if (LogX)
        {
            for (var decade = Math.Log10(min); decade <= Math.Log10(max) + 1e-9; decade++)
            {
                yield return Math.Pow(10, decade);
            }

            yield break;
        }

        var step = NiceStep((max - min) / 6);
        for (var t = Math.Ceiling(min / step) * step; t <= max + 1e-9; t += step)
        {
            yield return t;
        }
    }

    private static double NiceStep(double raw)
    {
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(Math.Max(raw, 1e-12))));
        var fraction = raw / magnitude;
        return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude;
    }

    private static string Number(double value) => Math.Abs(value) >= 1000 || value == 0 || Math.Abs(value) >= 1 && value == Math.Round(value)
        ? value.ToString("#,0", CultureInfo.InvariantCulture)
        : value.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Escape(string text) => SecurityElement.Escape(text) ?? string.Empty;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
