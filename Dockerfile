# TrackerService image: SDK build stage, ASP.NET Core runtime stage, non-root, exec-form entrypoint.
# The base images are build arguments so that machines without a registry can build from local stand-ins
# (see .ci/); by default they are Microsoft's official images.
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0

FROM ${SDK_IMAGE} AS build
WORKDIR /src
# Restore first, on the project files alone, so the package layer is reused while only code changes.
COPY Directory.Build.props Directory.Packages.props ./
COPY src/TrackerService/TrackerService.csproj src/TrackerService/
RUN dotnet restore src/TrackerService/TrackerService.csproj
COPY src/TrackerService/ src/TrackerService/
RUN dotnet publish src/TrackerService/TrackerService.csproj -c Release -o /app --no-restore

FROM ${RUNTIME_IMAGE}
WORKDIR /app
COPY --from=build /app .
# data/ holds the SQLite store and the spill: owned by the app user, and a volume so a spill left at a
# shutdown deadline survives the container and is replayed by the next one.
RUN mkdir -p /app/data && chown "${APP_UID}" /app/data
VOLUME /app/data
ENV ASPNETCORE_HTTP_PORTS=8080 \
    Tracker__AdminUrl=http://0.0.0.0:8081 \
    DOTNET_ENVIRONMENT=Production
EXPOSE 8080 8081
USER ${APP_UID}
# No curl in the runtime image: bash's /dev/tcp asks the admin listener for readiness.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8081 && printf 'GET /healthz/ready HTTP/1.0\\r\\n\\r\\n' >&3 && head -1 <&3 | grep -q ' 200 '"]
# Exec form: the process is PID 1's child-free main process and receives SIGTERM itself.
ENTRYPOINT ["dotnet", "TrackerService.dll"]
