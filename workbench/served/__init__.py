"""The served side: one small service, written once as ASGI and once as WSGI, run under real
servers from PyPI (uvicorn, hypercorn, granian, gunicorn, waitress) and loaded by the workbench's
own fastest client, so that the question "async or threaded serving?" is answered the way `io`
answers it for clients.

- `apps`: the service's scenarios (hello, downstream, work, blocking-in-async), as plain callables
  and behind Starlette and Flask; what a request does is read from the environment, so every
  server starts it the same way.
- `configs`: each server configuration, the command line that starts it as users start it, and
  its concurrency limit (what bounds a threaded server at T x W / d).
- `process`: starting one configuration as an owned process, waiting for it to answer, and
  reading its CPU, memory and threads.
"""
