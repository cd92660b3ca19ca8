"""Batch analysis: many photo files -> one Parquet table, one row per photo, resumable.

Each photo's result is exactly what ``analyze --json`` prints for it (``scan.record.analyze_file``, the
same function): the row keeps that object as its ``json`` column and spreads it into columns a
pandas or DuckDB user can query (``scores.acne``, ``words.overall``, ``metrics.skin_ita``,
``metrics.per_region.forehead.acne``, ...). A photo that cannot be analysed is a row too, with
``ok`` false, its ``code``, ``error`` and ``error_advice``.

On disk, for ``--out RESULTS.parquet``: while a run goes, results are committed in parts
(``RESULTS.parquet.parts/part-000001.parquet``, ...), each written to a temporary name and renamed
into place, so a part is either whole or absent whatever moment the process dies. When every photo is
done, the parts and any earlier ``RESULTS.parquet`` are merged into a new ``RESULTS.parquet`` (again by
rename) and the parts removed. A run reads what is already there (final file and parts) and skips the
photos scored with the same model version, so a run killed at any point and started again finishes
with every photo exactly once: a photo is keyed by (``photo`` as given, ``view``), and the merge keeps
one row per key, the newest.

Who does the work is the caller's choice (``analyze_photos``): ``Analyzer`` is one loaded model, used
by the one-process run (``--local``) and, one per actor, by the Ray run (``on_ray``).
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from skin_app.errors import UserFacingError
from skin_app.scan.imaging import PHOTO_SUFFIXES
from skin_app.scan.record import analyze_file, dumps

KEY = ("photo", "view")
PART_PHOTOS = 200           # a part is committed after this many photos ...
PART_SECONDS = 30.0         # ... or this long, whichever comes first: a kill loses at most this much work
RECORD_SECTIONS = ("scores", "words", "metrics", "timings_ms")


class BatchError(UserFacingError):
    """A batch that cannot start: no photos, an unreadable list, an output in use or not ours."""

    def __init__(self, message: str, advice: str = "", code: str = "batch") -> None:
        super().__init__(message, advice, code)


# -- which photos ----------------------------------------------------------------------------------
def photo_list(paths: Sequence[str | Path], from_list: str | Path | None = None) -> list[str]:
    """The photos to analyse, each once, in the order given: the paths, then the lines of ``from_list``
    (blank lines skipped). A folder stands for the photo files under it (by suffix, sorted)."""
    given = [str(p) for p in paths]
    if from_list is not None:
        try:
            text = Path(from_list).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise BatchError(f"Could not read the list of photos {from_list}: {exc}.",
                             "Give a text file with one photo path a line.") from exc
        given += [line.rstrip("\r") for line in text.split("\n") if line.strip()]
    photos: dict[str, None] = {}
    for name in given:
        if Path(name).is_dir():
            photos.update((str(p), None) for p in sorted(Path(name).rglob("*"))
                          if p.suffix.lower() in PHOTO_SUFFIXES and p.is_file())
        else:
            photos[name] = None
    if not photos:
        raise BatchError("No photos to analyse.", "Give photo files, folders of photos, or --from-list FILE.")
    return list(photos)


# -- one row per photo -----------------------------------------------------------------------------
def flatten(value: Any, prefix: str) -> dict[str, Any]:
    """Nested dicts as dotted columns (``metrics.per_region.forehead.acne``); other values as they are."""
    if not isinstance(value, dict):
        return {prefix: value}
    out: dict[str, Any] = {}
    for k, v in value.items():
        out.update(flatten(v, f"{prefix}.{k}"))
    return out


def row_of(record: dict[str, Any], view: str, model_version: str) -> dict[str, Any]:
    """The Parquet row of one ``analyze --json`` record. ``model_version``: the version the run expects,
    kept on refusals too (which carry none) so a resumed run knows they were done by this model."""
    ok = "error" not in record
    row: dict[str, Any] = {"photo": record["photo"], "view": view,
                           "model_version": record.get("model_version", model_version), "ok": ok,
                           "code": None if ok else record["code"], "error": None if ok else record["error"],
                           "error_advice": None if ok else record["advice"],
                           "advice_codes": [a["code"] for a in record["advice"]] if ok else []}
    for section in RECORD_SECTIONS:
        if section in record:
            row.update(flatten(record[section], section))
    row["json"] = dumps(record)
    return row


def record_of(row: dict[str, Any]) -> dict[str, Any]:
    """The ``analyze --json`` object a row was made from."""
    return json.loads(row["json"])


# -- the output: committed parts, then one file ----------------------------------------------------
class Output:
    """``RESULTS.parquet`` and its parts folder, held by one run at a time (a lock file in the folder)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.parts = self.path.with_name(self.path.name + ".parts")
        self._lock: IO[bytes] | None = None

    def __enter__(self) -> Output:
        if self.path.is_dir():
            raise BatchError(f"{self.path} is a folder.", "Give --out a file name ending in .parquet.")
        try:
            self.parts.mkdir(parents=True, exist_ok=True)
            self._lock = open(self.parts / ".lock", "wb")
        except OSError as exc:
            raise BatchError(f"Cannot write beside {self.path}: {exc.strerror or exc}.",
                             "Choose an --out in a folder you can write to.") from exc
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            self._lock.close()
            raise BatchError(f"Another batch run is writing {self.path}.",
                             "Wait for it to finish, or choose another --out.") from exc
        for stale in [*self.parts.glob(".tmp-*"), self.path.with_name(f".tmp-{self.path.name}")]:
            stale.unlink(missing_ok=True)                # a file being written when a run died
        return self

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(OSError):
            (self.parts / ".lock").unlink()             # while still holding it
        if self._lock is not None:
            self._lock.close()                          # releases the lock
            self._lock = None
        with contextlib.suppress(OSError):
            self.parts.rmdir()                          # only when no part is left in it

    def part_files(self) -> list[Path]:
        return sorted(self.parts.glob("part-*.parquet"))

    def _sources(self) -> list[Path]:
        """Everything written so far, oldest first (the merge keeps the last row of a key)."""
        return ([self.path] if self.path.exists() else []) + self.part_files()

    def done(self, model_version: str) -> set[tuple[str, str]]:
        """(photo, view) of every row already scored by ``model_version``."""
        keys: set[tuple[str, str]] = set()
        for source in self._sources():
            table = _read(source, columns=[*KEY, "model_version"])
            keys.update((photo, view) for photo, view, version in zip(*(table[c].to_pylist() for c in table.column_names))
                        if version == model_version)
        return keys

    def commit(self, rows: list[dict[str, Any]]) -> Path | None:
        """Write ``rows`` as the next part, all or nothing (temporary file, fsync, rename)."""
        if not rows:
            return None
        parts = self.part_files()
        n = int(parts[-1].stem.split("-")[1]) + 1 if parts else 1
        target = self.parts / f"part-{n:06d}.parquet"
        _write_atomically(table_of(rows), target)
        return target

    def finish(self) -> Any:
        """Merge the earlier result and the parts into ``RESULTS.parquet`` (one row per photo and view, the
        newest; sorted by photo), remove the parts; returns the table."""
        import pyarrow as pa
        sources = self._sources()
        if not sources:
            return None
        parts = self.part_files()
        if not parts:
            return _read(self.path)
        table = pa.concat_tables([_read(s) for s in sources], promote_options="permissive")
        newest = {key: i for i, key in enumerate(zip(*(table[k].to_pylist() for k in KEY)))}   # the last row of a key
        table = table.take(pa.array([newest[key] for key in sorted(newest)], pa.int64()))
        table = table.select(_column_order(table.column_names))
        _write_atomically(table, self.path)
        for part in parts:
            part.unlink()
        return table


