"""What the browser tests share: Debian's Chromium, started with no network of its own, and the session's app served
on a free port (FAB allows one app per process)."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


class _Drained:
    """The app, counting the requests it is serving, so that the test waits for the last one before its database
    goes: a request thread still reading it then would crash the process (SQLite) or fail the next test. Once
    closed, any request still coming on a kept-alive connection is refused without touching the app."""

    def __init__(self, app) -> None:
        self.app, self.busy, self.closed = app, 0, False
        self.changed = threading.Condition()

    def __call__(self, environ, start_response):
        with self.changed:
            if self.closed:
                start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
                return [b"The test is over."]
            self.busy += 1
        try:
            answer = self.app(environ, start_response)
            try:
                return list(answer)  # the whole body made here, inside the count
            finally:
                if hasattr(answer, "close"):
                    answer.close()
        finally:
            with self.changed:
                self.busy -= 1
                self.changed.notify_all()

    def close(self, timeout: float) -> None:
        with self.changed:
            self.closed = True
            self.changed.wait_for(lambda: self.busy == 0, timeout)


@contextmanager
def served(app, name: str = "live-server") -> Iterator[str]:
    """The app on a free port in a thread of its own, for the duration: yields its address. At the end it waits for
    the requests in flight (the browser may still be loading something)."""
    from werkzeug.serving import make_server
    drained = _Drained(app)
    server = make_server("127.0.0.1", 0, drained, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        drained.close(timeout=10)
        server.shutdown()
        thread.join(timeout=10)


@contextmanager
def chromium_browser() -> Iterator:
    """Chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
