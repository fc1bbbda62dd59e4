using TrackerService.Benchmarks;

// bench/run will grow the other figures (issue 6); today: the PostgreSQL write path against its baseline.
//   dotnet run -c Release --project bench/TrackerService.Benchmarks -- postgres "Host=…;Username=…;Database=…" [batches] [batchSize] [rounds]
if (args is ["postgres", var connectionString, ..])
{
    var batches = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 50;
    var batchSize = args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 1000;
    var rounds = args.Length > 4 ? int.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture) : 3;
    await PostgresWriteBenchmark.RunAsync(connectionString, batches, batchSize, rounds);
    return 0;
}

Console.Error.WriteLine("usage: TrackerService.Benchmarks postgres <connection string> [batches=50] [batchSize=1000] [rounds=3]");
return 2;
