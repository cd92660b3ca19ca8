"""Seeded fuzz corpora and one runner, shared by tests/test_fuzz_*.py (small, in test.sh) and
bench/bench_hostile.py (larger, figures in bench/README.md).

Each class of input is built from a seed, so a failure names an input that can be made again. The runner
feeds every input of a class to the app's entry point in a fresh process and records, per input, a
result or a refusal (the error's ``code``), anything else as a crash, the slowest input, and the
process's peak resident memory over its baseline (Linux ``ru_maxrss``, taken after the imports and the
corpus are in memory).
"""
from __future__ import annotations

import csv
import io
import json
import random
import subprocess
import sys
import textwrap
import zipfile
from datetime import date, datetime, time, timezone
from typing import Any

from tests.hostile import (
    HOSTILE_TEXTS,
    ROOT,
    deep_json,
    directory_bomb,
    jpeg_scan_bomb,
    jpeg_with_exif,
    mutate,
    png_header_only,
    png_of_zeros,
    tiff_of_zeros,
    tiff_with_tags,
    zip_with_lying_header,
)

CLASSES = ("jpeg", "png", "heic", "tiff", "webp_bmp", "crafted_headers", "big_but_allowed", "json_bundles",
           "zip_bundles", "routine_text", "ingredient_text")
IMAGE_CLASSES = CLASSES[:7]


# -- images ------------------------------------------------------------------------------------------
def _face(size: int = 256):
    import numpy as np
    from PIL import Image

    from tests.photos import astronaut_jpeg
    face = Image.open(io.BytesIO(astronaut_jpeg())).convert("RGB").resize((size, size))
    return np.asarray(face)


def _seeds(fmt: str) -> list[bytes]:
    import numpy as np
    from PIL import Image

    from tests.hostile import encoded
    face = _face()
    out = []
    if fmt == "jpeg":
        out = [encoded(face, "JPEG", quality=90), encoded(face, "JPEG", quality=70, progressive=True)]
        exif = Image.Exif()
        exif[0x0112] = 6
        buf = io.BytesIO()
        Image.fromarray(face).save(buf, format="JPEG", exif=exif.tobytes())
        out.append(buf.getvalue())
    elif fmt == "png":
        rgba = np.dstack([face, np.full(face.shape[:2], 200, np.uint8)])
        out = [encoded(face, "PNG"), encoded(rgba, "PNG"),
               encoded(np.asarray(Image.fromarray(face).convert("L")).astype(np.uint16) * 257, "PNG"),
               encoded(np.asarray(Image.fromarray(face).convert("P")), "PNG")]
    elif fmt == "heic":
        out = [encoded(face, "HEIF", quality=80)]
    elif fmt == "tiff":
        out = [encoded(face, "TIFF"), encoded(face, "TIFF", compression="tiff_deflate"),
               tiff_of_zeros(300, 200, rows_per_strip=16), tiff_of_zeros(200, 300, bits=16, sample_format=1, samples=3)]
    elif fmt == "webp_bmp":
        out = [encoded(face, "WEBP", quality=80), encoded(face, "BMP")]
    return out


