using System.Globalization;

namespace TrackerService.Tests.Infrastructure;

/// <summary>
/// The <see cref="NginxBalancer"/>'s <c>nginx.conf</c>: everything nginx writes stays in the fixture's folder, the
/// upstream group is the compose deployment's (deploy/nginx/nginx.conf) on loopback ports, and a second server on its
/// own port says which config generation its worker runs, so that a reload can be waited for.
/// </summary>
internal static class NginxConfig
{
    public static string Render(string folder, int port, int probePort, int workers, IEnumerable<Uri> upstreams, int generation, string errorLog)
    {
        // A replica that failed once is left out for 2 s (nginx's default is 10 s), so that one restarted is back soon.
        var servers = string.Concat(upstreams.Select(u => $"\n        server {u.Authority} max_fails=1 fail_timeout=2s;"));
        var proxyRules = Path.Combine(Repository.Root, "deploy", "nginx", "tracker-proxy.conf");
        return string.Create(CultureInfo.InvariantCulture, $$"""
            worker_processes {{workers}};
            pid {{folder}}/nginx.pid;
            error_log {{errorLog}} warn;
            events {
                worker_connections 4096;
            }
            http {
                access_log off;
                client_body_temp_path {{folder}}/client_body;
                proxy_temp_path {{folder}}/proxy;
                fastcgi_temp_path {{folder}}/fastcgi;
                uwsgi_temp_path {{folder}}/uwsgi;
                scgi_temp_path {{folder}}/scgi;
                upstream intake {{{servers}}
                    keepalive 32;
                }
                server {
                    listen 127.0.0.1:{{port}};
                    location / {
                        include {{proxyRules}};
                        add_header {{NginxBalancer.UpstreamHeader}} $upstream_addr always;
                        proxy_pass http://intake;
                    }
                }
                server {
                    listen 127.0.0.1:{{probePort}};
                    location = /generation {
                        return 200 "{{generation}}";
                    }
                }
            }
            """);
    }
}
