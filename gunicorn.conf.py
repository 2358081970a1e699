"""gunicorn's settings, read by every gunicorn started in this folder (`make run` starts one).

The sign-in rate limits (app/identity/sign_in.py) are counted in RATELIMIT_STORAGE_URI. In memory, the default, each
process counts on its own: two processes would allow twice the tries. So with the counts in memory one process serves
every request, with threads; with a shared store (Redis) there are WORKERS processes. More than one process with the
counts in memory (asked for with --workers) is refused at start.
"""
import os

from config import Config

COUNTS_IN_MEMORY = Config.RATELIMIT_STORAGE_URI.startswith("memory://")

workers = 1 if COUNTS_IN_MEMORY else int(os.environ.get("WORKERS", "2"))
threads = int(os.environ.get("THREADS", "8"))


def on_starting(server):
    if COUNTS_IN_MEMORY and server.cfg.workers > 1:
        raise SystemExit("The sign-in rate limits are counted in memory (RATELIMIT_STORAGE_URI is memory://), which "
                         "holds within one process only: run one worker (with threads), or set "
                         "RATELIMIT_STORAGE_URI to a Redis server for several.")