def table_of(rows: list[dict[str, Any]]) -> Any:
    """Rows as an Arrow table with every column any row has (a refusal has no score columns, a close-up
    fewer than a front scan), null where a row has none. (``Table.from_pylist`` takes the columns of
    the first row only.)"""
    import pyarrow as pa
    names = list(dict.fromkeys(name for row in rows for name in row))
    return pa.table({name: [row.get(name) for row in rows] for name in names})


def _column_order(names: Sequence[str]) -> list[str]:
    first = ["photo", "view", "ok", "model_version", "code", "error", "error_advice", "advice_codes"]
    section = {name: i for i, name in enumerate(RECORD_SECTIONS)}
    rest = sorted((n for n in names if n not in first and n != "json"),
                  key=lambda n: (section.get(n.split(".")[0], len(section)), n))
    return [n for n in first if n in names] + rest + (["json"] if "json" in names else [])


def _read(path: Path, columns: list[str] | None = None) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq
    try:
        return pq.read_table(path, columns=columns)
    except (OSError, pa.ArrowException) as exc:
        raise BatchError(f"{path} is not a batch result this program can read ({exc}).",
                         "Choose another --out, or move that file away.") from exc


def _write_atomically(table: Any, target: Path) -> None:
    """``target`` appears whole or not at all: written under a temporary name (``.tmp-...``, removed
    by the next run if this one dies), flushed to disk, renamed into place."""
    import pyarrow.parquet as pq
    tmp = target.with_name(f".tmp-{target.name}")
    pq.write_table(table, tmp)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(fd)                                    # the rename itself survives a power cut
    finally:
        os.close(fd)


