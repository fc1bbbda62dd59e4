# A local stand-in for mcr.microsoft.com/dotnet/sdk:10.0, built from this machine's own .NET install,
# for machines that can't reach a registry. Context: see .ci/dotnet-images.sh.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libicu72 libssl3 zlib1g libstdc++6 libgcc-s1 tzdata \
    && rm -rf /var/lib/apt/lists/*
COPY certificates/ /usr/local/share/ca-certificates/
RUN update-ca-certificates
COPY dotnet/ /usr/share/dotnet/
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 NUGET_CERT_REVOCATION_MODE=offline
