"""Local mock servers: HTTP/1.1 keep-alive (`servers.http`) and TCP echo (`servers.echo`).

They bind 127.0.0.1 by default, print `READY <url>` once they accept connections, and print one
JSON line with what they served and their own CPU seconds when stopped with SIGTERM or SIGINT.
"""