# -- the work --------------------------------------------------------------------------------------
def worker_env(threads: int) -> dict[str, str]:
    """Environment of a process that analyses photos with ``threads`` threads: the model's interpreter
    (``SKINGORITHM_THREADS``), TensorFlow's and OpenMP's pools, and TensorFlow's import settings."""
    from skin_app.config import setup_tensorflow_env
    setup_tensorflow_env()
    env = {k: v for k, v in os.environ.items()
           if k.startswith("SKINGORITHM_") or k in ("SM_FRAMEWORK", "TF_USE_LEGACY_KERAS", "TF_CPP_MIN_LOG_LEVEL")}
    env.update(SKINGORITHM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               TF_NUM_INTRAOP_THREADS=str(threads), TF_NUM_INTEROP_THREADS="1")
    return env


class Analyzer:
    """One loaded model analysing photos for one view with ``threads`` threads: the body of a Ray actor
    (``__call__`` takes and returns a batch of columns) and of the one-process run."""

    def __init__(self, view: str, threads: int = 1) -> None:
        os.environ.update(worker_env(threads))
        import cv2
        cv2.setNumThreads(threads)
        with contextlib.redirect_stdout(sys.stderr):     # segmentation-models prints a banner on import
            from skin_app.scan.segmentation import load_segmenter
            self.seg = load_segmenter()
        self.view = view

    def record(self, photo: str, path: str) -> str:
        """The ``analyze --json`` line of one photo (``path``: where to read it)."""
        return dumps(analyze_file(photo, self.seg, self.view, path))

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[str]]:
        photos = [str(p) for p in batch["photo"]]
        return {"photo": photos, "record": [self.record(p, str(a)) for p, a in zip(photos, batch["path"])]}


def local_records(todo: list[tuple[str, str]], view: str, threads: int = 1) -> Iterator[list[str]]:
    """The one-process run: the records of ``todo`` ((photo, path) pairs), one photo at a time."""
    analyzer = Analyzer(view, threads)
    for photo, path in todo:
        yield [analyzer.record(photo, path)]