def image_inputs(cls: str, seed: int, n: int) -> list[tuple[str, bytes]]:
    """``n`` inputs of one image class: seeded mutations of real files, or crafted headers."""
    rng = random.Random(f"{cls}-{seed}")
    if cls == "crafted_headers":
        crafted = [("png 0x0", png_header_only(0, 0)), ("png 1x50000", png_of_zeros(1, 50_000)),
                   ("png 50000x1", png_of_zeros(50_000, 1)), ("png 65535x65535 claim", png_header_only(65535, 65535)),
                   ("png 2^31 claim", png_header_only(2**31 - 1, 2**31 - 1)),
                   ("tiff float one strip 39.5 MP", tiff_of_zeros(7000, 5650)),
                   ("tiff 16-bit RGB one strip", tiff_of_zeros(4000, 3000, bits=16, sample_format=1, samples=3)),
                   ("png 16-bit RGBA 39.5 MP", png_of_zeros(7000, 5650, 16, 6)),
                   ("gif", b"GIF89a" + bytes(200)), ("empty", b""), ("zeros", bytes(4096)),
                   ("text", b"not a photo at all" * 50), ("jpeg magic only", b"\xff\xd8\xff" + bytes(100)),
                   ("heif brand only", b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + bytes(64)),
                   ("riff webp only", b"RIFF\x10\0\0\0WEBPVP8 " + bytes(64)),
                   ("jpeg of 5,300 scans", jpeg_scan_bomb()),
                   ("tiff of 20,000 tags on one block", tiff_with_tags(20_000, 128_000)),
                   ("jpeg exif of 550 entries on one block", jpeg_with_exif(directory_bomb(550, 1_450_000))),
                   ("jpeg of 2 MB of Exif prefixes", jpeg_with_exif(b"Exif\0\0" * 350_000 + directory_bomb(1, 8)))]
        return crafted[:n] if n < len(crafted) else crafted
    if cls == "big_but_allowed":
        return [("png RGBA 39.5 MP", png_of_zeros(7000, 5650, 8, 6)),
                ("tiff float strips 39.5 MP", tiff_of_zeros(7000, 5650, rows_per_strip=16)),
                ("png grey 16-bit 20 MP", png_of_zeros(5000, 4000, 16, 0)),
                ("png 16-bit RGB 39.5 MP", png_of_zeros(7000, 5650, 16, 2))][:max(1, n)]
    seeds = _seeds(cls)
    out = [(f"{cls} seed {i}", s) for i, s in enumerate(seeds)]
    while len(out) < n:
        i = rng.randrange(len(seeds))
        out.append((f"{cls} mutant {len(out)} of seed {i}", mutate(seeds[i], rng, flips=rng.randrange(1, 24))))
    return out


# -- import bundles ----------------------------------------------------------------------------------
def _export_documents() -> tuple[bytes, bytes]:
    """A real profile's JSON and CSV-ZIP exports, made in a throwaway database."""
    import tempfile
    from pathlib import Path

    from skin_app.history.export import export_csv_zip, export_json
    from skin_app.routines.schedule import Routine, Schedule, Step
    from skin_app.storage import Storage
    from tests.photos import small_png
    with tempfile.TemporaryDirectory() as tmp:
        db = Storage(Path(tmp) / "seed.sqlite3")
        p = db.create_profile("Ada")
        scores = {"acne": 91.5, "flek": 88.0, "wrinkle": 95.25, "panda_eye": 80.0, "overall": 88.69}
        for day in (1, 8):
            db.add_scan(p.id, taken_at=f"2025-03-{day:02d}T08:00:00+00:00", scores=scores,
                        metrics={"acne_lesion_count": 3, "per_region": {"forehead": {"acne": 0.01}}},
                        model_version="m1", note="note", crop_png=small_png(day), masks_png=small_png(day + 1))
        serum = db.save_shelf_product(p.id, "Serum", "Aqua, Niacinamide", inci=["AQUA", "NIACINAMIDE"],
                                      actives={"niacinamide": ["Niacinamide"]})
        r = db.create_routine(p.id, Routine("Night", Schedule("weekdays", time(21, 30), "Europe/Berlin",
                                                              date(2025, 3, 1), weekdays=(0, 2, 4)),
                                            (Step("Cleanse"), Step("Serum", serum.name, serum.id)),
                                            created_at=datetime(2025, 3, 1, tzinfo=timezone.utc)))
        assert r.id is not None
        db.mark_routine(r.id, date(2025, 3, 3), "done", profile_id=p.id)
        data = export_json(db, p.id), export_csv_zip(db, p.id)
        db.close()
    return data


_HOSTILE_VALUES: list[Any] = [None, True, -1, 0, 2**63, -2**63 - 1, 10**30, 1e308, float("inf"), "", " ", "9" * 30,
                   "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "0001-01-01", "9999-12-31", "25:99",
                   "Mars/Olympus", [], {}, [[[[]]]], {"a": {"b": {}}}, *HOSTILE_TEXTS,
                   # issue 26: numbers that overflow float(), lone surrogates, the calendar's ends in UTC
                   10**400, float("nan"), -1e308, "lone \ud800 surrogate", {"\udcff": 1},
                   "0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00"]
