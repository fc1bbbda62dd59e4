namespace TrackerService.Tests.Infrastructure;

/// <summary>The repository the tests were built from, found from the test binaries upwards.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
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
}
