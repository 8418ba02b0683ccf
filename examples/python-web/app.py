"""A tiny WSGI app served by waitress: GET / answers a known text. Listens on $PORT (8080)."""

import os

from waitress import serve

GREETING = b"Hello from pypack python-web!\n"


def app(environ, start_response):
    """Answer every request with the greeting."""
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"),
                              ("Content-Length", str(len(GREETING)))])
    return [GREETING]


if __name__ == "__main__":
    serve(app, host="0.0.0.0", port=int(os.environ.get("PORT", "8080")))