_MEASUREMENTS = ("soft_fraction", "area_fraction", "under_eye_contrast", "acne_lesion_count")


def _mutate_document(doc: dict, rng: random.Random) -> dict:
    doc = json.loads(json.dumps(doc))
    for _ in range(rng.randrange(1, 4)):
        tables = [t for t in ("scans", "shelf_products", "routines", "routine_steps", "routine_log")
                  if isinstance(doc.get(t), list) and doc[t] and all(isinstance(r, dict) and r for r in doc[t])]
        if not tables:
            break
        table = rng.choice(tables)
        row = rng.choice(doc[table])
        key = rng.choice(list(row))
        how = rng.randrange(5)
        if how == 0:
            row[key] = rng.choice(_HOSTILE_VALUES)
        elif how == 1:
            del row[key]
        elif how == 2:
            doc[table].append(dict(row))                              # duplicate id
        elif how == 3 and table == "scans":
            if rng.random() < 0.5:
                row["metrics"] = {"deep": f"__DEEP_{rng.choice((30, 500, 5000))}__"}     # spelled out by _dumps
            else:                          # a measurement re-scoring reads, made hostile (issue 26's 703-byte file)
                value: Any = rng.choice([10**400, -10**400, float("nan"), float("inf"), 1e308, "\ud800", None, []])
                row["metrics"] = {rng.choice(_MEASUREMENTS): value if rng.random() < 0.5 else {"acne": value}}
        else:
            doc[table] = rng.choice([None, "x", [1, 2], [{}] * 3, {"a": 1}])
    return doc


def _dumps(doc: dict) -> bytes:
    """JSON text, with each ``"__DEEP_n__"`` marker replaced by a list nested n deep (too deep for
    ``json.dumps`` to write itself)."""
    text = json.dumps(doc)
    for depth in (30, 500, 5000):
        text = text.replace(f'"__DEEP_{depth}__"', "[" * depth + "0" + "]" * depth)
    return text.encode()