# -- progress --------------------------------------------------------------------------------------
@dataclass
class Progress:
    """A progress line on stderr: photos done, photos per second, time left. Redrawn in place on a
    terminal; elsewhere (a log file) a line every ``log_every`` seconds."""
    total: int
    stream: Any = field(default_factory=lambda: sys.stderr)
    log_every: float = 10.0
    done: int = 0
    _first: tuple[float, int] | None = None      # (when, how many) the first results came: the rate starts there
    _last: float = 0.0

    def add(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self._first is None:
            self._first = (now, self.done)
        tty = getattr(self.stream, "isatty", lambda: False)()
        if tty or now - self._last >= self.log_every or self.done >= self.total:
            self._last = now
            self.stream.write(("\r" if tty else "") + self.line(now) + ("" if tty else "\n"))
            self.stream.flush()

    def rate(self, now: float | None = None) -> float:
        """Photos per second since the first results (start-up and model loading not counted)."""
        if self._first is None:
            return 0.0
        elapsed = (now if now is not None else time.monotonic()) - self._first[0]
        return (self.done - self._first[1]) / elapsed if elapsed > 0 else 0.0

    def line(self, now: float | None = None) -> str:
        rate = self.rate(now)
        left = (self.total - self.done) / rate if rate > 0 else math.inf
        width = 24
        filled = int(width * self.done / self.total) if self.total else width
        return (f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} photos  "
                f"{rate:.2f} photos/s  ETA {_duration(left)}")

    def close(self) -> None:
        if getattr(self.stream, "isatty", lambda: False)():
            self.stream.write("\n")
            self.stream.flush()


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "--"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s" if m else f"{s}s"


