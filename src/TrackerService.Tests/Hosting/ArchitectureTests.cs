using System.Text.RegularExpressions;

namespace TrackerService.Tests.Hosting;

/// <summary>
/// The layout's rules (docs/design.md), read off the source tree so they stay true: the arrows between folders
/// point one way, files stay small, and nothing points outside the repository.
/// </summary>
public sealed partial class ArchitectureTests
{
    private const int MaxLines = 200;

    private static readonly string Root = RepositoryRoot();

    private static readonly string Service = Path.Combine(Root, "src", "TrackerService");

    [Fact]
    public void OnlyTheApiAndTheCompositionRootUseTheApiNamespace() =>
        AssertNone(SourceFiles().Where(f => Folder(f) is not ("Api" or "Hosting") && Uses(f, "Api")), "use TrackerService.Api");

    [Fact]
    public void OnlyTheCompositionRootUsesTheHostingNamespace() =>
        AssertNone(SourceFiles().Where(f => Folder(f) != "Hosting" && Uses(f, "Hosting")), "use TrackerService.Hosting");

    [Theory]
    [InlineData("Events")]
    [InlineData("Options")]
    public void TheLeavesUseNoOtherPartOfTheService(string leaf) =>
        AssertNone(SourceFiles().Where(f => Folder(f) == leaf && OtherParts(f, leaf).Any()), "use another TrackerService namespace");

    [Fact]
    public void EverySourceFileLivesInAFolderOfItsPart() =>
        AssertNone(SourceFiles().Where(f => Folder(f) is null), "sit at the project's root instead of in a part's folder");

    [Fact]
    public void NoSourceFileIsOverTwoHundredLinesUnlessItsClosingCommentSaysWhy() =>
        AssertNone(SourceFiles().Where(f =>
        {
            var lines = File.ReadAllLines(f);
            return lines.Length > MaxLines && !ClosingComment(lines).Contains("lines", StringComparison.OrdinalIgnoreCase);
        }), $"have more than {MaxLines} lines without a closing comment that says why");

    [Fact]
    public void NoFileReferencesAPathOutsideTheRepository() =>
        AssertNone(RepositoryTextFiles().Where(f => OutsidePath().IsMatch(File.ReadAllText(f))), "reference a path outside the repository");

    [Fact]
    public void TheRulesSeeTheWholeTree()
    {
        // A rule over no files would pass for the wrong reason.
        var folders = SourceFiles().Select(Folder).Distinct().ToList();
        foreach (var part in new[] { "Api", "Auth", "Events", "Pipeline", "Sinks", "Spill", "Lifecycle", "Telemetry", "Options", "Hosting" })
        {
            Assert.Contains(part, folders);
        }

        Assert.Contains(RepositoryTextFiles(), f => f.EndsWith("README.md", StringComparison.Ordinal));
    }

    private static IEnumerable<string> SourceFiles() =>
        Directory.EnumerateFiles(Service, "*.cs", SearchOption.AllDirectories).Where(f => !IsBuildOutput(f));

    private static IEnumerable<string> RepositoryTextFiles()
    {
        string[] kinds = ["*.cs", "*.md", "*.yml", "*.yaml", "*.json", "*.sh", "*.py", "*.lua", "*.csproj", "*.props", "Dockerfile", "run"];
        return kinds.SelectMany(kind => Directory.EnumerateFiles(Root, kind, SearchOption.AllDirectories))
            .Where(f => !IsBuildOutput(f) && !f.Contains($"{Path.DirectorySeparatorChar}.git{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}node_modules{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}TestResults{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"results{Path.DirectorySeparatorChar}run-", StringComparison.Ordinal)
                && !f.EndsWith(nameof(ArchitectureTests) + ".cs", StringComparison.Ordinal));
    }

    private static bool IsBuildOutput(string file) =>
        file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
        || file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal);

    /// <summary>The part a source file belongs to: its first folder under the project, or null at the project's root.</summary>
    private static string? Folder(string file)
    {
        var relative = Path.GetRelativePath(Service, file).Split(Path.DirectorySeparatorChar);
        return relative.Length > 1 ? relative[0] : null;
    }

    private static bool Uses(string file, string part) =>
        Regex.IsMatch(File.ReadAllText(file), $@"\bTrackerService\.{part}\b(?!\w)");

    /// <summary>The TrackerService namespaces a file names, other than its own part's.</summary>
    private static IEnumerable<string> OtherParts(string file, string own) =>
        ServiceNamespace().Matches(File.ReadAllText(file)).Select(m => m.Groups[1].Value).Where(part => part != own);

    private static string ClosingComment(string[] lines)
    {
        var last = lines.Reverse().SkipWhile(string.IsNullOrWhiteSpace).TakeWhile(l => l.TrimStart().StartsWith("//", StringComparison.Ordinal));
        return string.Join(" ", last);
    }

    private static void AssertNone(IEnumerable<string> offenders, string rule)
    {
        var list = offenders.Select(f => Path.GetRelativePath(Root, f)).Order(StringComparer.Ordinal).ToList();
        Assert.True(list.Count == 0, $"These files {rule}: {string.Join(", ", list)}");
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "TrackerService.slnx")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No TrackerService.slnx above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"\bTrackerService\.(\w+)")]
    private static partial Regex ServiceNamespace();

    /// <summary>A path that leaves the repository: up into a sibling folder, or an absolute path of this machine's.</summary>
    [GeneratedRegex(@"\.\./shared\b|(?<![\w.])/work/|(?<![\w.])/root/")]
    private static partial Regex OutsidePath();
}
