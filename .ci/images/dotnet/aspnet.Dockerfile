# A local stand-in for mcr.microsoft.com/dotnet/aspnet:10.0 with the official image's contract
# (APP_UID 1654, ASPNETCORE_HTTP_PORTS 8080), built from this machine's runtime. Context: see .ci/dotnet-images.sh.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libicu72 libssl3 zlib1g libstdc++6 libgcc-s1 tzdata \
    && rm -rf /var/lib/apt/lists/*
COPY dotnet/ /usr/share/dotnet/
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet \
    && groupadd --gid 1654 app && useradd --uid 1654 --gid 1654 --no-create-home --shell /bin/false app
ENV APP_UID=1654 ASPNETCORE_HTTP_PORTS=8080 DOTNET_RUNNING_IN_CONTAINER=true
