"""SkinGorithm's server: ``streamlit run serve.py`` (run.sh does this). The app itself is app.py; this
wraps it in Streamlit's ASGI ``App`` so every request, HTTP and WebSocket, first passes the Host
allow-list (skin_app/access.py), and so the opt-in phone mode can open its own listener.
``SKINGORITHM_PHONE=1`` (``bash run.sh --phone``) turns phone mode on at start."""
from __future__ import annotations

import asyncio
import os
import sys
from contextlib import asynccontextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from starlette.middleware import Middleware  # noqa: E402
from streamlit.starlette import App  # noqa: E402

from skin_app import access  # noqa: E402
from skin_app.config import data_dir  # noqa: E402


def announce(mode: access.PhoneMode) -> None:
    """The phone link and its QR code in the terminal, with what it opens."""
    import segno
    print("\n  Phone mode is ON: phones on this network that scan this code can use SkinGorithm (every profile's "
          "scans, shelf and routines).", flush=True)
    print(f"  Link: {mode.url}", flush=True)
    if not mode.https:
        print("  No openssl here, so the link is plain HTTP: on the phone, take photos through Upload "
              "(it offers the phone's camera); the live camera needs HTTPS.", flush=True)
    segno.make(mode.url, error="m").terminal(compact=True)
    print("  Turn it off in Settings & privacy, or stop the app (Ctrl+C).\n", flush=True)


@asynccontextmanager
async def lifespan(_app):
    from skin_app.preload import shared
    shared(os.environ.get("SKINGORITHM_MODEL"))       # the model loads while the browser opens
    access.attach(app, asyncio.get_running_loop())
    if os.environ.get("SKINGORITHM_PHONE") == "1":
        from streamlit import config
        try:
            announce(await access.turn_on_async(int(config.get_option("server.port")), data_dir()))
        except access.PhoneModeError as exc:
            print(f"\n  Phone mode stays off: {exc}\n", flush=True)
    try:
        yield
    finally:
        if access.phone_mode() is not None:
            await access.turn_off_async()


app = App("app.py", lifespan=lifespan, middleware=[Middleware(access.HostAllowList)])

if __name__ == "__main__":
    app.run()
