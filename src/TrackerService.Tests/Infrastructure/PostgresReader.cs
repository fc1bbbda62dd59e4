using Npgsql;

namespace TrackerService.Tests.Infrastructure;

/// <summary>Reads a PostgreSQL store's <c>events</c> table, as <see cref="StoreReader"/> reads a SQLite one.</summary>
internal static class PostgresReader
{
    public static async Task<long> CountAsync(string connectionString)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var count = dataSource.CreateCommand("SELECT count(*) FROM events");
        return (long)(await count.ExecuteScalarAsync())!;
    }

    /// <summary>Every stored messageId.</summary>
    public static async Task<HashSet<string>> IdsAsync(string connectionString)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var query = dataSource.CreateCommand("SELECT message_id FROM events");
        await using var reader = await query.ExecuteReaderAsync();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }
}