# -- a run -----------------------------------------------------------------------------------------
@dataclass
class Summary:
    """What a run did: photos asked for, already done before, analysed now, refused now; the table."""
    photos: int
    skipped: int
    analysed: int = 0
    refused: int = 0
    other_versions: set[str] = field(default_factory=set)
    table: Any = None


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def stops_deferred(replay: bool = True) -> Iterator[None]:
    """Ctrl+C and SIGTERM that arrive inside the block are held and raised again when it ends (dropped
    with ``replay`` false: the run is stopping already). Used around a commit: a stop that landed after a
    part's rename but before its rows left the buffer committed them a second time (a CI run saw 20 part
    rows for 16 photos). Python runs signal handlers in the main thread only, so the handlers are swapped
    there for the block (a signal mask would not do: another thread can take the signal); in any other
    thread this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _frame: held.append(signum)) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        for signum in dict.fromkeys(held) if replay else ():
            signal.raise_signal(signum)                 # to the handler the caller had


class Interrupted(Exception):
    """The run was stopped (Ctrl+C or SIGTERM); what was done is committed."""

    def __init__(self, summary: Summary) -> None:
        super().__init__("interrupted")
        self.summary = summary


Engine = Callable[[list[tuple[str, str]]], Iterable[list[str]]]


def run_batch(photos: list[str], out: str | Path, view: str, engine: Engine, model_version: str,
              progress_stream: Any = None, part_photos: int = PART_PHOTOS,
              part_seconds: float = PART_SECONDS, stop_requested: Callable[[], bool] = lambda: False) -> Summary:
    """Analyse the photos of ``photos`` not yet in ``out`` for ``model_version``, committing parts as
    they come; when all are done, merge ``out``. ``engine`` turns (photo, path) pairs into batches of
    ``analyze --json`` lines (``local_records``, ``on_ray.ray_records``).
    Raises ``Interrupted`` on KeyboardInterrupt after committing what was done, and likewise after the
    batch in hand once ``stop_requested()`` says so: Ray defers a Ctrl+C that arrives inside some of its
    calls, and a KeyboardInterrupt raised in its threads may never reach this loop."""
    with Output(out) as output:
        done = output.done(model_version)
        todo = [(p, os.path.abspath(p)) for p in photos if (p, view) not in done]
        summary = Summary(photos=len(photos), skipped=len(photos) - len(todo))
        progress = Progress(len(todo), stream=progress_stream or sys.stderr)
        buffer: list[dict[str, Any]] = []
        last_commit = time.monotonic()
        batches = iter(engine(todo) if todo else ())
        try:
            for lines in batches:
                for line in lines:
                    row = row_of(json.loads(line), view, model_version)
                    buffer.append(row)
                    summary.analysed += row["ok"]
                    summary.refused += not row["ok"]
                    if row["model_version"] != model_version:
                        summary.other_versions.add(row["model_version"])
                progress.add(len(lines))
                if len(buffer) >= part_photos or time.monotonic() - last_commit >= part_seconds:
                    with stops_deferred():               # the part and the emptied buffer go together
                        output.commit(buffer)
                        buffer, last_commit = [], time.monotonic()
                if stop_requested():
                    raise KeyboardInterrupt
        except KeyboardInterrupt:
            with stops_deferred(replay=False):          # a second Ctrl+C does not cut the last part short
                output.commit(buffer)
            progress.close()
            raise Interrupted(summary) from None
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()                                 # the engine stops (Ray shuts down) whatever happened
        output.commit(buffer)
        progress.close()
        summary.table = output.finish()
    return summary


def write_jsonl(table: Any, target: str | Path) -> None:
    """The ``json`` column, one line a photo (``-``: stdout), as ``analyze --json`` prints them."""
    lines = "".join(f"{line}\n" for line in table["json"].to_pylist())
    if str(target) == "-":
        sys.stdout.write(lines)
        sys.stdout.flush()
        return
    target = Path(target)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    tmp.write_text(lines, encoding="utf-8")
    os.replace(tmp, target)


def read_results(path: str | Path) -> Any:
    """A finished batch result as a pandas DataFrame."""
    return _read(Path(path)).to_pandas()


# -- the summary report ----------------------------------------------------------------------------
def report_frame(table: Any) -> Any:
    """The batch table as a DataFrame for the report, with each analysed face's skin-tone band
    (``tone_band``, from ``metrics.skin_ita``; "unknown" where the scan has no ITA)."""
    from skin_app.scan.tone import band_of
    rows = table.to_pandas()
    ita = rows["metrics.skin_ita"] if "metrics.skin_ita" in rows else None
    rows["tone_band"] = [band_of(None if v is None else float(v)) or "unknown"
                         for v in (ita if ita is not None else [None] * len(rows))]
    return rows


def report_html(table: Any, title: str = "SkinGorithm batch report") -> str:
    """One self-contained HTML page (plotly.js inlined once, nothing fetched): counts, refusal reasons,
    each concern's distribution, scores by skin-tone band and by view."""
    import html

    from skin_app import charts
    from skin_app.concerns import VIEW_LABELS, VIEWS
    from skin_app.scan.tone import BAND_NAMES
    rows = report_frame(table)
    bands = {b: b.replace("_", " ") for b in BAND_NAMES}
    figures = [charts.batch_counts_figure(rows), charts.batch_refusals_figure(rows),
               charts.batch_distributions_figure(rows),
               charts.batch_scores_by_figure(rows[rows["ok"]], "tone_band", [*BAND_NAMES, "unknown"], bands,
                                             "Scores by skin-tone band (ITA)"),
               charts.batch_scores_by_figure(rows[rows["ok"]], "view", VIEWS, VIEW_LABELS, "Scores by view")]
    analysed, refused = int(rows["ok"].sum()), int((~rows["ok"]).sum())
    versions = ", ".join(sorted(set(rows.loc[rows["ok"], "model_version"]))) or "none"
    body = "\n".join(fig.to_html(full_html=False, include_plotlyjs=(i == 0), default_width="100%")
                     for i, fig in enumerate(figures))
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            "<style>body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}</style></head><body>\n"
            f"<h1>{html.escape(title)}</h1>\n<p>{len(rows)} photos: {analysed} analysed, {refused} refused. "
            f"Model: {html.escape(versions)}.</p>\n{body}\n</body></html>\n")


def write_report(table: Any, target: str | Path) -> None:
    target = Path(target)
    tmp = target.with_name(f".tmp-{target.name}")
    tmp.write_text(report_html(table), encoding="utf-8")
    os.replace(tmp, target)
