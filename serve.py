"""SkinGorithm's server: ``streamlit run serve.py`` (run.sh does this). The app itself is app.py; this
wraps it in Streamlit's ASGI ``App`` so every request, HTTP and WebSocket, first passes the Host and
Origin checks and the upload bound (skin_app/access.py), and so the opt-in phone mode can open its own
listener. ``SKINGORITHM_PHONE=1`` (``bash run.sh --phone``) turns phone mode on at start.

Three things Streamlit would otherwise do are stopped here: it looks up this computer's address on the
internet (``net_util.get_external_ip``: a blocking request to checkip.amazonaws.com, for its start-up
banner and as a last resort in its origin check), against "no outside connection"; and it keeps a
browser tab's uploaded photos in memory after the tab has gone (until its session expires, and for
good once it has), against "the original upload is never stored"; and it drops its answer to a browser's
request for upload addresses when a page run starts before the answer is sent, so a file chosen just then is
never listed and the uploader waits for good (``keep_upload_address_answers``)."""
from __future__ import annotations

import asyncio
import os
import sys
from contextlib import asynccontextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from starlette.middleware import Middleware
from streamlit import config, net_util
from streamlit.starlette import App

from skin_app import access, parse_lock
from skin_app.config import data_dir
from skin_app.history.export import in_own_format
from skin_app.limits import MAX_FILE_BYTES, MAX_IMPORT_BYTES
from skin_app.scan.imaging import MAX_BYTES


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


def no_external_ip() -> None:
    """Stands in for Streamlit's external address lookup: the app never asks an outside host anything."""
    return None


net_util.get_external_ip = no_external_ip


def keep_upload_address_answers() -> None:
    """Streamlit 1.60 empties a session's outgoing queue when a new run starts, keeping only its lifecycle
    messages. A browser that has just been handed a file asks for upload addresses (``file_urls_request``)
    and lists the file only once the answer (``file_urls_response``) arrives; an answer still queued when
    a run starts (a click a moment before the file was chosen) was dropped, and the uploader then showed
    nothing and waited for good. Seen in tests/test_browser_e2e.py on a loaded machine; the answer is
    never stale (the browser is waiting for it), so it is kept through the clear."""
    from streamlit.runtime.forward_msg_queue import ForwardMsgQueue
    clear = ForwardMsgQueue.clear
    if getattr(clear, "keeps_upload_address_answers", False):
        return

    def clear_keeping_answers(self, retain_lifecycle_msgs: bool = False,
                              fragment_ids_this_run: list[str] | None = None) -> None:
        answers = [msg for msg in self._queue if msg.WhichOneof("type") == "file_urls_response"]
        clear(self, retain_lifecycle_msgs, fragment_ids_this_run)
        self._queue.extend(msg for msg in answers if all(kept is not msg for kept in self._queue))

    clear_keeping_answers.keeps_upload_address_answers = True  # type: ignore[attr-defined]
    ForwardMsgQueue.clear = clear_keeping_answers  # type: ignore[method-assign]


keep_upload_address_answers()
parse_lock.take_turns()       # Streamlit compiles pages on many threads, the model loader parses on its own


def release_uploads() -> None:
    """Drops the uploads of every browser session that is no longer connected (HostAllowList calls it
    on the event loop whenever a tab's connection ends). A tab that reconnects chooses its photo again."""
    from streamlit.runtime import Runtime
    if not Runtime.exists():
        return
    runtime = Runtime.instance()
    manager = runtime.uploaded_file_mgr
    for session_id in list(getattr(manager, "file_storage", {})):
        if not runtime.is_active_session(session_id):
            manager.remove_session_files(session_id)


# What a browser may upload, from the limits the engine reads: a photo or a lone scans .csv up to their own
# limit, a file in the app's own backup formats (a JSON or ZIP export) up to the import limit, so a backup of
# any size the app writes restores from the page. Each body may carry the multipart envelope around the file.
# Streamlit's own check (server.maxUploadSize, whole MB) is set from the same numbers; each uploader tells the
# browser its own limit (app_pages: max_upload_size), so a person hears it before anything is sent.
ENVELOPE_BYTES = 64 * 1024
SMALL_UPLOAD_BYTES = max(MAX_BYTES, MAX_FILE_BYTES) + ENVELOPE_BYTES
LARGE_UPLOAD_BYTES = MAX_IMPORT_BYTES + ENVELOPE_BYTES
UPLOAD_LIMIT_MB = -(-LARGE_UPLOAD_BYTES // (1024 * 1024))


def apply_upload_limit() -> None:
    """Streamlit's upload limit from limits.py, now and each time Streamlit re-reads a changed config.toml."""
    config.set_option("server.maxUploadSize", UPLOAD_LIMIT_MB, "serve.py (skin_app/limits.py: MAX_IMPORT_BYTES)")


config.on_config_parsed(apply_upload_limit, force_connect=True)
apply_upload_limit()


@asynccontextmanager
async def lifespan(_app):
    from skin_app.scan.preload import shared
    shared(os.environ.get("SKINGORITHM_MODEL"))       # the model loads while the browser opens
    access.attach(app, asyncio.get_running_loop())
    if os.environ.get("SKINGORITHM_PHONE") == "1":
        try:
            announce(await access.turn_on_async(int(config.get_option("server.port")), data_dir()))
        except access.PhoneModeError as exc:
            print(f"\n  Phone mode stays off: {exc}\n", flush=True)
    try:
        yield
    finally:
        if access.phone_mode() is not None:
            await access.turn_off_async()


app = App("app.py", lifespan=lifespan,
          middleware=[Middleware(access.HostAllowList, max_body=SMALL_UPLOAD_BYTES, large_body=LARGE_UPLOAD_BYTES,
                                 large_when=in_own_format, on_websocket_closed=release_uploads)])

if __name__ == "__main__":
    app.run()