def _zip_with(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buf.getvalue()


def bundle_inputs(cls: str, seed: int, n: int) -> list[tuple[str, str, bytes]]:
    """``n`` (label, file name, bytes) imports: structural and byte-level mutations of real exports,
    and crafted bombs."""
    rng = random.Random(f"{cls}-{seed}")
    json_doc, zip_doc = _export_documents()
    out: list[tuple[str, str, bytes]] = []
    if cls == "json_bundles":
        doc = json.loads(json_doc)
        out += [("real export", "x.json", json_doc), ("deep 100k", "x.json", deep_json(100_000)),
                ("huge int", "x.json", b'{"format": "skingorithm-profile", "format_version": 1, "scans": [{"id": '
                 + b"9" * 50_000 + b"}]}"),
                ("many containers", "x.json", b'{"format": "skingorithm-profile", "format_version": 1, "scans": ['
                 + b"{}," * 2_000_000 + b"{}]}"),
                ("not utf-8", "x.json", b"{\xff\xfe}"),
                ("120k records of two objects each, just under the container cap", "x.json",
                 b'{"format": "skingorithm-profile", "format_version": 1, "scans": [' + b",".join(
                     [b'{"id": 1, "taken_at": "2025-01-01", "note": "xxxxxxxxxxxxxxxxxxxx", "x": [1]}'] * 120_000)
                 + b"]}")]
        scan = doc["scans"][0]
        for label, change in (("issue 26: 400-digit measurement", {"metrics": {"soft_fraction": {"acne": 10**400}}}),
                              ("issue 26: surrogate measurement key", {"metrics": {"\udcff": 1.0}}),
                              ("issue 26: year 1 in UTC", {"taken_at": "0001-01-01T00:00:00+00:00"}),
                              ("issue 26: year 9999 in UTC", {"taken_at": "9999-12-31T23:59:59+00:00"})):
            out.append((label, "x.json", _dumps({**doc, "scans": [{**scan, **change}]})))
        while len(out) < n:
            if rng.random() < 0.7:
                out.append((f"mutated document {len(out)}", "x.json", _dumps(_mutate_document(doc, rng))))
            else:
                out.append((f"mutated bytes {len(out)}", "x.json", mutate(json_doc, rng)))
    else:
        names = zipfile.ZipFile(io.BytesIO(zip_doc)).namelist()
        members = {name: zipfile.ZipFile(io.BytesIO(zip_doc)).read(name) for name in names}
        big_csv = "taken_at,overall,acne,flek,wrinkle,panda_eye,note\n" + \
            "".join(f"2025-01-01T08:{i % 60:02d}:00Z,90,90,90,90,90,{'=x' * 40}\n" for i in range(3000))
        out += [("real export", "x.zip", zip_doc),
                ("lying header 300 MB", "x.zip", zip_with_lying_header("scans.csv", 300 * 1024 * 1024, 100)),
                ("one picture for 200 scans", "x.zip", _zip_with({
                    "scans.csv": ("taken_at,overall,acne,flek,wrinkle,panda_eye,picture\n" + "".join(
                        f"2025-01-01T08:{i % 60:02d}:{i // 60:02d}Z,90,90,90,90,90,p.png\n" for i in range(200))).encode(),
                    "p.png": members[next(m for m in names if m.endswith(".png"))]})),
                ("200 MB picture claim", "x.zip", _zip_with({
                    "scans.csv": b"taken_at,overall,acne,flek,wrinkle,panda_eye,picture\n2025-01-01,90,90,90,90,90,p.png\n",
                    "p.png": png_of_zeros(8000, 6000)})),
                ("cell over 131072", "x.zip", _zip_with({"scans.csv": ("note,taken_at\n\"" + "x" * 300_000
                                                                        + "\",2025-01-01\n").encode()})),
                ("3000 formula rows", "scans.csv", big_csv.encode()),
                ("missing member", "x.zip", _zip_with({"scans.csv": b"taken_at,overall,picture\n2025-01-01,90,nope.png\n"}))]
        while len(out) < n:
            how = rng.randrange(3)
            if how == 0:
                out.append((f"mutated zip bytes {len(out)}", "x.zip", mutate(zip_doc, rng)))
            else:
                changed = dict(members)
                name = rng.choice([m for m in names if m.endswith(".csv")])
                text = changed[name].decode()
                lines = text.splitlines()
                i = rng.randrange(1, max(2, len(lines)))
                cells = lines[min(i, len(lines) - 1)].split(",")
                cells[rng.randrange(len(cells))] = str(rng.choice(_HOSTILE_VALUES)).replace(",", ";")
                lines[min(i, len(lines) - 1)] = ",".join(cells)
                changed[name] = "\n".join(lines).encode("utf-8", "surrogatepass")     # a surrogate as bad UTF-8
                out.append((f"mutated {name} {len(out)}", "x.zip", _zip_with(changed)))
    return out


# -- text ----------------------------------------------------------------------------------------------
def text_inputs(cls: str, seed: int, n: int) -> list[str]:
    rng = random.Random(f"{cls}-{seed}")
    out = list(HOSTILE_TEXTS)
    alphabet = "aZ0 ,;:|()[]{}<>!*_`#%$@=+-\t\n\r\x00\x07\x1b\u202e\u200b\ufeffé中😀"
    while len(out) < n:
        length = rng.choice((1, 10, 80, 81, 200, 201, 2000, 50_000))
        out.append("".join(rng.choice(alphabet) for _ in range(length)))
    return out[:n]


# -- the runner ------------------------------------------------------------------------------------------
_RUNNER = textwrap.dedent("""
    import json, resource, sys, time, traceback
    sys.path.insert(0, {root!r})
    from skin_app.config import setup_tensorflow_env; setup_tensorflow_env()
    from tests import fuzz_corpus as fc
    from skin_app.errors import UserFacingError
    cls, seed, n = {cls!r}, {seed!r}, {n!r}
    inputs, feed = fc.prepare(cls, seed, n)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stats = {{"class": cls, "seed": seed, "tried": 0, "accepted": 0, "refused": {{}}, "crashes": [],
              "slowest_s": 0.0, "slowest": ""}}
    for label, item in inputs:
        t = time.perf_counter()
        try:
            outcome = feed(item)
        except Exception as exc:
            outcome = ("crash", "".join(traceback.format_exception_only(type(exc), exc)).strip()[-400:])
        took = time.perf_counter() - t
        stats["tried"] += 1
        if took > stats["slowest_s"]:
            stats["slowest_s"], stats["slowest"] = round(took, 3), label
        if outcome[0] == "ok":
            stats["accepted"] += 1
        elif outcome[0] == "refused":
            stats["refused"][outcome[1]] = stats["refused"].get(outcome[1], 0) + 1
        else:
            stats["crashes"].append([label, outcome[1]])
    stats["baseline_mb"] = round(base, 1)
    stats["peak_over_baseline_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base, 1)
    print(json.dumps(stats))
""")


def prepare(cls: str, seed: int, n: int):
    """The inputs of a class and the function that feeds one to the app: ``("ok", ...)``,
    ``("refused", code)`` for a clear refusal (a :class:`UserFacingError` or the import's own errors);
    anything it raises is a crash."""
    from skin_app.errors import UserFacingError
    if cls in IMAGE_CLASSES:
        from skin_app.scan.imaging import load_image

        def feed(data):
            try:
                loaded = load_image(data)
            except UserFacingError as exc:
                return "refused", exc.code
            assert loaded.rgb.dtype.name == "uint8" and loaded.rgb.ndim == 3 and loaded.rgb.shape[2] == 3
            return "ok", loaded.rgb.shape
        return image_inputs(cls, seed, n), feed
    if cls in ("json_bundles", "zip_bundles"):
        import tempfile
        from pathlib import Path

        from skin_app.history.export import import_bundle, read_bundle
        from skin_app.storage import DatabaseError, Storage
        db = Storage(Path(tempfile.mkdtemp()) / "fuzz.sqlite3")

        def feed(item):
            name, data = item
            try:
                summary = import_bundle(db, read_bundle(data, name))
            except UserFacingError as exc:
                return "refused", exc.code
            except (ValueError, DatabaseError) as exc:       # storage's own refusals, in words
                return "refused", type(exc).__name__
            after_import(db, summary.profile_id)
            return "ok", summary.scans_added
        return [(label, (name, data)) for label, name, data in bundle_inputs(cls, seed, n)], feed
    if cls == "routine_text":
        import tempfile
        from pathlib import Path

        from skin_app.routines.ics import to_ics
        from skin_app.routines.schedule import Routine, RoutineError, Schedule, Step
        from skin_app.storage import Storage
        db = Storage(Path(tempfile.mkdtemp()) / "fuzz.sqlite3")
        pid = db.create_profile("Fuzz").id

        def feed(text):
            routine = Routine(text, Schedule("daily", time(8, 0), "UTC", date(2025, 1, 1)),
                              (Step(text, text[:150] or None), Step("Cleanse")))
            try:
                saved = db.create_routine(pid, routine)
            except RoutineError:
                return "refused", "routine_rules"
            ics = to_ics([saved], now=datetime(2025, 1, 1, tzinfo=timezone.utc))
            assert not any(c < 32 and c not in (9, 10, 13) for c in ics), "control character in the .ics"
            return "ok", len(ics)
        return [(repr(t[:40]), t) for t in text_inputs(cls, seed, n)], feed
    if cls == "ingredient_text":
        from skin_app.history.export import unknown_ingredients_csv
        from skin_app.ingredients.report import IngredientInputError, analyse
        from skin_app.storage import UnknownIngredient

        def feed(text):
            try:
                report = analyse(text)
            except IngredientInputError:
                return "refused", "ingredient_input"
            rows = [UnknownIngredient(u, 1, "2025-01-01", "2025-01-01", text[:50]) for p in report.products
                    for u in p.unknown]
            for cells in list(csv.reader(io.StringIO(unknown_ingredients_csv(rows).decode())))[1:]:
                assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], cells
            return "ok", len(report.products)
        return [(repr(t[:40]), t) for t in text_inputs(cls, seed, n)], feed
    raise ValueError(f"unknown class {cls}")


