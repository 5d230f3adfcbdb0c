"""A tiny localhost HTTP server for download tests (no internet needed).

    with serve({"/data.zip": Route(zip_bytes)}) as server:
        download_file(server.url("/data.zip"), dest)
        assert server.requests["/data.zip"] == 1
"""
from __future__ import annotations

import contextlib
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator, Mapping


@dataclass(frozen=True)
class Route:
    """What the server answers for one path.

    ``declared_length`` lets a test announce more bytes than it sends and then
    close the connection, which is what an interrupted download looks like.
    """

    body: bytes
    declared_length: int | None = None
    status: int = 200


@dataclass
class RunningServer:
    port: int
    requests: Counter = field(default_factory=Counter)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())


@contextlib.contextmanager
def serve(routes: Mapping[str, Route]) -> Iterator[RunningServer]:
    """Serve ``routes`` on 127.0.0.1 at a free port in a background thread."""
    lock = threading.Lock()
    requests: Counter = Counter()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection, closed afterwards

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            with lock:
                requests[self.path] += 1
            route = routes.get(self.path)
            if route is None:
                self.send_error(404, "Not Found")
                return
            self.send_response(route.status)
            length = route.declared_length if route.declared_length is not None else len(route.body)
            self.send_header("Content-Length", str(length))
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            self.wfile.write(route.body)
            self.wfile.flush()
            self.close_connection = True

        def log_message(self, format: str, *args) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield RunningServer(port=server.server_address[1], requests=requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def build_zip(members: Mapping[str, bytes]) -> bytes:
    """A zip archive (deflated) holding ``{member name: bytes}``, built in memory."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def names_zip_members(names_dir, prefix: str = "data/names/") -> dict[str, bytes]:
    """The 18 shared ``Language.txt`` files as zip members under ``prefix``."""
    return {f"{prefix}{path.name}": path.read_bytes() for path in sorted(names_dir.glob("*.txt"))}
