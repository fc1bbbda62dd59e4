using DotNet.Testcontainers.Builders;
using Npgsql;
using Testcontainers.PostgreSql;

namespace TrackerService.Tests.Infrastructure;

/// <summary>
/// One real PostgreSQL, started by Testcontainers, shared by the tests of a collection; each test gets a
/// database of its own. The image is <c>TRACKER_POSTGRES_IMAGE</c> (CI builds one locally, see
/// <c>.ci/docker-up.sh</c>), else the official image. Without Docker the tests are skipped, except under
/// <c>CI=true</c>, where they fail: CI must run them for real.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public const string DefaultImage = "postgres:15-alpine";

    private PostgreSqlContainer? _container;

    /// <summary>Why the tests can't run here, or null when PostgreSQL is up.</summary>
    public string? Unavailable { get; private set; }

    public PostgreSqlContainer Container => _container ?? throw new InvalidOperationException(Unavailable);

    public async Task InitializeAsync()
    {
        var image = Environment.GetEnvironmentVariable("TRACKER_POSTGRES_IMAGE") is { Length: > 0 } configured ? configured : DefaultImage;
        try
        {
            _container = new PostgreSqlBuilder(image).Build(); // finds the Docker endpoint, or throws
            await _container.StartAsync();
        }
        catch (DockerUnavailableException ex) when (!string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Unavailable = $"Docker is not available ({ex.Message}); run `source .ci/docker-up.sh` or start Docker to run the PostgreSQL tests.";
            _container = null;
        }
    }

    public async Task DisposeAsync()
    {
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }
    }

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        Skip.If(Unavailable is not null, Unavailable);
        var name = $"t_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(Container.GetConnectionString()))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(Container.GetConnectionString()) { Database = name }.ConnectionString;
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresDatabase : ICollectionFixture<PostgresFixture>
{
    public const string Name = "PostgreSQL";
}