def after_import(db, profile_id: int) -> None:
    """What the app does with an imported profile next: the next start re-scores every scan, Progress
    shows each time in the viewer's zone (one at each end of UTC), and the profile exports again in
    both formats. None of it may raise."""
    from zoneinfo import ZoneInfo

    from skin_app.history.export import export_csv_zip, export_json
    from skin_app.scan.calibration import load_calibration
    from skin_app.values import local_time
    cal = load_calibration()
    db.rescore_scans(cal.version, cal.rescore_legacy)
    for scan in db.list_scans(profile_id):
        for zone in ("America/New_York", "Pacific/Kiritimati"):
            moment = local_time(scan.taken_at, ZoneInfo(zone))
            assert moment is not None and moment.strftime("%d %b %Y, %H:%M")
    export_json(db, profile_id).decode("utf-8")
    export_csv_zip(db, profile_id)


def run_class(cls: str, seed: int = 1, n: int = 40, timeout: float = 120) -> dict:
    """Feeds a class's inputs to the app in a fresh process; the stats described in the module docstring."""
    code = _RUNNER.format(root=str(ROOT), cls=cls, seed=seed, n=n)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"the {cls} fuzz process died (status {proc.returncode}): {proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def assert_handled(stats: dict, budget_mb: float, tried: int | None = None, min_refused: int = 1,
                   min_accepted: int = 1) -> None:
    """What every fuzz class must show: no crash, no hang (10 s per input), something accepted and
    something refused (so the corpus means something), and peak memory inside the budget."""
    assert stats["crashes"] == []
    if tried is not None:
        assert stats["tried"] == tried
    assert stats["accepted"] >= min_accepted and sum(stats["refused"].values()) >= min_refused, stats
    assert stats["slowest_s"] < 10, stats["slowest"]
    assert stats["peak_over_baseline_mb"] < budget_mb, stats


# -- long pastes (issues 23 and 26: every text path linear in its input) ----------------------------------
LONG_PASTE_CHARS = 200_000        # the analyzer's input limit (limits.INGREDIENT_INPUT_MAX)


def long_pastes(seed: int, chars: int = LONG_PASTE_CHARS) -> list[tuple[str, str]]:
    """Pastes of ``chars`` characters built from one short unit repeated: runs of whitespace and punctuation,
    the openers of every multi-part pattern the parser has (shade blocks, kit headings, HTML blocks, headers),
    long tokens, and a seeded random mix of the fuzz alphabet. Each once cost the parser quadratic time or worse
    (40,000 spaces: 122 s; 15,000 "(may contain": minutes)."""
    units: dict[str, str | None] = {
        "spaces between names": None, "spaces": " ", "NBSP": "\u00a0", "tabs": "\t", "newlines": "\n",
        "zero-width spaces": "\u200b", "space dot": " .", "space dash": " -", "dots": ".", "commas": ",",
        "(may contain": "(may contain", "[may contain": "[may contain ", "may contain + space": "may contain ",
        "ingredients /": "ingredients / ", "Product Name:": "Product Name: ", "First Bar:": "First Bar: ",
        "Step 1 A:": ". Step 1 A: ", "<script>": "<script>", "<!--": "<!--", "C. I.": "C. I. ", "1, ": "1, ",
        "digits": "1", "(and)": "Water (and) ", "footnote stars": "Water * a", "free of": "Water free of ",
        "one letter": "a", "one long name": "Glycerin", "parentheses": "(", "brackets": "[", "colons": ": ",
        "+/-": "+/- ", "unknown names": None,
    }
    rng = random.Random(f"long-{seed}")
    out = []
    for label, unit in units.items():
        if label == "spaces between names":
            text = "Water" + " " * (chars - 20) + ", Glycerin"
        elif label == "unknown names":
            text = ", ".join("".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(10)) for _ in range(chars // 12))
        else:
            assert unit is not None
            text = unit * (chars // len(unit))
        out.append((label, text[:chars]))
    alphabet = "aZ0 ,;:|()[]{}<>!*_`#%$@=+-\t\n\r\x00\x07\x1b\u202e\u200b\ufeffé中😀"
    out.append(("random fuzz alphabet", "".join(rng.choice(alphabet) for _ in range(chars))))
    return out
